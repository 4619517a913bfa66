import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../../../src/engines/tfjs/tf.js';
import { loadZooModel } from '../../../../src/engines/tfjs/tf-layers/model.js';
import { joinNetwork, makeHead, setFrozen } from '../../../../src/engines/tfjs/train/network.js';
import { splitFrozen } from '../../../../src/engines/tfjs/train/split-stage.js';
import { Runner } from '../../../../src/engines/tfjs/infer/execute.js';

// Splitting a fine-tuning stage where its frozen part ends: the prefix program and the trained
// part together compute the network, and the trained part holds the network's own variables.

beforeAll(async () => {
  await tf.setBackend('wasm');
});

async function network(name: string, width: number | null, size: number) {
  const built = await loadZooModel(name, { width, inputSize: size, weights: 'none', seed: 1 });
  return {
    built,
    net: joinNetwork(
      built.model,
      makeHead(built.info.featureSize, [{ kind: 'dense', units: 3, activation: 'linear' }], 1),
    ),
  };
}

describe('splitFrozen', () => {
  for (const [name, width, size, block, boundary] of [
    ['mobilenet_v1', 0.25, 32, 'block9', 'conv_pw_8_relu'],
    ['mobilenet_v2', 0.35, 32, 'block10', 'block_9_add'],
    ['resnet18', null, 64, 'block3', 'layer2.1.relu'],
    ['densenet121', null, 64, 'block4', 'features.transition3.pool'],
  ] as const) {
    it(`${name} from ${block}: prefix then trained part equals the network, on the network's own variables`, async () => {
      const { built, net } = await network(name, width, size);
      const first = built.info.blocks.find((b) => b.name === block)!.first;
      setFrozen(net, built.info, first);
      const split = splitFrozen(net, built.graph, built.info, first)!;
      expect(split.boundary.name).toBe(boundary);
      const ids = (m: tf.LayersModel) => m.trainableWeights.map((w) => (w.read() as tf.Variable).id).sort();
      expect(ids(split.top)).toEqual(ids(net.full));
      const x = tf.randomUniform([2, size, size, 3], -1, 1, 'float32', 4);
      const prefix = new Runner(split.prefix);
      const a = net.full.predict(x) as tf.Tensor,
        mid = prefix.run(x),
        b = split.top.predict(mid) as tf.Tensor;
      const scale = a.abs().max().dataSync()[0]!;
      expect(a.sub(b).abs().max().dataSync()[0]! / Math.max(scale, 1e-30)).toBeLessThan(1e-4);
      tf.dispose([x, a, mid, b]);
      prefix.dispose();
      const before = tf.memory().numTensors;
      split.top.dispose();
      // Disposing the trained part frees nothing the network still uses.
      expect(tf.memory().numTensors).toBe(before);
      expect((net.full.predict(tf.zeros([1, size, size, 3])) as tf.Tensor).shape).toEqual([1, 3]);
      net.full.dispose();
    });
  }

  it(
    'no split when nothing or everything is frozen, or when frozen outputs feed trained ' + 'layers in two places',
    async () => {
      const { built, net } = await network('resnet18', null, 64);
      expect(splitFrozen(net, built.graph, built.info, 0)).toBeNull();
      expect(splitFrozen(net, built.graph, built.info, built.info.layers.length)).toBeNull();
      // Inside a residual block: the block's input reaches both its first convolution and its sum.
      const inside = built.info.layers.findIndex((l) => l.name === 'layer3.0.conv1');
      expect(splitFrozen(net, built.graph, built.info, inside + 1)).toBeNull();
      net.full.dispose();
    },
  );
});
