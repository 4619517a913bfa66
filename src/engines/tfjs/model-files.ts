import { READABLE_RESIZERS, RESIZER } from '../../runtime/images/resize.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from './tf.js';
import { replaceDirAtomic } from '../../files/atomic.js';
import './tf-layers/layers.js';
import { readTfjsModel, type ModelJson } from '../../runtime/weights/tfjs-format.js';
import type { WeightMap } from '../../runtime/weights/tensors.js';
import { MODEL_MARKER, markerFields } from '../../data/model-folder.js';
import { writeMarker } from '../../files/owned.js';
import { TLR_VERSION } from '../../version.js';
import { TlrError } from '../../errors.js';
import { readSafetensors } from '../../runtime/weights/safetensors.js';
import { fromTorchvision, headFromTorch } from '../../runtime/weights/torchvision.js';
import { assignWeights } from './assign-weights.js';
import { buildLayers } from './tf-layers/build.js';
import { describe, graphOf, MODEL_NAMES } from '../../zoo/catalog.js';
import { joinNetwork, makeHead } from './train/network.js';
import { ContractFileError, readContract, type Contracts } from '../../contracts/read.js';

// A trained model on disk: TF.js layers format (model.json + weights.bin, loadable with
// tf.loadLayersModel, in a browser too), with labels.json and preprocessing.json beside it.

export interface ModelMeta {
  readonly labels: readonly string[];
  readonly preprocessing: {
    readonly inputSize: number;
    readonly mean: readonly number[];
    readonly std: readonly number[];
    readonly description: string;
    /**
     * The resizer the model was trained with (runtime/images/resize.ts); absent in folders saved before it was
     * recorded.
     */
    readonly resize?: string;
  };
  readonly network: { readonly name: string; readonly width: number | null };
  /** The output is logits (softmax them, or sigmoid them when multi-label) unless the head ends in an activation. */
  readonly output: 'logits' | 'probabilities';
  /** Absent: one label per image. */
  readonly task?: 'single-label' | 'multi-label';
  /** Multi-label: each label's threshold, chosen on the validation part when the run ended (absent before). */
  readonly thresholds?: readonly number[];
}

/** A multi-label model's thresholds (0.5 each where the folder has none yet); null for one label per image. */
export const labelThresholds = (meta: ModelMeta): readonly number[] | null =>
  meta.task === 'multi-label' ? (meta.thresholds ?? meta.labels.map(() => 0.5)) : null;

/** preprocessing.json's fields for `meta`. */
export const preprocessingJson = (meta: ModelMeta): Contracts['preprocessing'] => ({
  ...meta.preprocessing,
  network: meta.network,
  output: meta.output,
  ...(meta.task === 'multi-label' ? { task: meta.task } : {}),
  ...(meta.thresholds ? { thresholds: [...meta.thresholds] } : {}),
});

/**
 * Saves a model folder atomically: model.json, weights.bin, the tlr marker, and with `meta` labels.json and
 * preprocessing.json.
 */
export async function saveModel(model: tf.LayersModel, dir: string, meta?: ModelMeta): Promise<void> {
  await replaceDirAtomic(
    dir,
    async (tmp) => {
      await model.save(
        tf.io.withSaveHandler(async (a) => {
          const weights = new Uint8Array(a.weightData as ArrayBuffer);
          fs.writeFileSync(path.join(tmp, 'weights.bin'), weights);
          fs.writeFileSync(
            path.join(tmp, 'model.json'),
            JSON.stringify({
              format: 'layers-model',
              generatedBy: `tlr (TensorFlow.js ${tf.version.tfjs})`,
              convertedBy: null,
              modelTopology: a.modelTopology,
              weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
            }),
          );
          return {
            modelArtifactsInfo: {
              dateSaved: new Date(),
              modelTopologyType: 'JSON',
              weightDataBytes: weights.byteLength,
            },
          };
        }),
      );
      if (meta) {
        fs.writeFileSync(path.join(tmp, 'labels.json'), `${JSON.stringify(meta.labels, null, 2)}\n`);
        fs.writeFileSync(path.join(tmp, 'preprocessing.json'), `${JSON.stringify(preprocessingJson(meta), null, 2)}\n`);
      }
      writeMarker(tmp, MODEL_MARKER, markerFields(TLR_VERSION));
    },
    MODEL_MARKER,
  );
}

