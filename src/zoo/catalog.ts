// The zoo's metadata as plain data, derived from the pure graphs in ./arch. The compiler reads it
// (names, blocks, layers, parameter counts, input sizes); it never loads TensorFlow.js.
import { ancestors, ShapeError, type Graph, type Shape } from './graph.js';
import { resnet, RESNETS } from './arch/resnet.js';
import { vgg, alexnet, VGGS } from './arch/vgg.js';
import { densenet, DENSENETS } from './arch/densenet.js';
import { inceptionV3 } from './arch/inception.js';
import { mobilenetV1, mobilenetV2 } from './arch/mobilenet.js';
import { IMAGENET_WEIGHTS, weightsKey, type WeightsSource } from './registry.js';

export interface Preprocessing {
  /** Pixels are scaled to [0, 1], then (x - mean) / std per channel, RGB order. */
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  readonly description: string;
}

const IMAGENET: Preprocessing = {
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  description: 'ImageNet mean/std',
};
const SYMMETRIC: Preprocessing = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], description: 'scaled to [-1, 1]' };

export interface Family {
  readonly name: string;
  readonly summary: string;
  readonly layout: 'torchvision' | 'keras';
  /** Width multipliers; null for networks without one. */
  readonly widths: readonly number[] | null;
  readonly defaultWidth: number | null;
  readonly inputSize: number;
  readonly preprocessing: Preprocessing;
  /** The layer whose output is the feature vector a new head is put on. */
  readonly featureLayer: string;
  readonly build: (width: number, inputSize: number) => Graph;
}

const fam = (f: Family): Family => f;
export const FAMILIES: readonly Family[] = [
  fam({
    name: 'alexnet',
    summary: 'AlexNet (torchvision)',
    layout: 'torchvision',
    widths: null,
    defaultWidth: null,
    inputSize: 224,
    preprocessing: IMAGENET,
    featureLayer: 'classifier.5',
    build: (_w, s) => alexnet('alexnet', s),
  }),
  ...VGGS.map((n) =>
    fam({
      name: n,
      summary: `${n.toUpperCase()} (torchvision, no batch norm)`,
      layout: 'torchvision',
      widths: null,
      defaultWidth: null,
      inputSize: 224,
      preprocessing: IMAGENET,
      featureLayer: 'classifier.5',
      build: (_w, s) => vgg(n, s),
    }),
  ),
  ...RESNETS.map((n) =>
    fam({
      name: n,
      summary: `ResNet-${n.slice(6)} (torchvision)`,
      layout: 'torchvision',
      widths: null,
      defaultWidth: null,
      inputSize: 224,
      preprocessing: IMAGENET,
      featureLayer: 'avgpool',
      build: (_w, s) => resnet(n, s),
    }),
  ),
  ...DENSENETS.map((n) =>
    fam({
      name: n,
      summary: `DenseNet-${n.slice(8)} (torchvision)`,
      layout: 'torchvision',
      widths: null,
      defaultWidth: null,
      inputSize: 224,
      preprocessing: IMAGENET,
      featureLayer: 'avgpool',
      build: (_w, s) => densenet(n, s),
    }),
  ),
  fam({
    name: 'inception_v3',
    summary: 'Inception v3 (torchvision, with its auxiliary classifier)',
    layout: 'torchvision',
    widths: null,
    defaultWidth: null,
    inputSize: 299,
    preprocessing: SYMMETRIC,
    featureLayer: 'avgpool',
    build: (_w, s) => inceptionV3('inception_v3', s),
  }),
  fam({
    name: 'mobilenet_v1',
    summary: 'MobileNet V1 (Keras applications)',
    layout: 'keras',
    widths: [0.25, 0.5, 0.75, 1],
    defaultWidth: 1,
    inputSize: 224,
    preprocessing: SYMMETRIC,
    featureLayer: 'global_average_pooling2d',
    build: mobilenetV1,
  }),
  fam({
    name: 'mobilenet_v2',
    summary: 'MobileNet V2 (Keras applications)',
    layout: 'keras',
    widths: [0.35, 0.5, 0.75, 1, 1.4],
    defaultWidth: 1,
    inputSize: 224,
    preprocessing: SYMMETRIC,
    featureLayer: 'global_average_pooling2d',
    build: mobilenetV2,
  }),
];

export const MODEL_NAMES: readonly string[] = FAMILIES.map((f) => f.name);

/** The zoo family named `name`, if any. */
export function family(name: string): Family | undefined {
  return FAMILIES.find((f) => f.name === name);
}

