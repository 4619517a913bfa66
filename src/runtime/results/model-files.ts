import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../tf.js';
import { replaceDirAtomic } from '../../files/atomic.js';
import '../zoo/layers.js';
import { MODEL_MARKER, markerText } from '../../data/model-folder.js';
import { TLR_VERSION } from '../../version.js';
import { TlrError } from '../../errors.js';

// A trained model on disk: TF.js layers format (model.json + weights.bin, loadable with
// tf.loadLayersModel, in a browser too), with labels.json and preprocessing.json beside it.

export interface ModelMeta {
  readonly labels: readonly string[];
  readonly preprocessing: { readonly inputSize: number; readonly mean: readonly number[]; readonly std: readonly number[]; readonly description: string };
  readonly network: { readonly name: string; readonly width: number | null };
  /** The output is logits (softmax them) unless the head ends in softmax. */
  readonly output: 'logits' | 'probabilities';
}

/** Saves a model folder atomically: model.json, weights.bin, the tlr marker, and with `meta` labels.json and preprocessing.json. */
export async function saveModel(model: tf.LayersModel, dir: string, meta?: ModelMeta): Promise<void> {
  await replaceDirAtomic(dir, async (tmp) => {
    await model.save(tf.io.withSaveHandler(async (a) => {
      const weights = new Uint8Array(a.weightData as ArrayBuffer);
      fs.writeFileSync(path.join(tmp, 'weights.bin'), weights);
      fs.writeFileSync(path.join(tmp, 'model.json'), JSON.stringify({
        format: 'layers-model', generatedBy: `tlr (TensorFlow.js ${tf.version.tfjs})`, convertedBy: null,
        modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
      }));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
    }));
    fs.writeFileSync(path.join(tmp, MODEL_MARKER), markerText(TLR_VERSION));
    if (meta) {
      fs.writeFileSync(path.join(tmp, 'labels.json'), JSON.stringify(meta.labels, null, 2) + '\n');
      fs.writeFileSync(path.join(tmp, 'preprocessing.json'), JSON.stringify({ ...meta.preprocessing, network: meta.network, output: meta.output }, null, 2) + '\n');
    }
  });
}

/** A folder that is not a tlr model folder. */
export class ModelDirError extends TlrError {}

/** Loads a saved tlr model with its metadata. */
export async function loadModelDir(dir: string): Promise<{ model: tf.LayersModel; meta: ModelMeta }> {
  const need = ['model.json', 'labels.json', 'preprocessing.json'].filter((f) => !fs.existsSync(path.join(dir, f)));
  if (need.length) throw new ModelDirError(`${dir} is not a tlr model folder: ${need.join(', ')} missing (a run writes its model into RUN_DIR/model)`);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const specs = json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights);
  const data = Buffer.concat(json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths).map((p: string) => fs.readFileSync(path.join(dir, p))));
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) }));
  const labels = JSON.parse(fs.readFileSync(path.join(dir, 'labels.json'), 'utf8'));
  const pre = JSON.parse(fs.readFileSync(path.join(dir, 'preprocessing.json'), 'utf8'));
  return { model, meta: { labels, preprocessing: pre, network: pre.network, output: pre.output } };
}
