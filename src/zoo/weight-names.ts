import type { Graph, Node } from './graph.js';
import { opDef } from './ops/index.js';

// The weights each layer holds, in Keras/TF.js naming (`layer/kernel`, `layer/moving_mean`, ...)
// and TF layout (HWIO kernels), as each op's definition says. Loaders match files against this
// list by name and shape.

export interface WeightSpec {
  readonly name: string;
  readonly layer: string;
  readonly shape: readonly number[];
  /** BatchNorm running statistics: loaded and saved, but never trained. */
  readonly buffer: boolean;
}

/** The weights of `node`, whose inputs have the shapes `inputs`. */
export function weightsOf(node: Node, inputs: readonly (readonly number[])[]): WeightSpec[] {
  if (node.op.kind === 'input') return [];
  return opDef(node.op)
    .weights(node.op, inputs, node.shape)
    .map((w) => ({ name: `${node.name}/${w.suffix}`, layer: node.name, shape: w.shape, buffer: w.buffer ?? false }));
}

/** Every weight of a graph, in layer order. */
export function graphWeights(g: Graph): WeightSpec[] {
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  return g.nodes.flatMap((n) =>
    weightsOf(
      n,
      n.inputs.map((i) => byName.get(i)!.shape),
    ),
  );
}
