import { tf } from '../tf.js';
import { ancestors, ceilModePadding, type Graph, type Node, type Pad } from '../../zoo/graph.js';
import type { PlanHeadLayer } from '../../plan/types.js';
import { weightName } from '../weights/assign.js';

// A network for inference only, as plain data: steps over numbered outputs, and the weights as
// Float32Arrays, so it can be posted to a worker thread. Compiling folds each BatchNorm into the
// convolution before it, fuses the ReLU after it and turns padding layers into the convolution's
// own padding: on wasm, BatchNorm and padding passes cost as much as MobileNet's convolutions.

/** tf.layers' activation names (the head's dense layers take any the language allows). */
export type Activation = string;
export type Padding = 'same' | 'valid' | readonly [top: number, bottom: number, left: number, right: number];

/** Weight `at` of the program's weights. */
export interface W { readonly at: number }

export type Op =
  | { readonly kind: 'conv'; readonly depthwise: boolean; readonly kernel: W; readonly bias: W | null; readonly strides: readonly [number, number]; readonly pad: Padding; readonly activation: Activation }
  /** A BatchNorm with no convolution before it to fold into: x * scale + shift. */
  | { readonly kind: 'affine'; readonly scale: W; readonly shift: W }
  | { readonly kind: 'activation'; readonly activation: Activation }
  | { readonly kind: 'pad'; readonly pad: readonly [number, number, number, number] }
  | { readonly kind: 'maxpool' | 'avgpool'; readonly pool: readonly [number, number]; readonly strides: readonly [number, number]; readonly pad: Padding }
  | { readonly kind: 'adaptiveavg'; readonly size: number }
  | { readonly kind: 'gap' }
  | { readonly kind: 'flatten'; readonly chw: boolean }
  | { readonly kind: 'dense'; readonly kernel: W; readonly bias: W | null; readonly activation: Activation }
  | { readonly kind: 'add' }
  | { readonly kind: 'concat' };

/** One step: its inputs are earlier steps' indices, or -1 for the program's input. */
export type Step = Op & { readonly inputs: readonly number[] };

export interface Program {
  readonly inputShape: readonly number[];
  readonly steps: readonly Step[];
  readonly weights: readonly Float32Array[];
  readonly shapes: readonly (readonly number[])[];
}

class Builder {
  readonly steps: Step[] = [];
  readonly weights: Float32Array[] = [];
  readonly shapes: (readonly number[])[] = [];
  weight(data: Float32Array, shape: readonly number[]): W {
    this.weights.push(data);
    this.shapes.push(shape);
    return { at: this.weights.length - 1 };
  }
  add(step: Step): number {
    this.steps.push(step);
    return this.steps.length - 1;
  }
  /** A Dense layer of `model` as a step. */
  dense(model: tf.LayersModel, name: string, activation: Activation, inputs: readonly number[]): number {
    const w = layerWeights(model, name);
    const k = need(w, 'kernel', name), bias = w.get('bias');
    return this.add({ kind: 'dense', kernel: this.weight(k.data, k.shape), bias: bias ? this.weight(bias.data, bias.shape) : null, activation, inputs });
  }
  /** A BatchNorm of `model` with no convolution to fold into, as a step. */
  affine(model: tf.LayersModel, name: string, epsilon: number, inputs: readonly number[]): number {
    const { scale, shift } = bnAffine(model, name, epsilon);
    return this.add({ kind: 'affine', scale: this.weight(scale, [scale.length]), shift: this.weight(shift, [shift.length]), inputs });
  }
}

/** A layer's weights by their Keras names (kernel, bias, gamma, beta, moving_mean, ...). */
function layerWeights(model: tf.LayersModel, name: string): Map<string, { data: Float32Array; shape: number[] }> {
  const layer = model.getLayer(name);
  const values = layer.getWeights();
  const out = new Map<string, { data: Float32Array; shape: number[] }>();
  layer.weights.forEach((v, i) => out.set(weightName(v), { data: values[i]!.dataSync() as Float32Array, shape: values[i]!.shape }));
  return out;
}

