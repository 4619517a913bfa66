import * as fs from 'node:fs';
import * as path from 'node:path';
import { probeBackends, chooseBackend, backendLabel, backendOf, singleThreaded } from '../../engines/tfjs/backend.js';
import { cacheRoot } from '../../runtime/weights/locate.js';
import { chooseInference, inferenceWorkers } from '../../engines/tfjs/infer/engine.js';
import { executionProviders, loadOrt, ortThreads } from '../../engines/tfjs/onnx/runtime.js';
import { tf } from '../../engines/tfjs/tf.js';
import type { Output } from '../io.js';
import { findTorchPython, hasTorch, installHint } from '../../engines/torch/python.js';
import { TORCH_NETWORKS } from '../../engines/torch/networks.js';
import { sharesBatches } from '../../engines/tfjs/train/shards.js';
import { convThreads } from '../../engines/tfjs/kernels/ort-kernels.js';

/** The torch engine: whether it is usable here, with what, and why not. */
function torchLines(): string[] {
  const py = findTorchPython();
  if (!hasTorch(py)) return [`torch      not usable: no Python with torch and torchvision (${py.tried.join('; ')}); ${installHint}`];
  const cuda = py.cuda.length ? `CUDA: ${py.cuda.join(', ')} (--device cuda, nccl)` : 'no CUDA device (--device cpu, gloo)';
  return [
    `torch      usable: ${py.python} (Python ${py.version}) · PyTorch ${py.torch} · torchvision ${py.torchvision} · ${cuda}`,
    `           tlr run RECIPE --engine torch [--nproc N]: ${py.gloo ? 'gloo' : 'no gloo'}${py.nccl ? ', nccl' : ''}; networks: ${TORCH_NETWORKS.join(', ')}${process.env['TLR_PYTHON'] ? ' (TLR_PYTHON)' : ' (TLR_PYTHON chooses another Python)'}`,
  ];
}


function du(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? du(p) : fs.statSync(p).size;
  }
  return n;
}

const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;

/** ONNX Runtime: whether passes that only run a network use it, its version and execution providers. */
function onnxLine(): string {
  let choice;
  try {
    choice = chooseInference();
  } catch (e) {
    return (e as Error).message;
  }
  const r = loadOrt();
  if (!('ort' in r)) return `TensorFlow.js programs (ONNX Runtime is not used: ${choice.why}; npm install onnxruntime-node brings it)`;
  const providers = r.ort.listSupportedBackends().map((b) => `${b.name}${b.bundled ? '' : ' (not installed)'}`).join(', ');
  const cuda = executionProviders(r.ort).includes('cuda') ? ' · CUDA is used (not tested by tlr\'s suite)' : ' · CUDA: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node (not tested here)';
  if (choice.engine === 'tfjs') return `TensorFlow.js programs (${choice.why}); ONNX Runtime ${r.ort.env.versions.node} is installed`;
  let threads: string;
  try { threads = `${ortThreads()} threads${process.env['TLR_ORT_THREADS'] ? ' (TLR_ORT_THREADS)' : ' (one per core; TLR_ORT_THREADS sets it)'}`; } catch (e) { threads = (e as Error).message; }
  return `ONNX Runtime ${r.ort.env.versions.node} (onnxruntime-node), ${threads}; execution providers: ${providers}${cuda}; TLR_INFERENCE=tfjs turns it off`;
}

/** How a stage that trains backbone layers uses the cores on `backend`. */
function trainingThreads(backend: string): string {
  if (!singleThreaded(backend)) return `${backend} uses every core itself`;
  try {
    const w = inferenceWorkers(backend);
    if (w.workers > 1 && !sharesBatches(backend, w.workers)) return `convolutions on ONNX Runtime's ${convThreads()} threads, the rest on this thread (TLR_CONV=wasm runs them in wasm and shares each batch among ${w.workers} threads)`;
    return w.workers > 1 ? `stages that train backbone layers share each batch among ${w.workers} threads (this one and ${w.workers - 1} worker${w.workers > 2 ? 's' : ''})` : 'one thread (TLR_WORKERS sets more)';
  } catch (e) {
    return (e as Error).message;
  }
}

/** `tlr doctor`: backends, inference threads, the cache and versions. */
export async function doctorCommand(_args: readonly string[], _flags: object, io: Output): Promise<number> {
  const statuses = await probeBackends();
  const chosen = await chooseBackend();
  io.out('backends (tlr run uses the first available, or --backend NAME):');
  for (const s of statuses) io.out(`  ${s.available ? 'yes' : 'no '}  ${s.name.padEnd(15)} ${s.package.padEnd(36)} ${s.reason}`);
  const b = backendOf(chosen);
  io.out(`  run would use: ${backendLabel(chosen)}${b.detail ? ` (${b.detail()})` : ''}`);
  if (b.adds !== 'nothing') io.out(`  tlr adds to ${chosen}: ${b.adds}`);
  let workers: string;
  try {
    const w = inferenceWorkers(chosen);
    workers = w.workers ? `${w.workers} worker threads` : 'this thread only';
    workers += w.forced ? ' (TLR_WORKERS)' : b.singleThreaded ? ' (one per core; TLR_WORKERS sets it)' : ` (${chosen} uses every core itself)`;
  } catch (e) {
    workers = (e as Error).message;
  }
  io.out(`inference  ${onnxLine()}`);
  io.out(`           TensorFlow.js programs: ${workers}`);
  io.out(`training   ${trainingThreads(chosen)}`);
  const cache = cacheRoot();
  io.out(`cache      ${cache} (${mb(du(cache))}; weights ${mb(du(path.join(cache, 'weights')))}, features ${mb(du(path.join(cache, 'features')))}); set TLR_CACHE to move it`);
  io.out(`weights    TLR_WEIGHTS_DIR ${process.env['TLR_WEIGHTS_DIR'] ? `= ${process.env['TLR_WEIGHTS_DIR']}` : 'is not set'}`);
  for (const l of torchLines()) io.out(l);
  io.out(`versions   Node.js ${process.version} · TensorFlow.js ${tf.version.tfjs}`);
  return 0;
}
