import { backendLabel, backendOf, chooseBackend, probeBackends, singleThreaded } from './backend.js';
import { chooseInference, inferenceWorkers } from './infer/engine.js';
import { convThreads } from './kernels/ort-kernels.js';
import { executionProviders, loadOrt, ortThreads } from './onnx/runtime.js';
import { tf } from './tf.js';
import { sharesBatches } from './train/data-parallel.js';

// The tfjs engine's section of `tlr doctor`: its backends, where inference and training run, and
// why the faster paths are or are not there.

/** ONNX Runtime: whether passes that only run a network use it, its version and execution providers. */
function onnxLine(): string {
  let choice: ReturnType<typeof chooseInference>;
  try {
    choice = chooseInference();
  } catch (e) {
    return (e as Error).message;
  }
  const r = loadOrt();
  if (!('ort' in r)) {
    return `TensorFlow.js programs (ONNX Runtime is not used: ${choice.why}; npm install onnxruntime-node brings it)`;
  }
  const version = r.ort.env.versions.node;
  const providers = r.ort
    .listSupportedBackends()
    .map((b) => `${b.name}${b.bundled ? '' : ' (not installed)'}`)
    .join(', ');
  const cuda = executionProviders(r.ort).includes('cuda')
    ? " · CUDA is used (not tested by tlr's suite)"
    : ' · CUDA: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node (not tested here)';
  if (choice.engine === 'tfjs') return `TensorFlow.js programs (${choice.why}); ONNX Runtime ${version} is installed`;
  let threads: string;
  try {
    const set = process.env['TLR_ORT_THREADS'] ? ' (TLR_ORT_THREADS)' : ' (one per core; TLR_ORT_THREADS sets it)';
    threads = `${ortThreads()} threads${set}`;
  } catch (e) {
    threads = (e as Error).message;
  }
  return (
    `ONNX Runtime ${version} (onnxruntime-node), ${threads}; execution providers: ${providers}${cuda}; ` +
    `TLR_INFERENCE=tfjs turns it off`
  );
}

/** How a stage that trains backbone layers uses the cores on `backend`. */
function trainingThreads(backend: string): string {
  if (!singleThreaded(backend)) return `${backend} uses every core itself`;
  try {
    const w = inferenceWorkers(backend);
    if (w.workers > 1 && !sharesBatches(backend, w.workers)) {
      return (
        `convolutions on ONNX Runtime's ${convThreads()} threads, the rest on this thread (TLR_CONV=wasm ` +
        `runs them in wasm and shares each batch among ${w.workers} threads)`
      );
    }
    if (w.workers <= 1) return 'one thread (TLR_WORKERS sets more)';
    return (
      `stages that train backbone layers share each batch among ${w.workers} threads (this one and ` +
      `${w.workers - 1} worker${w.workers > 2 ? 's' : ''})`
    );
  } catch (e) {
    return (e as Error).message;
  }
}

/** Inference on TensorFlow.js: worker threads, or why not. */
function workerLine(chosen: string, single: boolean): string {
  try {
    const w = inferenceWorkers(chosen);
    const n = w.workers ? `${w.workers} worker threads` : 'this thread only';
    return (
      n +
      (w.forced
        ? ' (TLR_WORKERS)'
        : single
          ? ' (one per core; TLR_WORKERS sets it)'
          : ` (${chosen} uses every core itself)`)
    );
  } catch (e) {
    return (e as Error).message;
  }
}

/** Backends, inference and training lines, and TensorFlow.js's version. */
export async function tfjsDoctor(): Promise<{ lines: string[]; versions: string }> {
  const statuses = await probeBackends();
  const chosen = await chooseBackend();
  const b = backendOf(chosen);
  const lines = ['backends (tlr run uses the first available, or --backend NAME):'];
  for (const s of statuses)
    lines.push(`  ${s.available ? 'yes' : 'no '}  ${s.name.padEnd(15)} ${s.package.padEnd(36)} ${s.reason}`);
  lines.push(`  run would use: ${backendLabel(chosen)}${b.detail ? ` (${b.detail()})` : ''}`);
  if (b.adds !== 'nothing') lines.push(`  tlr adds to ${chosen}: ${b.adds}`);
  lines.push(`inference  ${onnxLine()}`);
  lines.push(`           TensorFlow.js programs: ${workerLine(chosen, b.singleThreaded)}`);
  lines.push(`training   ${trainingThreads(chosen)}`);
  return { lines, versions: `TensorFlow.js ${tf.version.tfjs}` };
}
