import type * as tfjs from '@tensorflow/tfjs';
import type { Step } from '../program.js';

// What every network op provides, in one interface. An op file (conv.ts, pool.ts, …) defines its
// op types and one OpDef per kind; index.ts lists them. Ops never import an engine: the facets that
// need TensorFlow.js get it (and tlr's custom layers) from the caller through a kit, so the
// compiler and `tlr models` can read shapes and parameter counts without loading TensorFlow.js.

export type Pair = readonly [number, number];
export type Pad = 'same' | 'valid' | readonly [top: number, bottom: number, left: number, right: number];
/** [h, w, c] for maps, [c] for vectors. */
export type Shape = readonly number[];

/** A node of a graph, as the facets see it (the op narrowed to the facet's own kind). */
export interface OpNode<O> {
  readonly name: string;
  readonly block: string;
  readonly op: O;
  readonly inputs: readonly string[];
  readonly shape: Shape;
  readonly params: number;
}

/** A weight an op holds: Keras/TF.js suffix (`kernel`, `moving_mean`) and TF layout (HWIO kernels). */
export interface WeightShape {
  readonly suffix: string;
  readonly shape: readonly number[];
  /** BatchNorm running statistics: loaded and saved, never trained. */
  readonly buffer?: boolean;
}

/**
 * How a torchvision state_dict parameter (`weight`, `running_mean`) maps onto the op's weight:
 * the Keras suffix, and the axis permutation from PyTorch's layout to TF's (`flat2d`: the tensor is
 * first viewed as [out, rest], as a Linear stored as a 1x1 convolution).
 */
export interface TorchParam {
  readonly suffix: string;
  readonly perm?: readonly number[];
  readonly flat2d?: boolean;
}

type SymbolicTensor = tfjs.SymbolicTensor;

/** What the tf.layers builder hands an op's `layer` facet. */
export interface LayerKit<O> {
  readonly tf: typeof tfjs;
  readonly node: OpNode<O>;
  readonly inputs: readonly SymbolicTensor[];
  /** Applies a layer to the first input (or to `input`). */
  apply(layer: tfjs.layers.Layer, input?: SymbolicTensor | SymbolicTensor[]): SymbolicTensor;
  /** Explicit symmetric padding becomes a ZeroPadding2D layer named `NAME.pad` before a 'valid' op. */
  padded(x: SymbolicTensor, pad: Pad): { x: SymbolicTensor; padding: 'same' | 'valid' };
  /** He-normal initialiser for convolutions, seeded when the run is. */
  heNormal(): ReturnType<typeof tfjs.initializers.heNormal> | 'heNormal';
  glorotUniform(): ReturnType<typeof tfjs.initializers.glorotUniform> | 'glorotUniform';
  readonly seed: number | undefined;
  /** Overrides every BatchNorm's momentum (training from scratch). */
  readonly bnMomentum: number | undefined;
  /** tlr's own layer classes (engines/tfjs/tf-layers/layers.ts). */
  readonly custom: {
    readonly FreezableBatchNorm: new (args: object) => tfjs.layers.Layer;
    readonly FreezableDropout: new (args: object) => tfjs.layers.Layer;
    readonly AdaptiveAvgPool2D: new (args: { size: number; name?: string }) => tfjs.layers.Layer;
  };
}

/** Weights of a layer by suffix, as plain arrays. */
export type LayerWeights = Map<string, { readonly data: Float32Array; readonly shape: readonly number[] }>;

/** What the inference-program compiler hands an op's `program` facet (engines/tfjs/infer/program.ts). */
export interface ProgramKit<O> {
  readonly node: OpNode<O>;
  /** Program step indices of the node's inputs (-1: the program's input). */
  src(): number[];
  /** Shape of the node's `i`th input. */
  inputShape(i?: number): Shape;
  /** The node's one consumer, when it has exactly one and is not the program's output. */
  sole(n?: OpNode<unknown>): OpNode<unknown> | null;
  /** Zero padding an earlier zeropad node folded into this node, if any. */
  readonly extraPad: readonly [number, number, number, number] | undefined;
  /** Asks `next` to absorb `pad`; this node then passes its input on. */
  foldPadInto(next: OpNode<unknown>, pad: readonly [number, number, number, number]): void;
  /** The weights the model holds now for layer `name`. */
  weights(name?: string): LayerWeights;
  /** Per-channel scale and shift of an inference-mode BatchNorm layer. */
  bnAffine(name: string, epsilon: number): { scale: Float32Array; shift: Float32Array };
  /** Adds a weight to the program. */
  weight(data: Float32Array, shape: readonly number[]): { at: number };
  /** Adds a step; returns its index. */
  step(step: Step): number;
  /** Says that `names` (this node, and any it fused) are computed by step `at`. */
  emit(at: number, ...fused: OpNode<unknown>[]): void;
}

