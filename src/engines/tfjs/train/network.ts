import { tf } from '../tf.js';
import type { PlanHeadLayer } from '../../../contracts/plan.js';
import type { ModelInfo } from '../../../zoo/catalog.js';
import { FreezableBatchNorm, FreezableDropout } from '../tf-layers/layers.js';
import { headLayerDef, type HeadKit } from '../../../zoo/head-layers.js';

// The trained network: the zoo backbone, a new head on its feature vector, and the two joined.
// The head is its own model too, so a stage on cached features trains it alone; the layers are
// shared, so the joined model sees every update.

export interface Network {
  readonly backbone: tf.LayersModel;
  readonly head: tf.LayersModel;
  readonly full: tf.LayersModel;
}

/** TensorFlow.js layers for the head-layer table's rows (seeded, so both engines start alike). */
const HEAD_KIT: HeadKit = {
  dense: ({ name, units, activation, seed }) =>
    tf.layers.dense({
      name,
      units,
      activation: activation as 'linear',
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
    }),
  dropout: ({ name, rate, seed }) => new FreezableDropout({ name, rate, seed }),
  batchnorm: ({ name }) => new FreezableBatchNorm({ name, axis: -1, momentum: 0.9, epsilon: 1e-5 }),
};

/** The plan's head as a model of its own (`head.0`, `head.1`, … layers), seeded. */
export function makeHead(inputs: number, layers: readonly PlanHeadLayer[], seed: number): tf.LayersModel {
  const input = tf.input({ shape: [inputs], name: 'features' });
  let x: tf.SymbolicTensor = input;
  layers.forEach((l, i) => {
    const name = `head.${i}`;
    const layer = headLayerDef(l).layer(HEAD_KIT, l, name, seed + i) as tf.layers.Layer;
    x = layer.apply(x) as tf.SymbolicTensor;
  });
  return tf.model({ inputs: input, outputs: x, name: 'head' });
}

/** Backbone and head as one model; both stay usable on their own (they share layers). */
export function joinNetwork(backbone: tf.LayersModel, head: tf.LayersModel): Network {
  const out = head.apply(backbone.outputs[0]!) as tf.SymbolicTensor;
  return { backbone, head, full: tf.model({ inputs: backbone.inputs, outputs: out, name: 'tlr' }) };
}

/**
 * Freezes the first `count` backbone layers of the catalog's order (and the layers tf adds for
 * them); with `batchnorm` 'keep', the backbone's BatchNorm layers that train stay in inference mode.
 */
export function setFrozen(net: Network, info: ModelInfo, count: number, batchnorm: 'keep' | 'update' = 'update'): void {
  const frozen = new Set(info.layers.slice(0, count).map((l) => l.name));
  for (const layer of net.backbone.layers) {
    const base = layer.name.replace(/\.(pad|chw)$/, '');
    layer.trainable = !frozen.has(base);
    if (layer instanceof FreezableBatchNorm) layer.keepStatistics = batchnorm === 'keep';
  }
  for (const layer of net.head.layers) layer.trainable = true;
}

/** Whether any trainable layer is a convolution (which needs convolution gradient kernels). */
export const trainsConvolutions = (net: Network): boolean =>
  net.backbone.layers.some((l) => l.trainable && /Conv2D/.test(l.getClassName()) && l.trainableWeights.length > 0);