function need<T>(m: Map<string, T>, key: string, layer: string): T {
  const v = m.get(key);
  if (!v) throw new Error(`layer ${layer} has no ${key} weight`);
  return v;
}

/** Per-channel scale and shift of an inference-mode BatchNorm. */
function bnAffine(model: tf.LayersModel, name: string, epsilon: number): { scale: Float32Array; shift: Float32Array } {
  const w = layerWeights(model, name);
  const mean = need(w, 'moving_mean', name).data, variance = need(w, 'moving_variance', name).data;
  const gamma = w.get('gamma')?.data, beta = w.get('beta')?.data;
  const scale = new Float32Array(mean.length), shift = new Float32Array(mean.length);
  for (let c = 0; c < mean.length; c++) {
    scale[c] = (gamma ? gamma[c]! : 1) / Math.sqrt(variance[c]! + epsilon);
    shift[c] = (beta ? beta[c]! : 0) - mean[c]! * scale[c]!;
  }
  return { scale, shift };
}

const padOf = (p: Pad): Padding => (p === 'same' || p === 'valid' ? p : [p[0], p[1], p[2], p[3]]);

/** Adds explicit zero padding to a 'valid' or explicit padding; null when it cannot ('same'). */
function widen(p: Padding, z: readonly [number, number, number, number]): Padding | null {
  if (p === 'same') return null;
  const base = p === 'valid' ? [0, 0, 0, 0] : p;
  return [base[0]! + z[0], base[1]! + z[1], base[2]! + z[2], base[3]! + z[3]];
}

/**
 * The part of `graph` that computes `output`, with the weights `model` holds now, followed by a
 * head when given (its layers as the plan lists them, its weights in `head.model`).
 */
