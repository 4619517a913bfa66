import * as fs from 'node:fs';
import * as path from 'node:path';
import type { tf } from '../tf.js';
import { describe, family, graphOf, type ModelInfo } from '../../../zoo/catalog.js';
import { ancestors, type Graph } from '../../../zoo/graph.js';
import type { PlanWeights } from '../../../contracts/plan.js';
import { buildLayers } from './build.js';
import { resolveWeights, type ResolvedFiles } from '../../../runtime/weights/resolve.js';
import { readTfjsModel } from '../../../runtime/weights/tfjs-format.js';
import { readSafetensors } from '../../../runtime/weights/safetensors.js';
import { fromTorchvision } from '../../../runtime/weights/torchvision.js';
import { assignWeights } from '../assign-weights.js';
import { WeightsError, type WeightMap } from '../../../runtime/weights/tensors.js';
import type { Progress } from '../../../runtime/weights/download.js';
import { isProblem, parseWeights } from '../../../zoo/weights-spec.js';
import { fileKind } from '../../../data/layout.js';

export interface BuildOptions {
  /** Width multiplier (MobileNets). */
  readonly width?: number | null;
  /** Square input side; default the network's own. */
  readonly inputSize?: number | null;
  /** End with the network's ImageNet classifier (logits) instead of the feature vector. */
  readonly includeTop?: boolean;
  /**
   * 'imagenet' (default), 'none', a path (model.json, .safetensors, a tlr model folder), an https URL, or a plan's
   * resolved weights.
   */
  readonly weights?: string | PlanWeights;
  /** Where tlr.lock lives (the recipe's folder); null for no lock. */
  readonly lockDir?: string | null;
  readonly env?: NodeJS.ProcessEnv;
  readonly onProgress?: (p: Progress) => void;
  /** Seeds the initialisation of layers that get no loaded weights. */
  readonly seed?: number;
}

export interface Built {
  readonly model: tf.LayersModel;
  readonly info: ModelInfo;
  readonly graph: Graph;
  readonly files: ResolvedFiles | null;
}

/** A caller's weights argument as the plan describes weights (the checker's rule: zoo/weights-spec.ts). */
export function weightsSpec(info: ModelInfo, weights: string): PlanWeights {
  const r = parseWeights(weights, info, {
    resolve: (p) => path.resolve(p),
    show: (p) => p,
    exists: fileKind,
  });
  if (isProblem(r)) throw new WeightsError(r.message, r.hints);
  return r;
}

/** Reads weight files into Keras-style names, converting torchvision layouts. */
export function readWeights(files: ResolvedFiles, graph: Graph, layout: 'torchvision' | 'keras'): WeightMap {
  const torchModel = files.format === 'tlr' && files.entry.endsWith('.safetensors');
  if (files.format !== 'safetensors' && !torchModel) return readTfjsModel(files.entry).weights;
  const state = readSafetensors(new Uint8Array(fs.readFileSync(files.entry)), files.entry);
  // A torch engine's model: its old head (head.*) is replaced by the plan's.
  if (torchModel) for (const k of [...state.keys()]) if (k.startsWith('head.')) state.delete(k);
  if (layout === 'keras') return state;
  const { weights, unknown } = fromTorchvision(state, graph);
  if (unknown.length) {
    throw new WeightsError(`${files.entry} has tensors that name no layer of the network`, [
      ...unknown.slice(0, 12),
      ...(unknown.length > 12 ? [`… and ${unknown.length - 12} more`] : []),
      'tlr reads torchvision state_dict names (layer1.0.conv1.weight, features.0.bias, ...)',
    ]);
  }
  return weights;
}

/** A zoo network with its weights: the building block of every run, and the library API. */
export async function loadZooModel(name: string, opts: BuildOptions = {}): Promise<Built> {
  const info = describe(name, opts.width ?? null, opts.inputSize ?? null);
  const graph = graphOf(name, info.width, info.inputSize);
  const output = opts.includeTop ? graph.output : info.featureLayer;
  // From random weights, activations drift fast and far from unit variance; Keras' BatchNorm
  // momentum of 0.99 then leaves the inference statistics far behind. PyTorch's 0.9 keeps up.
  const w = opts.weights ?? 'imagenet';
  const spec = typeof w === 'string' ? weightsSpec(info, w) : w;
  const fromScratch = spec.kind === 'none';
  const model = buildLayers(
    graph,
    output,
    opts.includeTop ? name : `${name}_backbone`,
    opts.seed,
    fromScratch ? 0.9 : undefined,
  );
  try {
    const files = await resolveWeights(spec, {
      env: opts.env,
      lockDir: opts.lockDir ?? null,
      onProgress: opts.onProgress,
      what: `the ImageNet weights of ${name}${info.width !== null ? ` width ${info.width}` : ''}`,
    });
    if (files) {
      // Names are matched against the network at its own input size: a small input can drop
      // layers (Inception's auxiliary head) whose weights a file still holds.
      const f = family(name)!;
      const whole = graphOf(name, info.width, f.inputSize);
      const built = new Set(ancestors(graph, output).map((n) => n.name));
      const known = new Set(whole.nodes.map((n) => n.name));
      // Layers of the whole network that this model leaves out (its classifier, an auxiliary head).
      // A tlr model used as a backbone also holds its old head, which the new one replaces.
      const ignorable = (w: string) =>
        (!built.has(w.split('/')[0]!) && known.has(w.split('/')[0]!)) ||
        (files.format === 'tlr' && w.startsWith('head.'));
      assignWeights(model, readWeights(files, whole, f.layout), files.entry, ignorable);
    }
    return { model, info, graph, files };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/**
 * Builds a zoo network as a tf.LayersModel: `buildModel('resnet18', { weights: './r18.safetensors',
 * includeTop: true })` gives torchvision's ResNet-18 with its ImageNet logits.
 */
export async function buildModel(name: string, opts: BuildOptions = {}): Promise<tf.LayersModel> {
  return (await loadZooModel(name, opts)).model;
}
