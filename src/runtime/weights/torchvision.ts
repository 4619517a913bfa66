import type { Graph } from '../../zoo/graph.js';
import { opDef, type TorchParam } from '../../zoo/ops/index.js';
import { HEAD_LAYERS } from '../../zoo/head-layers.js';
import { transpose, type RawTensor, type WeightMap } from './tensors.js';

// torchvision (and timm's republished) state_dict names and layouts to the zoo's Keras-style names
// and TF layouts, as each op's `torchvision` facet says (conv OIHW -> HWIO, Linear [out, in] ->
// [in, out], BatchNorm renamed).

// timm keeps torchvision's names except for VGG's classifier, which it stores as convolutions.
const ALIASES: Record<string, string> = {
  'pre_logits.fc1': 'classifier.0',
  'pre_logits.fc2': 'classifier.3',
  'head.fc': 'classifier.6',
};

export interface Converted {
  readonly weights: WeightMap;
  /** Keys that name no layer of the network. */
  readonly unknown: readonly string[];
}

const paramsOf = (graph: Graph) => {
  const nodes = new Map(graph.nodes.map((n) => [n.name, n]));
  return (layer: string): Readonly<Record<string, TorchParam>> | null => {
    const n = nodes.get(layer);
    return n && n.op.kind !== 'input' ? opDef(n.op).torchvision : null;
  };
};

/** The inverse of a permutation. */
const invert = (perm: readonly number[]) => perm.map((_, i) => perm.indexOf(i));

/** A torchvision state_dict as the zoo's Keras-style weights; keys that name no layer are listed in `unknown`. */
export function fromTorchvision(state: Map<string, RawTensor>, graph: Graph): Converted {
  const params = paramsOf(graph);
  const weights: WeightMap = new Map();
  const unknown: string[] = [];
  for (const [key, t] of state) {
    const dot = key.lastIndexOf('.');
    const param = key.slice(dot + 1),
      layer = ALIASES[key.slice(0, dot)] ?? key.slice(0, dot);
    const own = params(layer);
    if (param === 'num_batches_tracked' && own?.['running_mean']) continue;
    const p = own?.[param];
    if (!p) {
      unknown.push(key);
      continue;
    }
    const flat = p.flat2d ? { shape: [t.shape[0]!, t.data.length / t.shape[0]!], data: t.data } : t;
    // A 4-d permutation applies only to a 4-d tensor (a bias passes through).
    weights.set(`${layer}/${p.suffix}`, p.perm && p.perm.length === flat.shape.length ? transpose(flat, p.perm) : flat);
  }
  return { weights, unknown };
}

/** The inverse, for tests and for exporting: Keras-style names back to torchvision's. */
export function toTorchvision(weights: WeightMap, graph: Graph): Map<string, RawTensor> {
  const params = paramsOf(graph);
  const out = new Map<string, RawTensor>();
  for (const [name, t] of weights) {
    const [layer, suffix] = name.split('/') as [string, string];
    const entry = Object.entries(params(layer) ?? {}).find(([, p]) => p.suffix === suffix);
    if (!entry) {
      out.set(`${layer}.${suffix}`, t);
      continue;
    }
    const [param, p] = entry;
    out.set(`${layer}.${param}`, p.perm && p.perm.length === t.shape.length ? transpose(t, invert(p.perm)) : t);
  }
  return out;
}

/** The head layers a saved torch model describes (network.json), as the plan lists them. */
export type HeadKinds = readonly { readonly kind: keyof typeof HEAD_LAYERS }[];

/**
 * A torch model's head (`head.N.weight`, PyTorch layouts) in the tfjs head's names: a Linear's
 * [out, in] weight becomes `head.N/kernel` [in, out]; a BatchNorm1d's become gamma, beta and the
 * moving statistics. `num_batches_tracked` has no counterpart.
 */
export function headFromTorch(state: Map<string, RawTensor>, layers: HeadKinds): WeightMap {
  const out: WeightMap = new Map();
  for (const [key, t] of state) {
    const m = /^head\.(\d+)\.(\w+)$/.exec(key);
    if (!m) continue;
    const [, i, param] = m as unknown as [string, string, string];
    if (param === 'num_batches_tracked') continue;
    const kind = layers[Number(i)]?.kind;
    const to = kind ? HEAD_LAYERS[kind].torch[param] : undefined;
    // A name no layer of the head has goes through as it is: assignWeights reports it.
    if (!to) out.set(`head.${i}/${param}`, t);
    else out.set(`head.${i}/${to.name}`, to.transpose ? transpose(t, [1, 0]) : t);
  }
  return out;
}
