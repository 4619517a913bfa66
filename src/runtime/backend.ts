import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tf } from './tf.js';
import { registerWasmGradients } from './kernels/wasm-grads.js';
import { registerWasmOverrides } from './kernels/wasm-overrides.js';

// Chooses the TensorFlow.js backend at run time: the first of tfjs-node-gpu (CUDA), tfjs-node,
// wasm, cpu that loads. Both tfjs-node packages are optional dependencies: where they cannot
// install, npm skips them and tlr says why here.

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendStatus {
  readonly name: BackendName;
  readonly package: string;
  readonly available: boolean;
  readonly reason: string;
}

const PACKAGES: Record<BackendName, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs (pure JavaScript)',
};

const require = createRequire(import.meta.url);

function why(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'MODULE_NOT_FOUND' || err.code === 'ERR_MODULE_NOT_FOUND') return 'not installed';
  const first = String(err.message ?? e).split('\n')[0]!;
  if (/libcuda|libcudart|cudnn/i.test(first)) return `no CUDA: ${first}`;
  return `failed to load: ${first}`;
}

async function load(name: BackendName): Promise<void> {
  if (name === 'tensorflow-gpu' || name === 'tensorflow') {
    // The native bindings register their backend (named 'tensorflow') as a side effect.
    require(PACKAGES[name]);
    if (!tf.findBackend('tensorflow')) throw new Error('loaded, but registered no backend');
    return;
  }
  if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    // wasm has no gradient kernels for convolution filters and depthwise convolutions; tlr adds them,
    // and replaces kernels wasm runs on slow paths (transposed products, Tile, the input gradient).
    registerWasmGradients();
    registerWasmOverrides();
  }
}

/** Every backend, whether it loads and why not; loading one registers it with tf. */
export async function probeBackends(): Promise<BackendStatus[]> {
  const out: BackendStatus[] = [];
  for (const name of BACKENDS) {
    try {
      await load(name);
      const ok = await tf.setBackend(name === 'tensorflow-gpu' ? 'tensorflow' : name);
      out.push({ name, package: PACKAGES[name], available: ok, reason: ok ? 'loads' : 'registered, but failed to initialise' });
    } catch (e) {
      out.push({ name, package: PACKAGES[name], available: false, reason: why(e) });
    }
  }
  return out;
}

/** Sets the backend: `forced`, or the first that loads. Throws with the reason when a forced one cannot. */
export async function chooseBackend(forced?: string): Promise<BackendName> {
  if (forced) {
    if (!(BACKENDS as readonly string[]).includes(forced)) throw new Error(`unknown backend ${forced}; backends: ${BACKENDS.join(', ')}`);
    const name = forced as BackendName;
    try {
      await load(name);
    } catch (e) {
      throw new Error(`backend ${name} (${PACKAGES[name]}) is not usable: ${why(e)}`);
    }
    if (!(await tf.setBackend(name === 'tensorflow-gpu' ? 'tensorflow' : name))) throw new Error(`backend ${name} failed to initialise`);
    await tf.ready();
    return name;
  }
  for (const name of BACKENDS) {
    try {
      await load(name);
      if (await tf.setBackend(name === 'tensorflow-gpu' ? 'tensorflow' : name)) {
        await tf.ready();
        return name;
      }
    } catch {
      // try the next one
    }
  }
  throw new Error('no TensorFlow.js backend could be loaded');
}

/** Gradient kernels a backend lacks among those training a network needs. */
export function missingTrainingKernels(backend = tf.getBackend()): string[] {
  const needed = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'MaxPoolGrad', 'AvgPoolGrad'];
  return needed.filter((k) => !tf.getKernel(k, backend));
}

/** The GPU's name as the NVIDIA driver reports it, or null (no driver, no GPU). */
export function gpuName(): string | null {
  const r = spawnSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], { encoding: 'utf8', timeout: 5000 });
  const name = r.status === 0 ? r.stdout.split('\n')[0]!.trim() : '';
  return name || null;
}

/** The backend as reports show it: with the GPU's name on CUDA. */
export const backendLabel = (b: BackendName): string => {
  const gpu = b === 'tensorflow-gpu' ? gpuName() : null;
  return gpu ? `${b} (${gpu})` : b;
};
