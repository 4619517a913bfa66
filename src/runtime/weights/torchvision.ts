import type { Graph } from '../../zoo/graph.js';
import { transpose, type RawTensor, type WeightMap } from './tensors.js';

// torchvision (and timm's republished) state_dict names and layouts to the zoo's Keras-style names
// and TF layouts: conv OIHW -> HWIO, Linear [out, in] -> [in, out], BatchNorm renamed.

const BN: Record<string, string> = { weight: 'gamma', bias: 'beta', running_mean: 'moving_mean', running_var: 'moving_variance' };

// timm keeps torchvision's names except for VGG's classifier, which it stores as convolutions.
const ALIASES: Record<string, string> = { 'pre_logits.fc1': 'classifier.0', 'pre_logits.fc2': 'classifier.3', 'head.fc': 'classifier.6' };

export interface Converted {
  readonly weights: WeightMap;
  /** Keys that name no layer of the network. */
  readonly unknown: readonly string[];
}

export function fromTorchvision(state: Map<string, RawTensor>, graph: Graph): Converted {
  const nodes = new Map(graph.nodes.map((n) => [n.name, n]));
  const weights: WeightMap = new Map();
  const unknown: string[] = [];
  for (const [key, t] of state) {
    const dot = key.lastIndexOf('.');
    const param = key.slice(dot + 1);
    const layer = ALIASES[key.slice(0, dot)] ?? key.slice(0, dot);
    const node = nodes.get(layer);
    if (param === 'num_batches_tracked' && node?.op.kind === 'bn') continue;
    if (!node) { unknown.push(key); continue; }
    switch (node.op.kind) {
      case 'conv':
        if (param === 'weight') weights.set(`${layer}/kernel`, t.shape.length === 4 ? transpose(t, [2, 3, 1, 0]) : t);
        else if (param === 'bias') weights.set(`${layer}/bias`, t);
        else unknown.push(key);
        break;
      case 'dense':
        if (param === 'weight') {
          // A Linear stored as a convolution (timm's VGG) flattens to the same [out, in] matrix.
          const out = t.shape[0]!, inn = t.data.length / out;
          weights.set(`${layer}/kernel`, transpose({ shape: [out, inn], data: t.data }, [1, 0]));
        } else if (param === 'bias') weights.set(`${layer}/bias`, t);
        else unknown.push(key);
        break;
      case 'bn':
        if (BN[param]) weights.set(`${layer}/${BN[param]}`, t);
        else unknown.push(key);
        break;
      default:
        unknown.push(key);
    }
  }
  return { weights, unknown };
}

/** The inverse, for tests and for exporting: Keras-style names back to torchvision's. */
export function toTorchvision(weights: WeightMap, graph: Graph): Map<string, RawTensor> {
  const nodes = new Map(graph.nodes.map((n) => [n.name, n]));
  const inv = Object.fromEntries(Object.entries(BN).map(([k, v]) => [v, k]));
  const out = new Map<string, RawTensor>();
  for (const [name, t] of weights) {
    const [layer, w] = name.split('/') as [string, string];
    const kind = nodes.get(layer)?.op.kind;
    if (kind === 'conv' && w === 'kernel') out.set(`${layer}.weight`, transpose(t, [3, 2, 0, 1]));
    else if (kind === 'dense' && w === 'kernel') out.set(`${layer}.weight`, transpose(t, [1, 0]));
    else if (kind === 'bn') out.set(`${layer}.${inv[w]}`, t);
    else out.set(`${layer}.${w}`, t);
  }
  return out;
}