/** A folder that is not a tlr model folder. */
export class ModelDirError extends TlrError {}

/** A JSON file of a model folder, read and validated against its schema; a ModelDirError names what is wrong. */
function readJson<K extends 'labels' | 'preprocessing' | 'network'>(dir: string, kind: K): Contracts[K] {
  try {
    return readContract(kind, path.join(dir, `${kind}.json`));
  } catch (e) {
    if (e instanceof ContractFileError) throw new ModelDirError(e.message);
    throw e;
  }
}

/** preprocessing.json beyond its schema: a size tlr can resize to, a spread that divides, a resizer this tlr has. */
function checkPreprocessing(
  dir: string,
  x: Contracts['preprocessing'],
  labels: number,
): ModelMeta['preprocessing'] & Pick<ModelMeta, 'network' | 'output' | 'task' | 'thresholds'> {
  const f = path.join(dir, 'preprocessing.json');
  const problem =
    x.inputSize < 16 || x.inputSize > 1024
      ? `has inputSize ${x.inputSize}, not a whole number of pixels from 16 to 1024`
      : !x.std.every((n) => n > 0)
        ? 'needs "std": three positive numbers'
        : !x.network || !x.output
          ? 'needs "network": {name, width} and "output": "logits" or "probabilities"'
          : x.resize !== undefined && !READABLE_RESIZERS.includes(x.resize)
            ? `says the model was trained on images resized by ${JSON.stringify(x.resize)}, but this tlr ` +
              `resizes with ${RESIZER}: its predictions would not match its training; use the tlr that saved it`
            : x.thresholds && x.thresholds.length !== labels
              ? `has ${x.thresholds.length} thresholds, but labels.json names ${labels} labels: one each`
              : x.thresholds && x.task !== 'multi-label'
                ? 'has thresholds but no "task": "multi-label"'
                : null;
  if (problem) throw new ModelDirError(`${f} ${problem}`);
  return x as never;
}

/** A model folder's metadata from its checked files. */
const metaOf = (labels: string[], pre: ReturnType<typeof checkPreprocessing>): ModelMeta => ({
  labels,
  preprocessing: pre,
  network: pre.network,
  output: pre.output,
  ...(pre.task === 'multi-label' ? { task: pre.task } : {}),
  ...(pre.thresholds ? { thresholds: pre.thresholds } : {}),
});

/**
 * Loads a saved tlr model with its metadata. Every file is checked before use (JSON, fields,
 * shard sizes), and against the model: its input size, and one label per output.
 */
export async function loadModelDir(dir: string): Promise<{ model: tf.LayersModel; meta: ModelMeta }> {
  if (isTorchModelDir(dir)) return loadTorchModelDir(dir);
  const need = ['model.json', 'labels.json', 'preprocessing.json'].filter((f) => !fs.existsSync(path.join(dir, f)));
  if (need.length)
    throw new ModelDirError(
      `${dir} is not a tlr model folder: ${need.join(', ')} missing (a run writes its model into RUN_DIR/model)`,
    );
  const labels = [...readJson(dir, 'labels')];
  const pre = checkPreprocessing(dir, readJson(dir, 'preprocessing'), labels.length);
  let json: ModelJson, weights: WeightMap;
  try {
    // A model folder's model.json is a run's file: read once, its outline checked against its schema first.
    const file = path.join(dir, 'model.json');
    ({ json, weights } = readTfjsModel(file, readContract('tfjsModel', file)));
  } catch (e) {
    throw new ModelDirError((e as Error).message);
  }
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology as object,
        weightSpecs: json.weightsManifest
          .flatMap((g) => g.weights)
          .map((s) => ({ name: s.name, shape: s.shape, dtype: 'float32' as const })),
        weightData: packWeights(json, weights),
      }),
    );
  } catch (e) {
    throw new ModelDirError(
      `${path.join(dir, 'model.json')} does not describe a model TensorFlow.js can build ` +
        `(${(e as Error).message.split('\n')[0]})`,
    );
  }
  const [, h, w] = model.inputs[0]!.shape,
    units = model.outputs[0]!.shape[1];
  if (h !== pre.inputSize || w !== pre.inputSize) {
    model.dispose();
    throw new ModelDirError(
      `${path.join(dir, 'preprocessing.json')} says inputSize ${pre.inputSize}, but the model in model.json ` +
        `takes ${h}x${w} images`,
    );
  }
  if (units !== labels.length) {
    model.dispose();
    throw new ModelDirError(
      `${path.join(dir, 'labels.json')} names ${labels.length} classes, but the model has ${units} outputs`,
    );
  }
  return { model, meta: metaOf(labels, pre) };
}

