import { READABLE_RESIZERS, RESIZER } from '../../runtime/data/resize.js';
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
import type { PlanHeadLayer } from '../../plan/types.js';

// A trained model on disk: TF.js layers format (model.json + weights.bin, loadable with
// tf.loadLayersModel, in a browser too), with labels.json and preprocessing.json beside it.

export interface ModelMeta {
  readonly labels: readonly string[];
  readonly preprocessing: {
    readonly inputSize: number;
    readonly mean: readonly number[];
    readonly std: readonly number[];
    readonly description: string;
    /** The resizer the model was trained with (runtime/data/resize.ts); absent in folders saved before it was recorded. */
    readonly resize?: string;
  };
  readonly network: { readonly name: string; readonly width: number | null };
  /** The output is logits (softmax them) unless the head ends in softmax. */
  readonly output: 'logits' | 'probabilities';
}

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
        fs.writeFileSync(
          path.join(tmp, 'preprocessing.json'),
          `${JSON.stringify({ ...meta.preprocessing, network: meta.network, output: meta.output }, null, 2)}\n`,
        );
      }
      writeMarker(tmp, MODEL_MARKER, markerFields(TLR_VERSION));
    },
    MODEL_MARKER,
  );
}

/** A folder that is not a tlr model folder. */
export class ModelDirError extends TlrError {}

/** A JSON file of a model folder, parsed; a ModelDirError names the file when it is damaged. */
function readJson(dir: string, f: string): unknown {
  const file = path.join(dir, f);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ModelDirError(
      `${file} is damaged (${(e as Error).message}); save the model again (run the recipe) or restore the file`,
    );
  }
}

/** preprocessing.json, field by field. */
function checkPreprocessing(
  dir: string,
  p: unknown,
): ModelMeta['preprocessing'] & { network: ModelMeta['network']; output: ModelMeta['output'] } {
  const f = path.join(dir, 'preprocessing.json');
  const x = p as Record<string, unknown>;
  const three = (v: unknown, positive: boolean) =>
    Array.isArray(v) &&
    v.length === 3 &&
    v.every((n) => typeof n === 'number' && Number.isFinite(n) && (!positive || n > 0));
  const net = x?.['network'] as { name?: unknown; width?: unknown } | undefined;
  const problem =
    !x || typeof x !== 'object'
      ? 'is not an object'
      : !Number.isInteger(x['inputSize']) || (x['inputSize'] as number) < 16 || (x['inputSize'] as number) > 1024
        ? `has inputSize ${JSON.stringify(x['inputSize'])}, not a whole number of pixels from 16 to 1024`
        : !three(x['mean'], false)
          ? 'needs "mean": three numbers'
          : !three(x['std'], true)
            ? 'needs "std": three positive numbers'
            : !net || typeof net.name !== 'string' || (net.width !== null && typeof net.width !== 'number')
              ? 'needs "network": {name, width}'
              : x['output'] !== 'logits' && x['output'] !== 'probabilities'
                ? 'needs "output": "logits" or "probabilities"'
                : x['resize'] !== undefined && !READABLE_RESIZERS.includes(x['resize'] as string)
                  ? `says the model was trained on images resized by ${JSON.stringify(x['resize'])}, but this tlr ` +
                    `resizes with ${RESIZER}: its predictions would not match its training; use the tlr that saved it`
                  : null;
  if (problem) throw new ModelDirError(`${f} ${problem}`);
  return x as never;
}

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
  const labels = readJson(dir, 'labels.json');
  if (!Array.isArray(labels) || labels.length < 2 || !labels.every((l) => typeof l === 'string'))
    throw new ModelDirError(`${path.join(dir, 'labels.json')} must be a list of at least two class names`);
  const pre = checkPreprocessing(dir, readJson(dir, 'preprocessing.json'));
  let json: ModelJson, weights: WeightMap;
  try {
    ({ json, weights } = readTfjsModel(path.join(dir, 'model.json')));
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
  return { model, meta: { labels, preprocessing: pre, network: pre.network, output: pre.output } };
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

interface TorchNetworkJson {
  network: { name: string; width: number | null; inputSize: number };
  head: { inputs: number; layers: PlanHeadLayer[] };
}

/** network.json of a torch model folder, field by field. */
function checkNetworkJson(dir: string, x: unknown): TorchNetworkJson {
  const f = path.join(dir, 'network.json');
  const n = x as Partial<TorchNetworkJson> | null;
  const problem =
    !n || typeof n !== 'object'
      ? 'is not an object'
      : !n.network || !MODEL_NAMES.includes(n.network.name)
        ? `names the network ${JSON.stringify(n.network?.name)}, which is not in tlr's zoo`
        : !Number.isInteger(n.network.inputSize)
          ? 'needs network.inputSize, a whole number'
          : !n.head || !Number.isInteger(n.head.inputs) || !Array.isArray(n.head.layers) || !n.head.layers.length
            ? 'needs head: {inputs, layers}'
            : null;
  if (problem) throw new ModelDirError(`${f} ${problem}`);
  return n as TorchNetworkJson;
}

/**
 * A model the torch engine saved, as a tf.LayersModel: the zoo network and the head built from
 * network.json, with model.safetensors' torchvision-named weights converted to tfjs layouts.
 */
async function loadTorchModelDir(dir: string): Promise<{ model: tf.LayersModel; meta: ModelMeta }> {
  const labels = readJson(dir, 'labels.json');
  if (!Array.isArray(labels) || labels.length < 2 || !labels.every((l) => typeof l === 'string'))
    throw new ModelDirError(`${path.join(dir, 'labels.json')} must be a list of at least two class names`);
  const pre = checkPreprocessing(dir, readJson(dir, 'preprocessing.json'));
  const net = checkNetworkJson(dir, readJson(dir, 'network.json'));
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
  return { model, meta: { labels, preprocessing: pre, network: pre.network, output: pre.output } };
}
