import type { Graph, Node } from './graph.js';

// The weights each layer holds, in Keras/TF.js naming (`layer/kernel`, `layer/moving_mean`, ...)
// and TF layout (HWIO kernels). Loaders match files against this list by name and shape.

export interface WeightSpec {
  readonly name: string;
  readonly layer: string;
  readonly shape: readonly number[];
  /** BatchNorm running statistics: loaded and saved, but never trained. */
  readonly buffer: boolean;
}

export function weightsOf(node: Node, inputChannels: number): WeightSpec[] {
  const w = (suffix: string, shape: number[], buffer = false): WeightSpec => ({ name: `${node.name}/${suffix}`, layer: node.name, shape, buffer });
  const op = node.op;
  switch (op.kind) {
    case 'conv': return [w('kernel', [op.kernel[0], op.kernel[1], inputChannels, op.filters]), ...(op.bias ? [w('bias', [op.filters])] : [])];
    case 'depthwise': return [w('depthwise_kernel', [op.kernel[0], op.kernel[1], inputChannels, 1]), ...(op.bias ? [w('bias', [inputChannels])] : [])];
    case 'bn': {
      const c = node.shape[node.shape.length - 1]!;
      return [w('gamma', [c]), w('beta', [c]), w('moving_mean', [c], true), w('moving_variance', [c], true)];
    }
    case 'dense': return [w('kernel', [inputChannels, op.units]), ...(op.bias ? [w('bias', [op.units])] : [])];
    default: return [];
  }
}

/** Every weight of a graph, in layer order. */
export function graphWeights(g: Graph): WeightSpec[] {
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  return g.nodes.flatMap((n) => {
    const inp = n.inputs[0] ? byName.get(n.inputs[0])! : null;
    const cin = inp ? inp.shape[inp.shape.length - 1]! : 0;
    return weightsOf(n, cin);
  });
}
