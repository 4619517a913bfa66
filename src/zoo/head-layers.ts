import type { PlanHeadLayer } from '../contracts/plan.js';

// The head layers a recipe can put on a network, one row each, as OPS holds the network's ops:
// how a recipe writes it and how the checker reads its arguments, how the plan shows it, its
// parameters, its TensorFlow.js layer (from a kit the tfjs engine hands over, so this file never
// loads TensorFlow.js), how a saved model's layer reads back, how an inference program runs it,
// and its PyTorch state_dict names. The torch engine's builders (python/tlr_torch/
// network.py, HEAD_LAYERS) and the plan schema's `headLayer` list the same kinds; tests hold all
// three in step. To add one: a row here, its type in PlanHeadLayer, the schema, and the builder.

export const ACTIVATIONS = [
  'linear',
  'relu',
  'relu6',
  'gelu',
  'elu',
  'selu',
  'swish',
  'tanh',
  'sigmoid',
  'softmax',
] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** A recipe argument as the checker hands it over: a number or a word, with its text. */
export interface HeadArg {
  readonly text: string;
  readonly number: boolean;
}

/** How a row reads its arguments: each method reports what is wrong and returns null. */
export interface ArgReader {
  int(a: HeadArg, what: string, min: number, max: number): number | null;
  real(a: HeadArg, what: string, ok: (v: number) => boolean, range: string): number | null;
  activation(a: HeadArg): Activation | null;
  /** The layer's arguments are wrong: `why`, and the row's usage as the hint. */
  wrong(why: string): null;
}

/** What the tfjs engine hands a row to build its layer. */
export interface HeadKit {
  dense(o: { name: string; units: number; activation: string; seed: number }): unknown;
  dropout(o: { name: string; rate: number; seed: number }): unknown;
  batchnorm(o: { name: string }): unknown;
}

/** How the inference program runs a head layer: not at all, as a dense step, or as a per-channel affine step. */
export type HeadProgram = 'skip' | 'dense' | 'affine';

type Of<K extends PlanHeadLayer['kind']> = Extract<PlanHeadLayer, { kind: K }>;

export interface HeadLayerDef<K extends PlanHeadLayer['kind']> {
  readonly kind: K;
  /** How a recipe writes it, for hints and completion. */
  readonly usage: string;
  readonly read: (args: readonly HeadArg[], r: ArgReader) => Of<K> | null;
  /** As a recipe writes it (and `tlr plan` shows it). */
  readonly text: (l: Of<K>) => string;
  /** Its trainable parameters on `inputs` features, and how many features it passes on. */
  readonly size: (l: Of<K>, inputs: number) => { readonly params: number; readonly outputs: number };
  readonly layer: (kit: HeadKit, l: Of<K>, name: string, seed: number) => unknown;
  /** The TensorFlow.js class a saved model holds, and the layer read back from its config. */
  readonly tfClass: string;
  readonly fromConfig: (c: Record<string, unknown>) => Of<K>;
  readonly program: HeadProgram;
  /** PyTorch state_dict parameter -> tlr weight name; `transpose`: stored transposed (Linear's weight). */
  readonly torch: Readonly<Record<string, { readonly name: string; readonly transpose?: boolean }>>;
}

export const HEAD_LAYERS: { readonly [K in PlanHeadLayer['kind']]: HeadLayerDef<K> } = {
  dense: {
    kind: 'dense',
    usage: 'dense(UNITS) or dense(UNITS, ACTIVATION)',
    read: ([a, b, ...rest], r) => {
      if (!a?.number || rest.length || b?.number) return r.wrong('takes a number of units and an optional activation');
      const units = r.int(a, 'the number of units', 1, 1 << 20);
      const activation = b ? r.activation(b) : 'linear';
      return units === null || activation === null ? null : { kind: 'dense', units, activation };
    },
    text: (l) => `dense(${l.units}${l.activation !== 'linear' ? `, ${l.activation}` : ''})`,
    size: (l, inputs) => ({ params: inputs * l.units + l.units, outputs: l.units }),
    layer: (kit, l, name, seed) => kit.dense({ name, units: l.units, activation: l.activation, seed }),
    tfClass: 'Dense',
    fromConfig: (c) => ({
      kind: 'dense',
      units: c['units'] as number,
      activation: (c['activation'] as Activation | undefined) ?? 'linear',
    }),
    program: 'dense',
    torch: { weight: { name: 'kernel', transpose: true }, bias: { name: 'bias' } },
  },
  dropout: {
    kind: 'dropout',
    usage: 'dropout(RATE) with 0 <= RATE < 1',
    read: (args, r) => {
      const [a] = args;
      if (!a?.number || args.length !== 1) return r.wrong('takes one rate');
      const rate = r.real(a, 'the dropout rate', (v) => v >= 0 && v < 1, '0 <= rate < 1');
      return rate === null ? null : { kind: 'dropout', rate };
    },
    text: (l) => `dropout(${l.rate})`,
    size: (_l, inputs) => ({ params: 0, outputs: inputs }),
    layer: (kit, l, name, seed) => kit.dropout({ name, rate: l.rate, seed }),
    tfClass: 'Dropout',
    fromConfig: (c) => ({ kind: 'dropout', rate: c['rate'] as number }),
    program: 'skip',
    torch: {},
  },
  batchnorm: {
    kind: 'batchnorm',
    usage: 'batchnorm',
    read: (args, r) => (args.length ? r.wrong('takes no arguments') : { kind: 'batchnorm' }),
    text: () => 'batchnorm',
    size: (_l, inputs) => ({ params: 2 * inputs, outputs: inputs }),
    layer: (kit, _l, name) => kit.batchnorm({ name }),
    tfClass: 'BatchNormalization',
    fromConfig: () => ({ kind: 'batchnorm' }),
    program: 'affine',
    torch: {
      weight: { name: 'gamma' },
      bias: { name: 'beta' },
      running_mean: { name: 'moving_mean' },
      running_var: { name: 'moving_variance' },
    },
  },
};

export const HEAD_KINDS = Object.keys(HEAD_LAYERS) as PlanHeadLayer['kind'][];

/** The row of a head layer kind (typed for the layer at hand). */
export const headLayerDef = <L extends PlanHeadLayer>(l: L): HeadLayerDef<L['kind']> =>
  HEAD_LAYERS[l.kind] as unknown as HeadLayerDef<L['kind']>;

/** A head layer as a recipe writes it. */
export const headLayerText = (l: PlanHeadLayer): string => headLayerDef(l).text(l);

/** The trainable parameters of a head on `inputs` features. */
export function headParams(inputs: number, layers: readonly PlanHeadLayer[]): number {
  let n = inputs,
    total = 0;
  for (const l of layers) {
    const s = headLayerDef(l).size(l, n);
    total += s.params;
    n = s.outputs;
  }
  return total;
}
