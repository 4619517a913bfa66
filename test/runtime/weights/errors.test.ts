import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../../src/engines/tfjs/tf-layers/model.js';
import { writeSafetensors } from '../../../src/runtime/weights/safetensors.js';
import { toTorchvision } from '../../../src/runtime/weights/torchvision.js';
import { graphWeights } from '../../../src/zoo/weight-names.js';
import { graphOf } from '../../../src/zoo/catalog.js';
import type { RawTensor, WeightMap } from '../../../src/runtime/weights/tensors.js';
import { useBackend } from '../../helpers/backend.js';

// Bad weight files get errors that say what is missing, what is unexpected and which shapes differ.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-werr-'));
const zeros = (name: string, width: number | null = null): WeightMap =>
  new Map(
    graphWeights(graphOf(name, width, 224)).map((w) => [
      w.name,
      { shape: w.shape, data: new Float32Array(w.shape.reduce((a, b) => a * b, 1)) },
    ]),
  );
const torchState = (name: string): Map<string, RawTensor> => toTorchvision(zeros(name), graphOf(name, null, 224));
const save = (file: string, state: Map<string, RawTensor>) => {
  const f = path.join(dir, file);
  fs.writeFileSync(f, writeSafetensors(state));
  return f;
};

beforeAll(() => useBackend());

describe('weights that do not fit', () => {
  it('a ResNet-18 state_dict for ResNet-34: lists the missing layers', async () => {
    const f = save('r18.safetensors', torchState('resnet18'));
    const e = String(await buildModel('resnet34', { weights: f, inputSize: 32 }).catch((x: Error) => x));
    expect(e).toContain(`the weights in ${f} do not fit the model resnet34_backbone`);
    expect(e).toMatch(/missing from the file \(\d+\):\n\s+layer1\.2\.conv1\/kernel/);
  });

  it('a tensor of the wrong shape: names it and both shapes', async () => {
    const state = torchState('resnet18');
    state.set('layer2.0.conv1.weight', { shape: [128, 64, 1, 1], data: new Float32Array(128 * 64) });
    const e = String(
      await buildModel('resnet18', { weights: save('shape.safetensors', state), inputSize: 32 }).catch((x: Error) => x),
    );
    expect(e).toContain('shapes that differ (1):');
    expect(e).toContain('layer2.0.conv1/kernel: the file has [1, 1, 64, 128], the model needs [3, 3, 64, 128]');
  });

  it('a tensor that names no layer', async () => {
    const state = torchState('resnet18');
    state.set('layer9.0.conv1.weight', { shape: [1], data: new Float32Array(1) });
    await expect(buildModel('resnet18', { weights: save('extra.safetensors', state), inputSize: 32 })).rejects.toThrow(
      /has tensors that name no layer of the network\n\s+layer9\.0\.conv1\.weight/,
    );
  });

  it('a truncated safetensors file', async () => {
    const f = save('trunc.safetensors', torchState('resnet18'));
    fs.truncateSync(f, 100_000);
    await expect(buildModel('resnet18', { weights: f, inputSize: 32 })).rejects.toThrow(
      /trunc\.safetensors is truncated: .* ends at byte \d+, the file has 100000/,
    );
  });

  it('not a safetensors file at all', async () => {
    const f = path.join(dir, 'text.safetensors');
    fs.writeFileSync(f, 'hello world, not weights');
    await expect(buildModel('resnet18', { weights: f, inputSize: 32 })).rejects.toThrow(/is not a safetensors file/);
  });

  describe('TF.js models', () => {
    const tfjsModel = (name: string) => {
      const d = fs.mkdtempSync(path.join(dir, 'tfjs-'));
      const w = zeros('mobilenet_v1', 0.25);
      const bytes = Buffer.concat([...w.values()].map((t) => Buffer.from(t.data.buffer)));
      fs.writeFileSync(path.join(d, 'group1-shard1of1.bin'), bytes);
      fs.writeFileSync(
        path.join(d, 'model.json'),
        JSON.stringify({
          weightsManifest: [
            {
              paths: ['group1-shard1of1.bin'],
              weights: [...w].map(([n, t]) => ({ name: n, shape: t.shape, dtype: 'float32' })),
            },
          ],
        }),
      );
      return path.join(d, name);
    };

    it('loads when complete', async () => {
      const m = await buildModel('mobilenet_v1', { width: 0.25, includeTop: true, weights: tfjsModel('model.json') });
      expect(m.outputs[0]!.shape).toEqual([null, 1000]);
      m.dispose();
    });

    it('a missing shard', async () => {
      const f = tfjsModel('model.json');
      fs.rmSync(path.join(path.dirname(f), 'group1-shard1of1.bin'));
      await expect(buildModel('mobilenet_v1', { width: 0.25, weights: f })).rejects.toThrow(
        /names the weight shard group1-shard1of1\.bin, which is missing/,
      );
    });

    it('a truncated shard', async () => {
      const f = tfjsModel('model.json');
      fs.truncateSync(path.join(path.dirname(f), 'group1-shard1of1.bin'), 5000);
      await expect(buildModel('mobilenet_v1', { width: 0.25, weights: f })).rejects.toThrow(
        /the weight shards of .*model\.json are truncated: [\w.]+\/\w+ needs bytes \d+\.\.\d+, the shards hold 5000/,
      );
    });

    it('a model.json that is not JSON', async () => {
      const f = tfjsModel('model.json');
      fs.writeFileSync(f, '{"weightsManifest": [');
      await expect(buildModel('mobilenet_v1', { width: 0.25, weights: f })).rejects.toThrow(
        /model\.json is not valid JSON/,
      );
    });
  });
});