/** The weights as the manifest lays them out (float32), for tf.io.fromMemory. */
function packWeights(json: ModelJson, weights: WeightMap): ArrayBuffer {
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const total = specs.reduce((t, s) => t + weights.get(s.name)!.data.length * 4, 0);
  const out = new Float32Array(total / 4);
  let at = 0;
  for (const s of specs) {
    const d = weights.get(s.name)!.data;
    out.set(d, at);
    at += d.length;
  }
  return out.buffer;
}

/** Whether `dir` holds a model the torch engine saved (model.safetensors with network.json, no model.json). */
export const isTorchModelDir = (dir: string): boolean =>
  fs.existsSync(path.join(dir, 'model.safetensors')) &&
  fs.existsSync(path.join(dir, 'network.json')) &&
  !fs.existsSync(path.join(dir, 'model.json'));

/** network.json beyond its schema: a network of tlr's zoo. */
function checkNetworkJson(dir: string, n: Contracts['network']): Contracts['network'] {
  if (!MODEL_NAMES.includes(n.network.name))
    throw new ModelDirError(
      `${path.join(dir, 'network.json')} names the network ${JSON.stringify(n.network.name)}, which is not in ` +
        `tlr's zoo`,
    );
  return n;
}

/**
 * A model the torch engine saved, as a tf.LayersModel: the zoo network and the head built from
 * network.json, with model.safetensors' torchvision-named weights converted to tfjs layouts.
 */
async function loadTorchModelDir(dir: string): Promise<{ model: tf.LayersModel; meta: ModelMeta }> {
  const labels = [...readJson(dir, 'labels')];
  const pre = checkPreprocessing(dir, readJson(dir, 'preprocessing'), labels.length);
  const net = checkNetworkJson(dir, readJson(dir, 'network'));
  const file = path.join(dir, 'model.safetensors');
  let state: ReturnType<typeof readSafetensors>;
  try {
    state = readSafetensors(new Uint8Array(fs.readFileSync(file)), file);
  } catch (e) {
    throw new ModelDirError((e as Error).message);
  }
  const info = describe(net.network.name, net.network.width, net.network.inputSize);
  const graph = graphOf(info.name, info.width, info.inputSize);
  const backboneState = new Map([...state].filter(([k]) => !k.startsWith('head.')));
  const { weights, unknown } = fromTorchvision(backboneState, graph);
  if (unknown.length)
    throw new ModelDirError(
      `${file} has tensors that name no layer of ${info.name}: ${unknown.slice(0, 6).join(', ')}`,
    );
  for (const [k, t] of headFromTorch(state, net.head.layers)) weights.set(k, t);
  const backbone = buildLayers(graph, info.featureLayer, `${info.name}_backbone`);
  const model = joinNetwork(backbone, makeHead(net.head.inputs, net.head.layers, 0)).full;
  try {
    assignWeights(model, weights, file);
  } catch (e) {
    model.dispose();
    throw new ModelDirError((e as Error).message);
  }
  if (model.outputs[0]!.shape[1] !== labels.length) {
    model.dispose();
    throw new ModelDirError(
      `${path.join(dir, 'labels.json')} names ${labels.length} classes, but the model in network.json has ` +
        `${model.outputs[0]!.shape[1]} outputs`,
    );
  }
  return { model, meta: metaOf(labels, pre) };
}
