import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../../../src/engines/tfjs/tf.js';
import { buildLayers } from '../../../../src/engines/tfjs/tf-layers/build.js';
import { joinNetwork, makeHead } from '../../../../src/engines/tfjs/train/network.js';
import { describe as catalog, graphOf } from '../../../../src/zoo/catalog.js';
import { compile, type Program } from '../../../../src/engines/tfjs/infer/program.js';
import { toOnnx, OnnxExportError } from '../../../../src/engines/tfjs/onnx/to-onnx.js';
import { loadOrt, OrtEngine } from '../../../../src/engines/tfjs/onnx/runtime.js';
import { loadModelDir, saveModel } from '../../../../src/engines/tfjs/model-files.js';
import { savedProgram } from '../../../../src/engines/tfjs/infer/saved.js';
import { randomizeBatchNorm, relDiff } from '../../../helpers/tensors.js';
import { HEAVY, SKIP_HEAVY } from '../../../helpers/heavy.js';

// ONNX Runtime against the tf.layers model on every zoo family, a head with every activation,
// and a model folder reloaded; and a deliberately wrong conversion is caught.

const ort = loadOrt();
const SKIP = 'ort' in ort ? '' : ` (skipped: ${ort.error})`;

const argmax = (t: tf.Tensor) => tf.tidy(() => Array.from(t.reshape([t.shape[0]!, -1]).argMax(-1).dataSync()));

async function viaOrt(program: Program, x: tf.Tensor): Promise<tf.Tensor> {
  const e = await OrtEngine.start(program, 2);
  try {
    return await e.run(x);
  } finally {
    await e.close();
  }
}

async function expectSame(want: tf.Tensor, program: Program, x: tf.Tensor): Promise<void> {
  const got = await viaOrt(program, x);
  expect(got.shape).toEqual(want.shape);
  expect(relDiff(want, got)).toBeLessThan(1e-4);
  expect(argmax(got)).toEqual(argmax(want));
  got.dispose();
}

beforeAll(async () => {
  await tf.setBackend('wasm');
});

const cases: [name: string, width: number | null, size: number, top: boolean][] = [
  ['resnet18', null, 64, false],
  ['resnet50', null, 64, false],
  ['mobilenet_v1', 0.25, 32, true],
  ['mobilenet_v2', 0.35, 32, false],
  ['densenet121', null, 64, false],
  ['inception_v3', null, 75, false],
  ['alexnet', null, 67, true],
  ['vgg16', null, 32, false],
];

