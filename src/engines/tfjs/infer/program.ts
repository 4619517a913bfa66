import type { tf } from '../tf.js';
import { ancestors, type Graph, type Node } from '../../../zoo/graph.js';
import { opDef, type ProgramKit } from '../../../zoo/ops/index.js';
import type { Activation, Step, Program, W } from '../../../zoo/program.js';
import { headLayerDef } from '../../../zoo/head-layers.js';
import type { PlanHeadLayer } from '../../../contracts/plan.js';
import { weightName } from '../assign-weights.js';

// A network for inference only, as plain data: steps over numbered outputs, and the weights as
// Float32Arrays, so it can be posted to a worker thread. Compiling folds each BatchNorm into the
// convolution before it, fuses the ReLU after it and turns padding layers into the convolution's
// own padding: on wasm, BatchNorm and padding passes cost as much as MobileNet's convolutions.

export type { Activation, Padding, W, Op, Step, Program } from '../../../zoo/program.js';

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
    const k = need(w, 'kernel', name),
      bias = w.get('bias');
    return this.add({
      kind: 'dense',
      kernel: this.weight(k.data, k.shape),
      bias: bias ? this.weight(bias.data, bias.shape) : null,
      activation,
      inputs,
    });
  }
  /** A BatchNorm of `model` with no convolution to fold into, as a step. */
  affine(model: tf.LayersModel, name: string, epsilon: number, inputs: readonly number[]): number {
    const { scale, shift } = bnAffine(model, name, epsilon);
    return this.add({
      kind: 'affine',
      scale: this.weight(scale, [scale.length]),
      shift: this.weight(shift, [shift.length]),
      inputs,
    });
  }
}

/** A layer's weights by their Keras names (kernel, bias, gamma, beta, moving_mean, ...). */
function layerWeights(model: tf.LayersModel, name: string): Map<string, { data: Float32Array; shape: number[] }> {
  const layer = model.getLayer(name);
  const values = layer.getWeights();
  const out = new Map<string, { data: Float32Array; shape: number[] }>();
  layer.weights.forEach((v, i) => {
    out.set(weightName(v), { data: values[i]!.dataSync() as Float32Array, shape: values[i]!.shape });
  });
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
  const mean = need(w, 'moving_mean', name).data,
    variance = need(w, 'moving_variance', name).data;
  const gamma = w.get('gamma')?.data,
    beta = w.get('beta')?.data;
  const scale = new Float32Array(mean.length),
    shift = new Float32Array(mean.length);
  for (let c = 0; c < mean.length; c++) {
    scale[c] = (gamma ? gamma[c]! : 1) / Math.sqrt(variance[c]! + epsilon);
    shift[c] = (beta ? beta[c]! : 0) - mean[c]! * scale[c]!;
  }
  return { scale, shift };
}

/**
 * The part of `graph` that computes `output`, with the weights `model` holds now, followed by a
 * head when given (its layers as the plan lists them, its weights in `head.model`). Each node's op
 * emits its own steps (zoo/ops, `program` facet), folding neighbours through the kit made here.
 */
export function compile(
  graph: Graph,
  output: string,
  model: tf.LayersModel,
  head?: { layers: readonly PlanHeadLayer[]; model: tf.LayersModel },
): Program {
  const nodes = ancestors(graph, output);
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const consumers = new Map<string, Node[]>();
  for (const n of nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);

  const b = new Builder();
  const at = new Map<string, number>(); // node name -> step index (or -1: the input)
  const done = new Set<string>();
  const padFor = new Map<string, readonly [number, number, number, number]>(); // zero padding folded into a node
  let inputShape: readonly number[] = [];

  for (const n of nodes) {
    if (done.has(n.name)) continue;
    if (n.op.kind === 'input') {
      inputShape = n.shape;
      at.set(n.name, -1);
      continue;
    }
    const kit: ProgramKit<unknown> = {
      node: n,
      src: () => n.inputs.map((i) => at.get(i)!),
      inputShape: (i = 0) => byName.get(n.inputs[i]!)!.shape,
      sole: (of = n) => {
        const c = consumers.get(of.name) ?? [];
        return c.length === 1 && of.name !== output ? c[0]! : null;
      },
      extraPad: padFor.get(n.name),
      foldPadInto: (next, pad) => {
        padFor.set(next.name, pad);
        at.set(n.name, at.get(n.inputs[0]!)!);
      },
      weights: (name = n.name) => layerWeights(model, name),
      bnAffine: (name, epsilon) => bnAffine(model, name, epsilon),
      weight: (data, shape) => b.weight(data, shape),
      step: (step) => b.add(step as Step),
      emit: (step, ...fused) => {
        for (const f of [n, ...fused]) {
          at.set(f.name, step);
          done.add(f.name);
        }
      },
    };
    opDef(n.op).program(kit as ProgramKit<never>);
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
    const run = headLayerDef(l).program;
    if (run === 'skip') return;
    const activation = l.kind === 'dense' ? l.activation : 'linear';
    x =
      run === 'dense'
        ? b.dense(model, name, activation, [x])
        : b.affine(model, name, model.getLayer(name).getConfig().epsilon as number, [x]);
  });
  return x;
}
