import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tf } from './tf.js';
import { registerWasmGradients } from './kernels/wasm-grads.js';
import { registerWasmOverrides } from './kernels/wasm-overrides.js';
import { convChoice, convThreads, ortKernelsOn, ortNative, useConvEngine } from './kernels/ort-kernels.js';
import { TlrError, UsageError } from '../../errors.js';

// TensorFlow.js backends, one descriptor each: its name, package, how it loads, whether it computes
// on one thread, and which kernels tlr adds. The run picks the first that loads (or the forced
// one). Both tfjs-node packages are optional dependencies: where they cannot install, npm skips
// them and tlr says why. To add a backend: a descriptor in BACKENDS, in order of preference.

export interface Backend {
  readonly name: string;
  readonly package: string;
  /** The name tf registers it under (tfjs-node-gpu registers 'tensorflow' too). */
  readonly tfName: string;
  /** Computes on one thread, so inference passes go to worker threads (one per core). */
  readonly singleThreaded: boolean;
  /** What tlr adds to it, for `tlr doctor`. */
  readonly adds: string;
  /** Loads the package and registers the backend with tf (and tlr's kernels); throws when it cannot. */
  load(): Promise<void>;
  /** What `tlr doctor` adds after the name once the backend is in use (wasm: whether SIMD is on). */
  detail?(): string;
}

const require = createRequire(import.meta.url);

let convsWhyNot: string | null = null;

/** Where the wasm backend's convolutions run, and why there. */
export function convolutionsLabel(): string {
  if (ortKernelsOn()) {
    const n = ortNative();
    let threads: string;
    try {
      threads = `${convThreads()} thread${convThreads() === 1 ? '' : 's'}`;
    } catch (e) {
      threads = (e as Error).message;
    }
    return `ONNX Runtime ${'version' in n ? n.version : ''} (native CPU kernels, ${threads})`;
  }
  if (convsWhyNot) return `wasm (XNNPACK): ${convsWhyNot}`;
  return `wasm (XNNPACK), ${convChoice()}`;
}

/** The native bindings register their backend (named 'tensorflow') as a side effect of loading. */
const native = (pkg: string) => async () => {
  require(pkg);
  if (!tf.findBackend('tensorflow')) throw new Error('loaded, but registered no backend');
};

export const BACKENDS = [
  {
    name: 'tensorflow-gpu',
    package: '@tensorflow/tfjs-node-gpu',
    tfName: 'tensorflow',
    singleThreaded: false,
    adds: 'nothing',
    load: native('@tensorflow/tfjs-node-gpu'),
  },
  {
    name: 'tensorflow',
    package: '@tensorflow/tfjs-node',
    tfName: 'tensorflow',
    singleThreaded: false,
    adds: 'nothing',
    load: native('@tensorflow/tfjs-node'),
  },
  {
    name: 'wasm',
    package: '@tensorflow/tfjs-backend-wasm',
    tfName: 'wasm',
    singleThreaded: true,
    adds:
      'gradient kernels for convolutions; faster transposed products, Tile and input gradients; ' +
      'convolutions on ONNX Runtime',
    load: async () => {
      await import('@tensorflow/tfjs-backend-wasm');
      // wasm has no gradient kernels for convolution filters and depthwise convolutions; tlr adds
      // them, and replaces kernels wasm runs on slow paths (transposed products, Tile, the input
      // gradient). Convolutions then go to ONNX Runtime's native kernels when it loads.
      registerWasmGradients();
      registerWasmOverrides();
      // A bad TLR_CONV leaves wasm's convolutions here; the run stops on it (context.ts), doctor says it.
      try {
        convsWhyNot = useConvEngine();
      } catch (e) {
        convsWhyNot = (e as Error).message;
      }
    },
    detail: () =>
      `SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'on' : 'off'}; convolutions: ${convolutionsLabel()}`,
  },
  {
    name: 'cpu',
    package: '@tensorflow/tfjs (pure JavaScript)',
    tfName: 'cpu',
    singleThreaded: true,
    adds: 'nothing',
    load: async () => undefined,
  },
] as const satisfies readonly Backend[];

export type BackendName = (typeof BACKENDS)[number]['name'];
export const BACKEND_NAMES: readonly BackendName[] = BACKENDS.map((b) => b.name);

/** A backend that cannot be used: unknown, not installed, or failing to load or initialise. */
export class BackendError extends TlrError {}

/** `--backend NAME` names no backend: a usage error (exit status 2). */
export class UnknownBackend extends UsageError {}

export interface BackendStatus {
  readonly name: BackendName;
  readonly package: string;
  readonly available: boolean;
  readonly reason: string;
}

/** The descriptor named `name`; a BackendError listing the names when there is none. */
export function backendOf(name: string): Backend & { name: BackendName } {
  const b = BACKENDS.find((x) => x.name === name);
  if (!b) throw new UnknownBackend(`unknown backend ${name}; backends: ${BACKEND_NAMES.join(', ')}`);
  return b;
}

function why(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'MODULE_NOT_FOUND' || err.code === 'ERR_MODULE_NOT_FOUND') return 'not installed';
  const first = String(err.message ?? e).split('\n')[0]!;
  if (/libcuda|libcudart|cudnn/i.test(first)) return `no CUDA: ${first}`;
  return `failed to load: ${first}`;
}

/** Loads and selects `b`; a BackendError saying why not. */
async function use(b: Backend): Promise<void> {
  try {
    await b.load();
  } catch (e) {
    throw new BackendError(`backend ${b.name} (${b.package}) is not usable: ${why(e)}`);
  }
  if (!(await tf.setBackend(b.tfName)))
    throw new BackendError(`backend ${b.name} (${b.package}) loaded but failed to initialise`);
  await tf.ready();
}

/** Every backend, whether it loads and why not; loading one registers it with tf. */
export async function probeBackends(): Promise<BackendStatus[]> {
  const out: BackendStatus[] = [];
  for (const b of BACKENDS) {
    try {
      await use(b);
      out.push({ name: b.name, package: b.package, available: true, reason: 'loads' });
    } catch (e) {
      out.push({
        name: b.name,
        package: b.package,
        available: false,
        reason: (e as Error).message.replace(/^backend \S+ \([^)]*\) (is not usable: )?/, ''),
      });
    }
  }
  return out;
}

/** Sets the backend: `forced`, or the first that loads. A BackendError when a forced one cannot. */
export async function chooseBackend(forced?: string): Promise<BackendName> {
  if (forced) {
    const b = backendOf(forced);
    await use(b);
    return b.name;
  }
  for (const b of BACKENDS) {
    try {
      await use(b);
      return b.name;
    } catch {
      // try the next one
    }
  }
  throw new BackendError('no TensorFlow.js backend could be loaded');
}

/** Gradient kernels a backend lacks among those training a network needs. */
export function missingTrainingKernels(backend = tf.getBackend()): string[] {
  const needed = [
    'Conv2DBackpropFilter',
    'Conv2DBackpropInput',
    'DepthwiseConv2dNativeBackpropInput',
    'DepthwiseConv2dNativeBackpropFilter',
    'MaxPoolGrad',
    'AvgPoolGrad',
  ];
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

/** Whether `name` (a descriptor's name, or a tf backend name) computes on one thread. */
export const singleThreaded = (name: string): boolean =>
  BACKENDS.some((b) => (b.name === name || b.tfName === name) && b.singleThreaded);