describe.skipIf(!!SKIP)(`ONNX from inference programs, run by ONNX Runtime${SKIP}`, () => {
  for (const [name, width, size, top] of cases) {
    const heavy = (name === 'alexnet' || name.startsWith('vgg')) && !HEAVY;
    it.skipIf(heavy)(
      `${name} at ${size}x${size}${top ? ' with its classifier' : ''} equals the layers model${heavy ? ` (${SKIP_HEAVY})` : ''}`,
      async () => {
        const info = catalog(name, width, size);
        const graph = graphOf(name, info.width, size);
        const output = top ? graph.output : info.featureLayer;
        const model = buildLayers(graph, output, name, 7);
        randomizeBatchNorm(model, 11);
        const x = tf.randomUniform([3, size, size, 3], -2, 2, 'float32', 5);
        const want = model.predict(x) as tf.Tensor;
        await expectSame(want, compile(graph, output, model), x);
        tf.dispose([x, want]);
        model.dispose();
      },
    );
  }

  it('a head with every activation the language has equals the joined model', async () => {
    const info = catalog('mobilenet_v1', 0.25, 32);
    const graph = graphOf('mobilenet_v1', info.width, 32);
    const backbone = buildLayers(graph, info.featureLayer, 'b', 3);
    const acts = ['relu', 'relu6', 'gelu', 'elu', 'selu', 'swish', 'tanh', 'sigmoid', 'linear'];
    const layers = [
      ...acts.flatMap((a) => [{ kind: 'dense', units: 12, activation: a }, { kind: 'batchnorm' }]),
      { kind: 'dropout', rate: 0.5 },
      { kind: 'dense', units: 4, activation: 'softmax' },
    ];
    const head = makeHead(info.featureSize, layers as never, 9);
    randomizeBatchNorm(backbone, 2);
    randomizeBatchNorm(head, 4);
    const full = tf.model({ inputs: backbone.inputs, outputs: head.apply(backbone.outputs[0]!) as tf.SymbolicTensor });
    const x = tf.randomUniform([5, 32, 32, 3], -2, 2, 'float32', 1);
    const want = full.predict(x) as tf.Tensor;
    await expectSame(want, compile(graph, info.featureLayer, backbone, { layers: layers as never, model: head }), x);
    tf.dispose([x, want]);
    full.dispose();
  });

  it('a model folder a run saved equals its reloaded layers model', async () => {
    const info = catalog('resnet18', null, 48);
    const graph = graphOf('resnet18', null, 48);
    const layers = [
      { kind: 'dense', units: 8, activation: 'relu' },
      { kind: 'dense', units: 3, activation: 'linear' },
    ] as const;
    const backbone = buildLayers(graph, info.featureLayer, 'resnet18_backbone', 5);
    randomizeBatchNorm(backbone, 8);
    const net = joinNetwork(backbone, makeHead(info.featureSize, layers as never, 6));
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-onnx-')), 'model');
    await saveModel(net.full, dir, {
      labels: ['a', 'b', 'c'],
      preprocessing: { inputSize: 48, mean: [0, 0, 0], std: [1, 1, 1], description: '' },
      network: { name: 'resnet18', width: null },
      output: 'logits',
    });
    const { model, meta } = await loadModelDir(dir);
    const x = tf.randomUniform([4, 48, 48, 3], -2, 2, 'float32', 3);
    const want = model.predict(x) as tf.Tensor;
    await expectSame(want, savedProgram(model, meta), x);
    tf.dispose([x, want]);
    model.dispose();
    net.full.dispose();
  });

  it('catches a wrong conversion: a kernel flipped left-right no longer matches', async () => {
    const info = catalog('resnet18', null, 32);
    const graph = graphOf('resnet18', null, 32);
    const model = buildLayers(graph, info.featureLayer, 'r', 1);
    const program = compile(graph, info.featureLayer, model);
    const conv = program.steps.find((s) => s.kind === 'conv' && program.shapes[s.kernel.at]![1] === 3)! as {
      kernel: { at: number };
    };
    const [kh, kw, ci, co] = program.shapes[conv.kernel.at]! as [number, number, number, number];
    const k = program.weights[conv.kernel.at]!,
      flipped = new Float32Array(k.length);
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let i = 0; i < ci * co; i++)
          flipped[(y * kw + x) * ci * co + i] = k[(y * kw + (kw - 1 - x)) * ci * co + i]!;
    const wrong = { ...program, weights: program.weights.map((w, i) => (i === conv.kernel.at ? flipped : w)) };
    const x = tf.randomUniform([2, 32, 32, 3], -2, 2, 'float32', 2);
    const want = model.predict(x) as tf.Tensor;
    const got = await viaOrt(wrong, x);
    expect(relDiff(want, got)).toBeGreaterThan(1e-3);
    tf.dispose([x, want, got]);
    model.dispose();
  });

  it('an activation with no ONNX form is an error naming it', () => {
    const program: Program = {
      inputShape: [2],
      steps: [{ kind: 'activation', activation: 'hard_sigmoid', inputs: [-1] }],
      weights: [],
      shapes: [],
    };
    expect(() => toOnnx(program)).toThrow(OnnxExportError);
    expect(() => toOnnx(program)).toThrow(/hard_sigmoid has no ONNX form/);
  });
});