/**
 * Everything about one op kind. Adding an op: a file defining its type and its OpDef, and one line
 * in index.ts; the registry test fails until every facet is there.
 */
export interface OpDef<O extends { readonly kind: string }> {
  readonly kind: O['kind'];
  /** Output shape and trainable parameters (as torchvision counts them) from the inputs' shapes. */
  infer(op: O, inputs: readonly Shape[]): { shape: Shape; params: number };
  /**
   * Multiply-accumulates per image in a forward pass (what torchvision's tables call GFLOPS):
   * convolutions and dense layers; elementwise ops, pooling and BatchNorm count 0, as there.
   */
  macs(op: O, inputs: readonly Shape[], shape: Shape): number;
  /** Whether it holds weights: `freeze first N layers` and `tlr models` count these. */
  readonly weighted: boolean;
  /** The weights it holds; none for ops without weights. */
  weights(op: O, inputs: readonly Shape[], shape: Shape): readonly WeightShape[];
  /** torchvision's parameter names for its weights; empty for ops without weights. */
  readonly torchvision: Readonly<Record<string, TorchParam>>;
  /** Its tf.layers layer(s), applied to the inputs. */
  layer(kit: LayerKit<O>): SymbolicTensor;
  /** Its inference-program step(s), folding neighbours where that is exact. */
  program(kit: ProgramKit<O>): void;
}

/** The output length of a windowed op along one axis (PyTorch's rule for ceil mode). */
export function outLen(size: number, k: number, s: number, pad: Pad, axis: 0 | 1, ceil = false): number {
  if (pad === 'same') return Math.ceil(size / s);
  const [a, b] = pad === 'valid' ? [0, 0] : axis === 0 ? [pad[0], pad[1]] : [pad[2], pad[3]];
  const span = size + a + b - k;
  if (span < 0) return 0;
  let n = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  // PyTorch: with ceil_mode the last window must start inside the input or left padding.
  if (ceil && (n - 1) * s >= size + a) n -= 1;
  return n;
}

/** Output [h, w] of a windowed op. */
export function spatial(input: Shape, k: Pair, s: Pair, p: Pad, ceil = false): [number, number] {
  return [outLen(input[0]!, k[0], s[0], p, 0, ceil), outLen(input[1]!, k[1], s[1], p, 1, ceil)];
}

/** The channels (last axis) of a shape. */
export const channels = (s: Shape): number => s[s.length - 1]!;

/** 'same' and 'valid' as they are; an explicit padding as a fresh tuple (program steps are plain data). */
export const padOf = (p: Pad): Pad => (p === 'same' || p === 'valid' ? p : [p[0], p[1], p[2], p[3]]);

/** Adds explicit zero padding to a 'valid' or explicit padding; null when it cannot ('same'). */
export function widen(p: Pad, z: readonly [number, number, number, number]): Pad | null {
  if (p === 'same') return null;
  const base = p === 'valid' ? [0, 0, 0, 0] : p;
  return [base[0]! + z[0], base[1]! + z[1], base[2]! + z[2], base[3]! + z[3]];
}

/** Whether an explicit padding is all zeros. */
export const isZeroPad = (p: Pad): boolean => p !== 'same' && p !== 'valid' && p.every((v) => v === 0);

/** An op with no weights: the default for the two weight facets. */
export const NO_WEIGHTS = { weighted: false, weights: () => [], torchvision: {} } as const;

/** An op without multiply-accumulates worth counting (elementwise, pooling, reshaping). */
export const NO_MACS = { macs: () => 0 } as const;
