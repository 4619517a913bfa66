import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../../../src/engines/tfjs/tf.js';
import { buildLayers } from '../../../../src/engines/tfjs/tf-layers/build.js';
import { makeHead } from '../../../../src/engines/tfjs/train/network.js';
import { describe as catalog, graphOf } from '../../../../src/zoo/catalog.js';
import { compile } from '../../../../src/engines/tfjs/infer/program.js';
import { Runner } from '../../../../src/engines/tfjs/infer/execute.js';
import { joinNetwork } from '../../../../src/engines/tfjs/train/network.js';
import { loadModelDir, saveModel } from '../../../../src/engines/tfjs/model-files.js';
import { savedProgram } from '../../../../src/engines/tfjs/infer/saved.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomizeBatchNorm, relDiff } from '../../../helpers/tensors.js';
import { HEAVY, SKIP_HEAVY } from '../../../helpers/heavy.js';

// The inference program against the tf.layers model it was compiled from: same outputs with
// BatchNorm folded, activations fused and padding layers absorbed, on every family of the zoo.

beforeAll(async () => {
  await tf.setBackend('wasm');
});

const cases: [name: string, width: number | null, size: number, top: boolean][] = [
  ['resnet18', null, 64, false],
  ['resnet50', null, 64, false],
  ['mobilenet_v1', 0.25, 32, false],
  ['mobilenet_v2', 0.35, 32, false],
  ['densenet121', null, 64, false],
  ['inception_v3', null, 75, false],
  ['alexnet', null, 67, true],
];

describe('inference program', () => {
  for (const [name, width, size, top] of cases) {
    const heavy = name === 'alexnet' && !HEAVY;
    it.skipIf(heavy)(
      `${name} at ${size}x${size}${top ? ' with its classifier' : ''}: equals the layers model${heavy ? ` (${SKIP_HEAVY})` : ''}`,
      () => {
        const info = catalog(name, width, size);
        const graph = graphOf(name, info.width, size);
        const output = top ? graph.output : info.featureLayer;
        const model = buildLayers(graph, output, name, 7);
        randomizeBatchNorm(model, 11);
        const program = compile(graph, output, model);
        const kinds = program.steps.map((s) => s.kind);
        if (/^(resnet|mobilenet)/.test(name)) {
          // Every BatchNorm folds into its convolution and every padding layer into the next op.
          expect(kinds).not.toContain('affine');
          expect(kinds).not.toContain('pad');
        }
        const runner = new Runner(program);
        const x = tf.randomUniform([3, size, size, 3], -2, 2, 'float32', 5);
        const want = model.predict(x) as tf.Tensor;
        const before = tf.memory().numTensors;
        const got = runner.run(x);
        expect(tf.memory().numTensors).toBe(before + 1);
        expect(got.shape).toEqual(want.shape);
        expect(relDiff(want, got)).toBeLessThan(1e-4);
        tf.dispose([x, want, got]);
        runner.dispose();
        model.dispose();
      },
    );
  }

  it('a backbone with its head (dense, dropout, batchnorm, softmax) equals the joined layers model', () => {
    const info = catalog('mobilenet_v1', 0.25, 32);
    const graph = graphOf('mobilenet_v1', info.width, 32);
    const backbone = buildLayers(graph, info.featureLayer, 'b', 3);
    const layers = [
      { kind: 'dense', units: 16, activation: 'gelu' },
      { kind: 'batchnorm' },
      { kind: 'dropout', rate: 0.5 },
      { kind: 'dense', units: 4, activation: 'softmax' },
    ] as const;
    const head = makeHead(info.featureSize, layers as never, 9);
    randomizeBatchNorm(backbone, 2);
    randomizeBatchNorm(head, 4);
    const full = tf.model({ inputs: backbone.inputs, outputs: head.apply(backbone.outputs[0]!) as tf.SymbolicTensor });
    const runner = new Runner(compile(graph, info.featureLayer, backbone, { layers: layers as never, model: head }));
    const x = tf.randomUniform([5, 32, 32, 3], -2, 2, 'float32', 1);
    const want = full.predict(x) as tf.Tensor,
      got = runner.run(x);
    expect(relDiff(want, got)).toBeLessThan(1e-4);
    expect(
      got
        .sum(-1)
        .dataSync()
        .every((v) => Math.abs(v - 1) < 1e-5),
    ).toBe(true);
    tf.dispose([x, want, got]);
    runner.dispose();
    full.dispose();
  });

  it('a model a run saved compiles from its folder (head read back from model.json) and equals it', async () => {
    const info = catalog('mobilenet_v2', 0.35, 32);
    const graph = graphOf('mobilenet_v2', info.width, 32);
    const layers = [
      { kind: 'dense', units: 8, activation: 'relu' },
      { kind: 'dropout', rate: 0.2 },
      { kind: 'dense', units: 3, activation: 'linear' },
    ] as const;
    const backbone = buildLayers(graph, info.featureLayer, 'mobilenet_v2_backbone', 5);
    randomizeBatchNorm(backbone, 8);
    const net = joinNetwork(backbone, makeHead(info.featureSize, layers as never, 6));
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-saved-')), 'model');
    await saveModel(net.full, dir, {
      labels: ['a', 'b', 'c'],
      preprocessing: { inputSize: 32, mean: [0, 0, 0], std: [1, 1, 1], description: '' },
      network: { name: 'mobilenet_v2', width: 0.35 },
      output: 'logits',
    });
    const { model, meta } = await loadModelDir(dir);
    const runner = new Runner(savedProgram(model, meta));
    expect(runner.program.steps.filter((s) => s.kind === 'dense')).toHaveLength(2);
    const x = tf.randomUniform([4, 32, 32, 3], -2, 2, 'float32', 3);
    const want = model.predict(x) as tf.Tensor,
      got = runner.run(x);
    expect(relDiff(want, got)).toBeLessThan(1e-4);
    tf.dispose([x, want, got]);
    runner.dispose();
    model.dispose();
    net.full.dispose();
  });
});
