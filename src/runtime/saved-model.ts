import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from './tf.js';
import { chooseBackend, type BackendName } from './backend.js';
import { loadModelDir, type ModelMeta } from './results/model-files.js';
import { decodeRgb, ImageError, normalize } from './data/image.js';
import { probeData, type DataFormat } from '../data/formats/index.js';
import { listItems, describeItem } from './data/dataset.js';
import { ImageSource } from './train/sources.js';
import { evaluate } from './train/loop.js';
import { inferenceWorkers, modelForward, passWorkers, startEngine } from './infer/engine.js';
import { savedProgram } from './infer/saved.js';
import type { Program } from './infer/program.js';
import { evaluation } from './train/metrics.js';
import type { Evaluation } from './events.js';
import { TlrError } from '../errors.js';

// What a model folder a run saved can do on its own: predict labels of images, and evaluate on
// a data set. `tlr predict` and `tlr eval` only print what these return.

/** A data set a saved model cannot be evaluated on (unreadable, or classes it does not know). */
export class SavedModelError extends TlrError {}

export interface SavedModel {
  readonly dir: string;
  readonly model: tf.LayersModel;
  readonly meta: ModelMeta;
  readonly backend: BackendName;
  dispose(): void;
}

/** Loads a model folder (and chooses the backend); a SavedModelError names what is missing. */
export async function openSavedModel(dir: string, backend?: string): Promise<SavedModel> {
  const name = await chooseBackend(backend);
  const { model, meta } = await loadModelDir(dir);
  return { dir, model, meta, backend: name, dispose: () => model.dispose() };
}

export interface Prediction {
  readonly image: string;
  readonly top: readonly { readonly label: string; readonly probability: number }[];
}

/** The `k` most probable labels of each image; an image that cannot be read goes to `onError`. */
export async function predict(m: SavedModel, images: readonly string[], k: number, onError: (image: string, message: string) => void): Promise<Prediction[]> {
  const size = m.meta.preprocessing.inputSize;
  const out: Prediction[] = [];
  for (const image of images) {
    if (!fs.existsSync(image)) { onError(image, `${image} does not exist`); continue; }
    let rgb: Uint8Array;
    try {
      rgb = await decodeRgb(image, size);
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
      onError(image, e.message);
      continue;
    }
    const probs = tf.tidy(() => {
      const y = m.model.predict(tf.tensor4d(normalize(rgb, m.meta.preprocessing), [1, size, size, 3])) as tf.Tensor;
      return m.meta.output === 'logits' ? tf.softmax(y) : y;
    });
    const p = Array.from(await probs.data());
    probs.dispose();
    out.push({ image, top: p.map((v, i) => ({ label: m.meta.labels[i] ?? `#${i}`, probability: v })).sort((a, b) => b.probability - a.probability).slice(0, k) });
  }
  return out;
}

export interface DataEvaluation {
  readonly data: string;
  /** The part of the data set evaluated: its test part, else its validation part, else all of it. */
  readonly part: 'train' | 'validation' | 'test';
  readonly unreadable: number;
  readonly evaluation: Evaluation;
}

/**
 * Evaluates a saved model on a data set (any data format), on the compiled inference program (in
 * worker threads for a long pass) when the model has the shape tlr saves.
 */
export async function evaluateOn(m: SavedModel, data: string, opts: { env?: NodeJS.ProcessEnv; onUnreadable?: (file: string, reason: string) => void } = {}): Promise<DataEvaluation> {
  const probe = probeData(path.resolve(data));
  if (!probe.ok) throw new SavedModelError(probe.message);
  const info = probe.info;
  const part = info.splits.test ? 'test' : info.splits.validation ? 'validation' : 'train';
  const unknown = info.splits[part]!.map((c) => c.name).filter((c) => !m.meta.labels.includes(c));
  if (unknown.length) throw new SavedModelError(`${data} has classes the model does not know: ${unknown.join(', ')} (it knows ${m.meta.labels.join(', ')})`);
  const items = listItems({ kind: 'data', path: info.path, format: info.format as DataFormat, part }, m.meta.labels);
  let unreadable = 0;
  const src = new ImageSource(items, m.meta.preprocessing.inputSize, m.meta.preprocessing, [], (it, reason) => { unreadable++; opts.onUnreadable?.(describeItem(it), reason); });
  // A model tlr did not shape runs as it is.
  let program: Program | null = null;
  try { program = savedProgram(m.model, m.meta); } catch { program = null; }
  const batch = 32;
  const engine = program ? await startEngine(program, passWorkers(inferenceWorkers(m.backend, opts.env), items.length, batch), m.backend) : null;
  try {
    const r = await evaluate(engine ?? modelForward(m.model), src, m.meta.labels.length, m.meta.output === 'probabilities', batch);
    return { data: info.path, part, unreadable, evaluation: evaluation('test', m.meta.labels, r.y, r.pred, r.loss) };
  } finally {
    await engine?.close();
  }
}