export interface LayerInfo {
  readonly index: number;
  readonly name: string;
  readonly block: string;
  readonly kind: string;
  readonly params: number;
  /** Multiply-accumulates per image, forward. */
  readonly macs: number;
  readonly shape: Shape;
}

export interface BlockInfo {
  readonly name: string;
  /** Other names accepted for the block (torchvision's module names, e.g. layer3 for block3). */
  readonly aliases: readonly string[];
  /** Index range in `layers`, inclusive. */
  readonly first: number;
  readonly last: number;
  readonly params: number;
}

export interface ModelInfo {
  readonly name: string;
  readonly width: number | null;
  readonly inputSize: number;
  readonly preprocessing: Preprocessing;
  /** The backbone: every layer needed for the feature layer, in order (the input excluded). */
  readonly layers: readonly LayerInfo[];
  readonly blocks: readonly BlockInfo[];
  readonly featureLayer: string;
  readonly featureSize: number;
  readonly backboneParams: number;
  /** The whole ImageNet network, classifier (and Inception's auxiliary head) included. */
  readonly imagenetParams: number;
  readonly weights: WeightsSource | null;
}

const cache = new Map<string, ModelInfo>();

/** A network, width or input size the zoo does not have. */
export class CatalogError extends Error {}

/**
 * Metadata of one network at one width and input size. Throws CatalogError on an unknown name or width, or an input too
 * small.
 */
export function describe(name: string, width: number | null = null, inputSize: number | null = null): ModelInfo {
  const f = family(name);
  if (!f) throw new CatalogError(`unknown model ${name}`);
  const w = f.widths ? (width ?? f.defaultWidth) : null;
  if (f.widths && !f.widths.includes(w!)) throw new CatalogError(`${name} has no width ${width}`);
  if (!f.widths && width !== null && width !== 1) throw new CatalogError(`${name} has no width multiplier`);
  const size = inputSize ?? f.inputSize;
  const key = `${name}|${w}|${size}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let graph: Graph;
  try {
    graph = f.build(w ?? 1, size);
  } catch (e) {
    if (e instanceof ShapeError) throw new CatalogError(`input ${size} is too small for ${name}: ${e.message}`);
    throw e;
  }
  const backbone = ancestors(graph, f.featureLayer).filter((n) => n.op.kind !== 'input');
  const layers = backbone.map(
    (n, index): LayerInfo => ({
      index,
      name: n.name,
      block: n.block,
      kind: n.op.kind,
      params: n.params,
      macs: n.macs,
      shape: n.shape,
    }),
  );
  const blocks: BlockInfo[] = [];
  for (const l of layers) {
    const b = blocks[blocks.length - 1];
    if (b && b.name === l.block) blocks[blocks.length - 1] = { ...b, last: l.index, params: b.params + l.params };
    else
      blocks.push({ name: l.block, aliases: aliasesOf(f, l.block), first: l.index, last: l.index, params: l.params });
  }
  const info: ModelInfo = {
    name,
    width: w,
    inputSize: size,
    preprocessing: f.preprocessing,
    layers,
    blocks,
    featureLayer: f.featureLayer,
    featureSize: layers[layers.length - 1]!.shape[0]!,
    backboneParams: layers.reduce((t, l) => t + l.params, 0),
    imagenetParams: graph.nodes.reduce((t, n) => t + n.params, 0),
    weights: IMAGENET_WEIGHTS[weightsKey(name, w)] ?? null,
  };
  cache.set(key, info);
  return info;
}

function aliasesOf(f: Family, block: string): string[] {
  const m = /^block(\d+)$/.exec(block);
  if (f.name.startsWith('resnet') && m) return [`layer${m[1]}`];
  if (f.name.startsWith('densenet') && m) return [`denseblock${m[1]}`];
  return [];
}

/** The graph of one network, for the runtime's builder. */
export function graphOf(name: string, width: number | null, inputSize: number): Graph {
  const f = family(name);
  if (!f) throw new CatalogError(`unknown model ${name}`);
  return f.build(width ?? 1, inputSize);
}

/** Networks compute at different speeds per MAC: plain convolutions, and depthwise ones (MobileNets). */
export type NetworkKind = 'conv' | 'depthwise';

/** A network's kind: `depthwise` when its backbone has depthwise convolutions. */
export const networkKindOf = (info: ModelInfo): NetworkKind =>
  info.layers.some((l) => l.kind === 'depthwise') ? 'depthwise' : 'conv';
