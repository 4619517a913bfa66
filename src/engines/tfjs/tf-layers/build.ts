import { tf } from '../tf.js';
import { ancestors, type Graph, type Node } from '../../../zoo/graph.js';
import { opDef, type LayerKit, type Pad } from '../../../zoo/ops/index.js';
import { isZeroPad } from '../../../zoo/ops/types.js';
import { AdaptiveAvgPool2D, FreezableBatchNorm, FreezableDropout } from './layers.js';

// A zoo graph to a tf.LayersModel: each node's op builds its own layers (zoo/ops, `layer` facet)
// with the kit made here. Symmetric PyTorch padding becomes an explicit ZeroPadding2D before a
// 'valid' op (TF's 'same' pads asymmetrically with stride 2). Zero padding is exact for max pools
// here: every padded max pool in the zoo follows a ReLU.

type SymbolicTensor = tf.SymbolicTensor;

const CUSTOM = { FreezableBatchNorm, FreezableDropout, AdaptiveAvgPool2D } as unknown as LayerKit<unknown>['custom'];

function kitFor(
  node: Node,
  inputs: SymbolicTensor[],
  seed: number | undefined,
  bnMomentum: number | undefined,
): LayerKit<unknown> {
  let next = seed;
  return {
    tf,
    node,
    inputs,
    seed,
    bnMomentum,
    custom: CUSTOM,
    apply: (layer, input = inputs[0]!) => layer.apply(input) as SymbolicTensor,
    padded: (x: SymbolicTensor, p: Pad) => {
      if (p === 'same' || p === 'valid') return { x, padding: p };
      if (isZeroPad(p)) return { x, padding: 'valid' };
      const layer = tf.layers.zeroPadding2d({
        padding: [
          [p[0], p[1]],
          [p[2], p[3]],
        ],
        name: `${node.name}.pad`,
      });
      return { x: layer.apply(x) as SymbolicTensor, padding: 'valid' };
    },
    heNormal: () => (next === undefined ? 'heNormal' : tf.initializers.heNormal({ seed: next++ })),
    glorotUniform: () => (next === undefined ? 'glorotUniform' : tf.initializers.glorotUniform({ seed: next++ })),
  };
}

/**
 * The part of `graph` that computes `output`, as a model with fresh (random, seeded when asked)
 * weights. `bnMomentum` overrides every BatchNorm's momentum (see loadZooModel).
 */
export function buildLayers(
  graph: Graph,
  output: string,
  name: string,
  seed?: number,
  bnMomentum?: number,
): tf.LayersModel {
  const nodes = ancestors(graph, output);
  const inputNode = nodes.find((n) => n.op.kind === 'input')!;
  const input = tf.input({ shape: [...inputNode.shape], name: inputNode.name });
  const out = new Map<string, SymbolicTensor>([[inputNode.name, input]]);
  for (const n of nodes) {
    if (n.op.kind === 'input') continue;
    const kit = kitFor(
      n,
      n.inputs.map((i) => out.get(i)!),
      seed === undefined ? undefined : seed + out.size * 7919,
      bnMomentum,
    );
    out.set(n.name, opDef(n.op).layer(kit as LayerKit<never>));
  }
  return tf.model({ inputs: input, outputs: out.get(output)!, name });
}

/**
 * Applies the layers `model` holds for `node` (its padding or permute layer first) to new symbolic
 * inputs: the same layers, so the same weights, in another model.
 */
export function reapply(model: tf.LayersModel, node: Node, inputs: readonly SymbolicTensor[]): SymbolicTensor {
  const names = new Set(model.layers.map((l) => l.name));
  let x: SymbolicTensor | SymbolicTensor[] = inputs.length === 1 ? inputs[0]! : [...inputs];
  for (const pre of [`${node.name}.pad`, `${node.name}.chw`])
    if (names.has(pre)) x = model.getLayer(pre).apply(x) as SymbolicTensor;
  // A node with no layer of its own (an adaptive pool at the network's own size) passes its input on.
  return names.has(node.name) ? (model.getLayer(node.name).apply(x) as SymbolicTensor) : (x as SymbolicTensor);
}