export function compile(graph: Graph, output: string, model: tf.LayersModel, head?: { layers: readonly PlanHeadLayer[]; model: tf.LayersModel }): Program {
  const nodes = ancestors(graph, output);
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const consumers = new Map<string, Node[]>();
  for (const n of nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  /** The node's one consumer, when it has exactly one and is not the output. */
  const sole = (n: Node): Node | null => {
    const c = consumers.get(n.name) ?? [];
    return c.length === 1 && n.name !== output ? c[0]! : null;
  };

  const b = new Builder();
  const at = new Map<string, number>(); // node name -> step index (or -1: the input)
  const done = new Set<string>();
  const padFor = new Map<string, readonly [number, number, number, number]>(); // zero padding folded into a node
  const src = (n: Node) => n.inputs.map((i) => at.get(i)!);
  let inputShape: readonly number[] = [];

  for (const n of nodes) {
    if (done.has(n.name)) continue;
    const op = n.op;
    switch (op.kind) {
      case 'input': inputShape = n.shape; at.set(n.name, -1); break;
      case 'zeropad': {
        // Folded into a convolution or max pool that follows (zeros equal -inf padding after a ReLU, as in build.ts).
        const next = sole(n);
        if (next && (next.op.kind === 'conv' || next.op.kind === 'depthwise' || next.op.kind === 'maxpool') && widen(padOf(next.op.padding), op.padding)) {
          at.set(n.name, at.get(n.inputs[0]!)!);
          padFor.set(next.name, op.padding);
          break;
        }
        at.set(n.name, b.add({ kind: 'pad', pad: op.padding, inputs: src(n) }));
        break;
      }
      case 'conv':
      case 'depthwise': {
        const extra = padFor.get(n.name);
        const w = layerWeights(model, n.name);
        const k = need(w, op.kind === 'conv' ? 'kernel' : 'depthwise_kernel', n.name);
        let kernel = k.data, bias = w.get('bias')?.data ?? null;
        const fused = [n];
        const bn = sole(n);
        if (bn && bn.op.kind === 'bn') {
          const { scale, shift } = bnAffine(model, bn.name, bn.op.epsilon);
          // Output channel of a flat kernel index: the last axis for a convolution, the last two
          // (channel, multiplier) for a depthwise one; both are the index modulo their product.
          const outs = scale.length;
          kernel = kernel.map((v, i) => v * scale[i % outs]!);
          const b0 = bias;
          bias = shift.map((s, c) => s + (b0 ? b0[c]! * scale[c]! : 0));
          fused.push(bn);
        }
        let activation: Activation = 'linear';
        const act = sole(fused[fused.length - 1]!);
        if (act && (act.op.kind === 'relu' || act.op.kind === 'relu6')) {
          activation = act.op.kind;
          fused.push(act);
        }
        const pad = extra ? widen(padOf(op.padding), extra)! : padOf(op.padding);
        const step = b.add({
          kind: 'conv', depthwise: op.kind === 'depthwise', kernel: b.weight(kernel, k.shape), bias: bias && b.weight(bias, [bias.length]),
          strides: [op.strides[0], op.strides[1]], pad, activation, inputs: src(n),
        });
        for (const f of fused) { at.set(f.name, step); done.add(f.name); }
        break;
      }
      case 'bn': at.set(n.name, b.affine(model, n.name, op.epsilon, src(n))); break;
      case 'relu': case 'relu6': at.set(n.name, b.add({ kind: 'activation', activation: op.kind, inputs: src(n) })); break;
      case 'maxpool': case 'avgpool': {
        const extra = padFor.get(n.name);
        const own = op.kind === 'maxpool' ? ceilModePadding(op, byName.get(n.inputs[0]!)!.shape) : op.padding;
        let pad = extra ? widen(padOf(own), extra)! : padOf(own);
        let input = src(n);
        if (op.kind === 'avgpool' && Array.isArray(pad) && pad.some((v) => v)) {
          // PyTorch counts the padding in the average (countIncludePad); XNNPACK's pool leaves it out.
          input = [b.add({ kind: 'pad', pad: pad as [number, number, number, number], inputs: input })];
          pad = 'valid';
        }
        at.set(n.name, b.add({ kind: op.kind, pool: [op.pool[0], op.pool[1]], strides: [op.strides[0], op.strides[1]], pad, inputs: input }));
        break;
      }
      case 'adaptiveavg': {
        const [h, w] = byName.get(n.inputs[0]!)!.shape as [number, number];
        at.set(n.name, h === op.size && w === op.size ? at.get(n.inputs[0]!)! : b.add({ kind: 'adaptiveavg', size: op.size, inputs: src(n) }));
        break;
      }
      case 'gap': at.set(n.name, b.add({ kind: 'gap', inputs: src(n) })); break;
      case 'flatten': at.set(n.name, b.add({ kind: 'flatten', chw: op.order === 'chw', inputs: src(n) })); break;
      case 'dropout': at.set(n.name, at.get(n.inputs[0]!)!); break;
      case 'dense': {
        const act = sole(n);
        const fuse = act && act.op.kind === 'relu';
        const step = b.dense(model, n.name, fuse ? 'relu' : 'linear', src(n));
        for (const f of fuse ? [n, act] : [n]) { at.set(f.name, step); done.add(f.name); }
        break;
      }
      case 'add': at.set(n.name, b.add({ kind: 'add', inputs: src(n) })); break;
      case 'concat': at.set(n.name, b.add({ kind: 'concat', inputs: src(n) })); break;
    }
  }
  let last = at.get(output)!;
  if (head) last = compileHead(b, last, head.layers, head.model);
  // The output must be the last step: a network whose output is its input gets an identity.
  if (last !== b.steps.length - 1 || last === -1) b.add({ kind: 'activation', activation: 'linear', inputs: [last] });
  return { inputShape, steps: b.steps, weights: b.weights, shapes: b.shapes };
}

function compileHead(b: Builder, input: number, layers: readonly PlanHeadLayer[], model: tf.LayersModel): number {
  let x = input;
  layers.forEach((l, i) => {
    const name = `head.${i}`;
    if (l.kind === 'dropout') return;
    x = l.kind === 'dense'
      ? b.dense(model, name, l.activation, [x])
      : b.affine(model, name, model.getLayer(name).getConfig().epsilon as number, [x]);
  });
  return x;
}
