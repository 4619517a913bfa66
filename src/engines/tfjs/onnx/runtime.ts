import { createRequire } from 'node:module';
import * as os from 'node:os';
import type * as Ort from 'onnxruntime-node';
import { tf, valuesOf } from '../tf.js';
import type { Program } from '../../../zoo/program.js';
import type { Engine } from '../infer/forward.js';
import { toOnnx } from './to-onnx.js';
import { TlrError, UsageError } from '../../../errors.js';

// ONNX Runtime (npm onnxruntime-node, an optional dependency: native CPU kernels, one session using
// every core) as the engine for passes that only run a network. Loaded on first use; when it is
// missing or fails to load, tlr falls back to its TensorFlow.js programs and says so.

const require = createRequire(import.meta.url);
let loaded: { ort: typeof Ort } | { error: string } | null = null;

/** onnxruntime-node, or why it cannot be used. */
export function loadOrt(): { ort: typeof Ort } | { error: string } {
  if (loaded) return loaded;
  try {
    const ort = require('onnxruntime-node') as typeof Ort;
    // Loading the native binding happens on first use of a session; the version is known at once.
    loaded = { ort };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    loaded = {
      error:
        err.code === 'MODULE_NOT_FOUND'
          ? 'onnxruntime-node is not installed'
          : `onnxruntime-node failed to load: ${String(err.message).split('\n')[0]}`,
    };
  }
  return loaded;
}

/** Intra-op threads: TLR_ORT_THREADS, else one per core. */
export function ortThreads(env: NodeJS.ProcessEnv = process.env): number {
  const set = env['TLR_ORT_THREADS'];
  if (set === undefined || set === '') return os.availableParallelism();
  const n = Number(set);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new UsageError(`TLR_ORT_THREADS must be a whole number of threads from 1 to 256, not '${set}'`);
  return n;
}

/** The execution providers to ask for: CUDA first when its provider is installed (not tested here), then the CPU. */
export function executionProviders(ort: typeof Ort): string[] {
  const cuda = ort.listSupportedBackends().some((b) => b.name === 'cuda' && b.bundled);
  return cuda ? ['cuda', 'cpu'] : ['cpu'];
}

/** ONNX Runtime failed on a model tlr made: a bug or a broken install; the message says which. */
export class OrtError extends TlrError {}

/** A session on `model` (a program, or ONNX bytes such as an int8 model) with tlr's settings. */
export async function session(
  ort: typeof Ort,
  model: Program | Uint8Array,
  threads: number,
): Promise<Ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(model instanceof Uint8Array ? model : toOnnx(model), {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionProviders: executionProviders(ort),
      // Idle intra-op threads sleep instead of spinning: decoding the next batch needs those cores.
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
  } catch (e) {
    throw new OrtError(
      `ONNX Runtime could not load the network: ${(e as Error).message.split('\n')[0]}; TLR_INFERENCE=tfjs runs ` +
        `it with TensorFlow.js instead`,
    );
  }
}

/** An inference engine on ONNX Runtime: batches in NHWC float32, out as tf tensors. */
export class OrtEngine implements Engine {
  readonly workers = 0;
  // One batch running while the next is decoded.
  readonly depth = 2;
  private constructor(
    private readonly ort: typeof Ort,
    private sess: Ort.InferenceSession,
    readonly threads: number,
    /** What the model is when it is not the float program (`int8`), for the label. */
    private readonly precision = '',
  ) {}

  get label(): string {
    return (
      `ONNX Runtime (${executionProviders(this.ort).join('+')}, ${this.threads} ` +
      `thread${this.threads === 1 ? '' : 's'}${this.precision ? `, ${this.precision}` : ''})`
    );
  }

  /** An engine on a program, or on ONNX bytes tlr wrote (an int8 model). */
  static async start(model: Program | Uint8Array, threads: number, precision = ''): Promise<OrtEngine> {
    const r = loadOrt();
    if (!('ort' in r)) throw new OrtError(r.error);
    return new OrtEngine(r.ort, await session(r.ort, model, threads), threads, precision);
  }

  async load(program: Program): Promise<void> {
    const next = await session(this.ort, program, this.threads);
    await this.sess.release();
    this.sess = next;
  }

  async run(x: tf.Tensor): Promise<tf.Tensor> {
    const data = valuesOf(x);
    const out = (await this.sess.run({ input: new this.ort.Tensor('float32', data, [...x.shape]) }))['output']!;
    const y = tf.tensor(out.data as Float32Array, [...out.dims]);
    out.dispose();
    return y;
  }

  close(): Promise<void> {
    return this.sess.release();
  }
}
