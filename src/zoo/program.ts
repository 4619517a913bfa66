// The inference program format: a network for inference only, as plain data (steps over numbered
// outputs, weights as Float32Arrays), so it can be posted to a worker thread or written as ONNX.
// Ops compile into it (zoo/ops, `program` facet; engines/tfjs/infer/program.ts drives them); engines
// run it (engines/tfjs/infer/execute.ts with TensorFlow.js).

/** tf.layers' activation names (the head's dense layers take any the language allows). */
export type Activation = string;
export type Padding = 'same' | 'valid' | readonly [top: number, bottom: number, left: number, right: number];

/** Weight `at` of the program's weights. */
export interface W {
  readonly at: number;
}

/** A pool's window. */
export interface Window {
  readonly pool: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly pad: Padding;
}

export type Op =
  | {
      readonly kind: 'conv';
      readonly depthwise: boolean;
      readonly kernel: W;
      readonly bias: W | null;
      readonly strides: readonly [number, number];
      readonly pad: Padding;
      readonly activation: Activation;
    }
  /** A BatchNorm with no convolution before it to fold into: x * scale + shift. */
  | { readonly kind: 'affine'; readonly scale: W; readonly shift: W }
  | { readonly kind: 'activation'; readonly activation: Activation }
  | { readonly kind: 'pad'; readonly pad: readonly [number, number, number, number] }
  | ({ readonly kind: 'maxpool' } & Window)
  | ({ readonly kind: 'avgpool' } & Window)
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
