import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from './tf.js';
import { chooseBackend, type BackendName } from './backend.js';
import { labelThresholds, loadModelDir, type ModelMeta } from './model-files.js';
import { decodeRgb, ImageError, normalize, SHARP_MAX_PIXELS } from '../../runtime/images/image.js';
import { resizerOf } from '../../runtime/images/resize.js';
import { probeData, readMember, type DataFormat } from '../../data/formats/index.js';
import { codedItems, listItems, listSplits, describeItem, type Item } from '../../runtime/images/dataset.js';
import { labelTable, truthRows } from '../../runtime/targets.js';
import { matrixOf, multiLabelReport } from '../../runtime/multi-label.js';
import { createHash } from 'node:crypto';
import { ImageSource, type Unreadable } from './train/batch-sources.js';
import { evaluate } from './train/loop.js';
import { chooseInference, inferenceWorkers, modelForward, startPassEngine, type Forward } from './infer/engine.js';
import { OrtEngine, ortThreads } from './onnx/runtime.js';
import { int8ModelOf } from './int8-files.js';
import { savedProgram } from './infer/saved.js';
import type { Program } from './infer/program.js';
import { evaluation } from './train/metrics.js';
import { fileDigest } from '../../runtime/images/file-digests.js';
import { rankLabels } from '../../runtime/ranked.js';
import { concatFloats } from '../../runtime/batches.js';
import { TlrError } from '../../errors.js';
import type { DataEvaluation, Prediction } from '../types.js';
import { readContract } from '../../contracts/read.js';

export type { DataEvaluation, Prediction };

// What a model folder a run saved can do on its own: predict labels of images, and evaluate on
// a data set. `tlr predict` and `tlr eval` only print what these return.

/** A data set a saved model cannot be evaluated on (unreadable, or classes it does not know). */
export class SavedModelError extends TlrError {}

export interface SavedModel {
  readonly dir: string;
  readonly model: tf.LayersModel;
  readonly meta: ModelMeta;
  readonly backend: BackendName;
  /** The int8 network passes run instead of the float one (tlr predict/eval/serve --int8), or null. */
  readonly int8: Uint8Array | null;
  dispose(): void;
}

/**
 * Loads a model folder (and chooses the backend); a SavedModelError names what is missing, an Int8Error an int8
 * network asked for that is missing or stale.
 */
export async function openSavedModel(
  dir: string,
  backend?: string,
  opts: { int8?: boolean } = {},
): Promise<SavedModel> {
  const int8 = opts.int8 ? int8ModelOf(dir).bytes : null;
  const name = await chooseBackend(backend);
  const { model, meta } = await loadModelDir(dir);
  return { dir, model, meta, backend: name, int8, dispose: () => model.dispose() };
}

/**
 * The engine for a pass over `images` images: the saved model's program on ONNX Runtime (or on
 * TensorFlow.js, in worker threads for a long pass), or the layers model itself when it is not
 * the shape tlr saves.
 */
