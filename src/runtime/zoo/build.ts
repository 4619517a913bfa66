import { tf } from '../tf.js';
import { ancestors, ceilModePadding, type Graph, type Node, type Pad } from '../../zoo/graph.js';
import { AdaptiveAvgPool2D, FreezableBatchNorm, FreezableDropout } from './layers.js';

// A zoo graph to a tf.LayersModel. Symmetric PyTorch padding becomes an explicit ZeroPadding2D
// before a 'valid' op (TF's 'same' pads asymmetrically with stride 2). Zero padding is exact for
// max pools here: every padded max pool in the zoo follows a ReLU.

type SymbolicTensor = tf.SymbolicTensor;

const isZero = (p: Pad) => p !== 'same' && p !== 'valid' && p.every((v) => v === 0);

function padded(x: SymbolicTensor, name: string, p: Pad): { x: SymbolicTensor; padding: 'same' | 'valid' } {
  if (p === 'same' || p === 'valid') return { x, padding: p };
  if (isZero(p)) return { x, padding: 'valid' };
  const layer = tf.layers.zeroPadding2d({ padding: [[p[0], p[1]], [p[2], p[3]]], name: `${name}.pad` });
  return { x: layer.apply(x) as SymbolicTensor, padding: 'valid' };
}

function layerFor(node: Node, x: SymbolicTensor[], seed: number | undefined, bnMomentum: number | undefined): SymbolicTensor {
  const init = () => (seed === undefined ? 'heNormal' : tf.initializers.heNormal({ seed: seed++ }));
  const op = node.op, name = node.name, one = x[0]!;
  const apply = (l: tf.layers.Layer, input: SymbolicTensor | SymbolicTensor[] = one) => l.apply(input) as SymbolicTensor;
  switch (op.kind) {
    case 'conv': {
      const p = padded(one, name, op.padding);
      return apply(tf.layers.conv2d({ name, filters: op.filters, kernelSize: [...op.kernel], strides: [...op.strides], padding: p.padding, useBias: op.bias, kernelInitializer: init() }), p.x);
    }
    case 'depthwise': {
      const p = padded(one, name, op.padding);
      return apply(tf.layers.depthwiseConv2d({ name, kernelSize: [...op.kernel], strides: [...op.strides], padding: p.padding, useBias: op.bias, depthwiseInitializer: init() }), p.x);
    }
    case 'bn': return apply(new FreezableBatchNorm({ name, epsilon: op.epsilon, momentum: bnMomentum ?? op.momentum, axis: -1 }));
    case 'relu': return apply(tf.layers.reLU({ name }));
    case 'relu6': return apply(tf.layers.reLU({ name, maxValue: 6 }));
    case 'zeropad': return apply(tf.layers.zeroPadding2d({ name, padding: [[op.padding[0], op.padding[1]], [op.padding[2], op.padding[3]]] }));
    case 'maxpool': {
      // Ceil mode pads bottom/right (post-ReLU, zeros are neutral).
      const p = ceilModePadding(op, one.shape.slice(1, 3) as number[]);
      const q = padded(one, name, p);
      return apply(tf.layers.maxPooling2d({ name, poolSize: [...op.pool], strides: [...op.strides], padding: q.padding }), q.x);
    }
    case 'avgpool': {
      if (!op.countIncludePad && op.padding !== 'same' && op.padding !== 'valid' && !isZero(op.padding)) throw new Error(`${name}: average pooling that excludes padding is not supported`);
      const q = padded(one, name, op.padding);
      return apply(tf.layers.averagePooling2d({ name, poolSize: [...op.pool], strides: [...op.strides], padding: q.padding }), q.x);
    }
    case 'adaptiveavg':
      // At the network's own input size the pool is the identity: leave it out, so a saved model
      // needs no custom layer to load elsewhere.
      if (one.shape[1] === op.size && one.shape[2] === op.size) return one;
      return apply(new AdaptiveAvgPool2D({ name, size: op.size }));
    case 'gap': return apply(tf.layers.globalAveragePooling2d({ name }));
    case 'flatten': {
      // PyTorch flattens channels first; a Linear layer's weights expect that order.
      const input = op.order === 'chw' ? apply(tf.layers.permute({ name: `${name}.chw`, dims: [3, 1, 2] })) : one;
      return apply(tf.layers.flatten({ name }), input);
    }
    case 'dense': return apply(tf.layers.dense({ name, units: op.units, useBias: op.bias, kernelInitializer: seed === undefined ? 'glorotUniform' : tf.initializers.glorotUniform({ seed: seed++ }) }));
    case 'dropout': return apply(new FreezableDropout({ name, rate: op.rate, seed }));
    case 'add': return apply(tf.layers.add({ name }), x);
    case 'concat': return apply(tf.layers.concatenate({ name, axis: -1 }), x);
    case 'input': throw new Error('input is not a layer');
  }
}

/**
 * The part of `graph` that computes `output`, as a model with fresh (random, seeded when asked)
 * weights. `bnMomentum` overrides every BatchNorm's momentum (see loadZooModel).
 */
export function buildLayers(graph: Graph, output: string, name: string, seed?: number, bnMomentum?: number): tf.LayersModel {
  const nodes = ancestors(graph, output);
  const inputNode = nodes.find((n) => n.op.kind === 'input')!;
  const input = tf.input({ shape: [...inputNode.shape], name: inputNode.name });
  const out = new Map<string, SymbolicTensor>([[inputNode.name, input]]);
  for (const n of nodes) {
    if (n.op.kind === 'input') continue;
    out.set(n.name, layerFor(n, n.inputs.map((i) => out.get(i)!), seed === undefined ? undefined : seed + out.size * 7919, bnMomentum));
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
  for (const pre of [`${node.name}.pad`, `${node.name}.chw`]) if (names.has(pre)) x = model.getLayer(pre).apply(x) as SymbolicTensor;
  // A node with no layer of its own (an adaptive pool at the network's own size) passes its input on.
  return names.has(node.name) ? (model.getLayer(node.name).apply(x) as SymbolicTensor) : (x as SymbolicTensor);
}
