import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from './tf.js';
import { writeFileAtomic } from '../../files/atomic.js';
import { readContract } from '../../contracts/read.js';

// An optimizer's state (its step count, Adam's moments, momentum's accumulations) in a checkpoint,
// so a resumed stage continues with the same updates an uninterrupted one would make.

const SPECS = 'optimizer.json',
  DATA = 'optimizer.bin';

/** Checkpoints an optimizer's state (optimizer.json and optimizer.bin) in `dir`. */
export async function saveOptimizer(opt: tf.Optimizer, dir: string): Promise<void> {
  const named = await opt.getWeights();
  const { data, specs } = await tf.io.encodeWeights(named);
  // The step count comes as a fresh scalar; the rest are the optimizer's own variables.
  // (BlockRates names each group's `gN/iter`.)
  tf.dispose(named.filter((n) => /(^|\/)iter$/.test(n.name)).map((n) => n.tensor));
  fs.mkdirSync(dir, { recursive: true });
  // The data first: the specs file is what marks a saved state, and it only appears once both are whole.
  writeFileAtomic(path.join(dir, DATA), new Uint8Array(data as ArrayBuffer));
  writeFileAtomic(path.join(dir, SPECS), JSON.stringify({ optimizer: opt.getClassName(), specs }));
}

/** Restores a state saved from the same kind of optimizer; false when there is none to restore. */
export async function loadOptimizer(opt: tf.Optimizer, dir: string): Promise<boolean> {
  const specsFile = path.join(dir, SPECS),
    dataFile = path.join(dir, DATA);
  if (!fs.existsSync(specsFile) || !fs.existsSync(dataFile)) return false;
  const saved = readContract('optimizerState', specsFile);
  if (saved.optimizer !== opt.getClassName())
    throw new Error(`${specsFile} holds the state of ${saved.optimizer}, not of ${opt.getClassName()}`);
  const buf = fs.readFileSync(dataFile);
  const named = tf.io.decodeWeights(
    buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength),
    saved.specs as tf.io.WeightsManifestEntry[],
  );
  const tensors = Object.entries(named).map(([name, tensor]) => ({ name, tensor }));
  // decodeWeights keys by name; the optimizer takes them in the order they were saved.
  const order = new Map(saved.specs.map((s, i) => [s.name, i]));
  tensors.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
  await opt.setWeights(tensors);
  tf.dispose(tensors.map((t) => t.tensor));
  return true;
}