export async function engineFor(
  m: SavedModel,
  images: number,
  batch: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Forward & { close(): Promise<void>; label: string }> {
  const workers = inferenceWorkers(m.backend, env); // a bad TLR_WORKERS is a usage error whichever engine runs
  if (m.int8) return OrtEngine.start(m.int8, ortThreads(env), 'int8');
  let program: Program | null = null;
  try {
    program = savedProgram(m.model, m.meta);
  } catch {
    program = null;
  }
  if (!program)
    return {
      ...modelForward(m.model),
      close: async () => undefined,
      label: `TensorFlow.js (${m.backend}, the layers model)`,
    };
  return startPassEngine(
    program,
    { inference: chooseInference(env), workers, backend: m.backend, ortThreads: ortThreads(env) },
    images,
    batch,
  );
}

/**
 * The `k` most probable labels of each image, in batches on the fast engine; an image that cannot be read goes to
 * `onError`.
 */
export async function predict(
  m: SavedModel,
  images: readonly string[],
  k: number,
  onError: (image: string, message: string) => void,
  env?: NodeJS.ProcessEnv,
): Promise<Prediction[]> {
  const size = m.meta.preprocessing.inputSize,
    batch = 32;
  const readable = images.filter((image) => {
    const ok = fs.existsSync(image);
    if (!ok) onError(image, `${image} does not exist`);
    return ok;
  });
  const out: Prediction[] = [];
  const engine = await engineFor(m, readable.length, batch, env);
  try {
    for (let i = 0; i < readable.length; i += batch) {
      const rgb: { image: string; data: Float32Array }[] = [];
      for (const image of readable.slice(i, i + batch)) {
        try {
          const px = await decodeRgb(image, size, image, SHARP_MAX_PIXELS, resizerOf(m.meta.preprocessing));
          rgb.push({ image, data: normalize(px, m.meta.preprocessing) });
        } catch (e) {
          if (!(e instanceof ImageError)) throw e;
          onError(image, e.message);
        }
      }
      if (!rgb.length) continue;
      const x = tf.tensor4d(concatFloats(rgb.map((r) => r.data)), [rgb.length, size, size, 3]);
      const y = await engine.run(x);
      const probs = probabilitiesOf(m.meta, y);
      const p = (await probs.array()) as number[][];
      tf.dispose([x, y, probs]);
      for (const [j, r] of rgb.entries()) out.push(predictionOf(m.meta, r.image, p[j]!, k));
    }
  } finally {
    await engine.close();
  }
  return out;
}

/** The network's output as probabilities: softmax, or (multi-label) a sigmoid per label, unless the head has them. */
export const probabilitiesOf = (meta: ModelMeta, y: tf.Tensor): tf.Tensor =>
  tf.tidy(() =>
    meta.output === 'probabilities' ? y.clone() : meta.task === 'multi-label' ? tf.sigmoid(y) : tf.softmax(y),
  );

/** An image's prediction from its probabilities: the top `k`, and (multi-label) the labels at their thresholds. */
const predictionOf = (meta: ModelMeta, image: string, p: readonly number[], k: number): Prediction => ({
  image,
  ...rankLabels(meta.labels, labelThresholds(meta), p, k),
});

/**
 * An image's sha256 (a file's bytes through the feature cache's hasher; an IDX image's pixels); null when it cannot be
 * read.
 */
const contentHash = (it: Item): string | null => {
  if (it.kind === 'idx')
    return createHash('sha256')
      .update(
        it.images.pixels.subarray(
          it.index * it.images.rows * it.images.cols,
          (it.index + 1) * it.images.rows * it.images.cols,
        ),
      )
      .digest('hex');
  if (it.kind === 'member') {
    try {
      return createHash('sha256').update(readMember(it)).digest('hex');
    } catch {
      return null;
    }
  }
  const h = fileDigest(it.path);
  return /^[0-9a-f]{64}$/.test(h) ? h : null;
};

/**
 * How many of `items` are images the model in `modelDir` was trained on, compared by content: the
 * run folder beside a model a run saved (RUN_DIR/model) knows its plan, so its training split.
 */
function trainingOverlap(modelDir: string, items: readonly Item[]): number | null {
  const planFile = path.join(path.dirname(path.resolve(modelDir)), 'plan.json');
  if (!fs.existsSync(planFile)) return null;
  let train: readonly Item[];
  try {
    train = listSplits(readContract('plan', planFile)).train;
  } catch {
    return null;
  }
  const seen = new Set(train.map(contentHash).filter((h): h is string => h !== null));
  return items.filter((it) => {
    const h = contentHash(it);
    return h !== null && seen.has(h);
  }).length;
}

/**
 * Evaluates a saved model on a data set (any data format), on the compiled inference program (in
 * worker threads for a long pass) when the model has the shape tlr saves.
 */
export async function evaluateOn(
  m: SavedModel,
  data: string,
  opts: { env?: NodeJS.ProcessEnv; onUnreadable?: (file: string, reason: string) => void } = {},
): Promise<DataEvaluation> {
  const probe = probeData(path.resolve(data));
  if (!probe.ok) throw new SavedModelError(probe.message);
  const info = probe.info;
  const part = info.splits.test ? 'test' : info.splits.validation ? 'validation' : 'train';
  const unknown = info.splits[part]!.map((c) => c.name).filter((c) => !m.meta.labels.includes(c));
  if (unknown.length)
    throw new SavedModelError(
      `${data} has classes the model does not know: ${unknown.join(', ')} (it knows ${m.meta.labels.join(', ')})`,
    );
  const multi = m.meta.task === 'multi-label';
  if (multi !== !!info.labelSets)
    throw new SavedModelError(
      multi
        ? `${data} gives one label per image, but the model is multi-label: evaluate it on a CSV with a \`labels\` ` +
            'column (labels separated by `;`) or one 0/1 column per label'
        : `${data} gives several labels per image, but the model predicts one: evaluate it on class folders or a ` +
            'CSV with a `label` column',
    );
  const listed = listItems({ kind: 'data', path: info.path, format: info.format as DataFormat, part }, m.meta.labels);
  const { items, labelSets } = multi ? codedItems(listed) : { items: listed, labelSets: null };
  let unreadable = 0;
  const src = modelImages(m, items, (it, reason) => {
    unreadable++;
    opts.onUnreadable?.(describeItem(it), reason);
  });
  const batch = 32;
  const engine = await engineFor(m, items.length, batch, opts.env);
  try {
    const L = m.meta.labels.length,
      targets = labelSets ? { labels: L, table: labelTable(labelSets, L), posWeights: null } : null;
    const r = await evaluate(engine, src, L, m.meta.output === 'probabilities', batch, targets);
    return {
      data: info.path,
      part,
      unreadable,
      engine: engine.label,
      overlap: trainingOverlap(m.dir, items),
      evaluation: labelSets
        ? multiLabelReport(
            'test',
            matrixOf(r.probs, L),
            truthRows(r.y, labelSets, L),
            m.meta.labels,
            labelThresholds(m.meta)!,
            r.loss,
          )
        : evaluation('test', m.meta.labels, r.y, r.pred, r.loss),
    };
  } finally {
    await engine.close();
  }
}

/** A saved model's images of `items`, decoded as it was trained (its size, preprocessing and resizer). */
export function modelImages(m: SavedModel, items: readonly Item[], onUnreadable: Unreadable = () => undefined) {
  const pre = m.meta.preprocessing;
  return new ImageSource(items, pre.inputSize, pre, [], onUnreadable, resizerOf(pre));
}
