import { tf } from '../tf.js';
import type { Activation, Op, Padding, Program } from './program.js';
import { adaptiveAvgPool } from '../tf-layers/layers.js';

// Runs a Program with TensorFlow.js ops on the current backend. Each intermediate is disposed as
// soon as its last reader has run, so a deep network at a large batch holds only what is live.

type FusedActivation = 'linear' | 'relu' | 'relu6' | 'elu' | 'sigmoid';
const FUSED = new Set<string>(['linear', 'relu', 'relu6', 'elu', 'sigmoid']);

const explicit = (p: Padding): 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]] =>
  p === 'same' || p === 'valid'
    ? p
    : [
        [0, 0],
        [p[0], p[1]],
        [p[2], p[3]],
        [0, 0],
      ];

/** Applies an activation tf.layers knows by name (the fused ones never get here). */
function activate(x: tf.Tensor, name: Activation, layers: Map<string, tf.layers.Layer>): tf.Tensor {
  if (name === 'linear') return x.clone();
  let l = layers.get(name);
  if (!l) {
    l = tf.layers.activation({ activation: name as 'relu' });
    layers.set(name, l);
  }
  return l.apply(x) as tf.Tensor;
}

type StepOf<K extends Op['kind']> = Extract<Op, { kind: K }>;
type Weight = (ref: { at: number }) => tf.Tensor;

/** How TensorFlow.js runs each kind of program step; the mapped type makes a missing kind a type error. */
const RUN: {
  readonly [K in Op['kind']]: (
    s: StepOf<K>,
    xs: tf.Tensor[],
    w: Weight,
    acts: Map<string, tf.layers.Layer>,
  ) => tf.Tensor;
} = {
  conv: (s, [x], w) => {
    // fused.conv2d's type leaves out explicit padding, which the op itself (computeConv2DInfo) takes.
    const args = {
      x: x as tf.Tensor4D,
      filter: w(s.kernel) as tf.Tensor4D,
      strides: [...s.strides] as [number, number],
      pad: explicit(s.pad) as 'valid',
      bias: s.bias ? w(s.bias) : undefined,
      activation: s.activation as FusedActivation,
    };
    return s.depthwise ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
  },
  affine: (s, [x], w) => x!.mul(w(s.scale)).add(w(s.shift)),
  activation: (s, [x], _w, acts) => activate(x!, s.activation, acts),
  pad: (s, [x]) =>
    tf.pad(x!, [
      [0, 0],
      [s.pad[0], s.pad[1]],
      [s.pad[2], s.pad[3]],
      [0, 0],
    ]),
  maxpool: (s, [x]) => tf.maxPool(x as tf.Tensor4D, [...s.pool], [...s.strides], explicit(s.pad)),
  avgpool: (s, [x]) => tf.avgPool(x as tf.Tensor4D, [...s.pool], [...s.strides], explicit(s.pad)),
  adaptiveavg: (s, [x]) => adaptiveAvgPool(x as tf.Tensor4D, s.size),
  gap: (_s, [x]) => x!.mean([1, 2]),
  flatten: (s, [x]) => (s.chw ? x!.transpose([0, 3, 1, 2]) : x!).reshape([x!.shape[0]!, -1]),
  dense: (s, [x], w, acts) => {
    const fused = FUSED.has(s.activation);
    const y = tf.fused.matMul({
      a: x as tf.Tensor2D,
      b: w(s.kernel) as tf.Tensor2D,
      bias: s.bias ? w(s.bias) : undefined,
      activation: (fused ? s.activation : 'linear') as FusedActivation,
    });
    return fused ? y : activate(y, s.activation, acts);
  },
  add: (_s, xs) => (xs.length === 2 ? tf.add(xs[0]!, xs[1]!) : tf.addN(xs)),
  concat: (_s, xs) => tf.concat(xs, -1),
};

/** Runs a Program with TensorFlow.js ops on the current backend. */
export class Runner {
  private readonly weights: tf.Tensor[];
  private readonly lastUse: number[];
  private readonly activations = new Map<string, tf.layers.Layer>();

  constructor(readonly program: Program) {
    this.weights = program.weights.map((w, i) => tf.tensor(w, [...program.shapes[i]!]));
    const n = program.steps.length;
    this.lastUse = new Array<number>(n).fill(-1);
    program.steps.forEach((s, i) => {
      for (const j of s.inputs) if (j >= 0) this.lastUse[j] = i;
    });
  }

  /** The program's output for a batch `x` (the caller keeps ownership of `x`). */
  run(x: tf.Tensor): tf.Tensor {
    const want = this.program.inputShape;
    if (x.rank !== want.length + 1 || want.some((d, i) => x.shape[i + 1] !== d)) {
      throw new Error(`the network takes batches of [${want.join(', ')}], not [${x.shape.slice(1).join(', ')}]`);
    }
    const out: (tf.Tensor | null)[] = new Array(this.program.steps.length).fill(null);
    const get = (j: number): tf.Tensor => (j < 0 ? x : out[j]!);
    try {
      this.program.steps.forEach((s, i) => {
        out[i] = tf.tidy(() => this.step(s, s.inputs.map(get)));
        for (const j of s.inputs)
          if (j >= 0 && this.lastUse[j] === i) {
            out[j]!.dispose();
            out[j] = null;
          }
      });
      const y = out[out.length - 1]!;
      out[out.length - 1] = null;
      return y;
    } finally {
      for (const t of out) t?.dispose();
    }
  }

  private w(ref: { at: number }): tf.Tensor {
    return this.weights[ref.at]!;
  }

  private step(s: Op, xs: tf.Tensor[]): tf.Tensor {
    const run = RUN[s.kind] as (
      s: Op,
      xs: tf.Tensor[],
      w: (ref: { at: number }) => tf.Tensor,
      acts: Map<string, tf.layers.Layer>,
    ) => tf.Tensor;
    return run(s, xs, (ref) => this.w(ref), this.activations);
  }

  dispose(): void {
    tf.dispose(this.weights);
  }
}
