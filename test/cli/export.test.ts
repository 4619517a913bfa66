import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadOrt } from '../../src/engines/tfjs/onnx/runtime.js';
import { decodeRgb, normalize } from '../../src/runtime/images/image.js';
import { tf } from '../../src/engines/tfjs/tf.js';
import { trainedModel } from '../helpers/trained-model.js';
import { tlrAsync, spawnAsync } from '../helpers/cli.js';

// tlr export: a standalone ONNX file that ONNX's own checker accepts and that ONNX Runtime runs to
// the same predictions as tlr predict; a TF.js copy; never an overwrite without --force.

const ort = loadOrt();
const PYTHON = '/usr/bin/python3';
const hasOnnxChecker = spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0;
let model = '',
  images: string[] = [];

beforeAll(async () => {
  const t = await trainedModel({ perClass: 6, head: 'dense(8, relu) dense(3)', train: '2 epochs on ./data lr 0.01' });
  model = t.model;
  images = ['bag', 'trouser', 'tshirt'].map((c) =>
    path.join(t.dir, 'data', c, fs.readdirSync(path.join(t.dir, 'data', c))[0]!),
  );
});

describe.skipIf(!('ort' in ort))(
  `tlr export --format onnx${'ort' in ort ? '' : ` (skipped: ${(ort as { error: string }).error})`}`,
  () => {
    it(
      'writes a file ONNX Runtime runs to the predictions tlr predict prints, with labels and ' +
        'preprocessing in its metadata',
      async () => {
        const out = path.join(path.dirname(model), 'exported.onnx');
        const r = await tlrAsync('export', model, '--out', out, '--softmax');
        expect([r.code, r.out.trim()]).toEqual([0, `written: ${out}`]);
        const o = (ort as { ort: typeof import('onnxruntime-node') }).ort;
        const session = await o.InferenceSession.create(out);
        const pre = JSON.parse(fs.readFileSync(path.join(model, 'preprocessing.json'), 'utf8'));
        const labels = JSON.parse(fs.readFileSync(path.join(model, 'labels.json'), 'utf8'));
        const pr = await tlrAsync('predict', model, ...images, '--json', '--top', '3');
        const predicted = JSON.parse(pr.out) as { image: string; top: { label: string; probability: number }[] }[];
        for (const [i, image] of images.entries()) {
          const x = normalize(await decodeRgb(image, pre.inputSize), pre);
          const y = (await session.run({ input: new o.Tensor('float32', x, [1, pre.inputSize, pre.inputSize, 3]) }))[
            'output'
          ]!.data as Float32Array;
          expect(y.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
          for (const t of predicted[i]!.top) expect(y[labels.indexOf(t.label)]).toBeCloseTo(t.probability, 4);
        }
        await session.release();
      },
    );

    it.skipIf(!hasOnnxChecker)(
      `passes onnx.checker.check_model${hasOnnxChecker ? '' : ' (skipped: no python3-onnx)'} and carries its metadata`,
      async () => {
        const out = path.join(path.dirname(model), 'checked.onnx');
        expect((await tlrAsync('export', model, '--out', out)).code).toBe(0);
        const py = await spawnAsync(
          PYTHON,
          [
            '-c',
            `import onnx, json, sys
m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True)
meta = {p.key: p.value for p in m.metadata_props}
print(json.dumps({"labels": json.loads(meta["labels"]), "output": meta["output"], "inputSize": json.loads(meta["preprocessing"])["inputSize"]}))`,
            out,
          ],
          { encoding: 'utf8' },
        );
        expect(py.stderr).toBe('');
        expect(JSON.parse(py.stdout)).toEqual({
          labels: ['bag', 'trouser', 'tshirt'],
          output: 'logits',
          inputSize: 32,
        });
      },
    );

    it('refuses to replace a file without --force, and replaces it with', async () => {
      const out = path.join(path.dirname(model), 'twice.onnx');
      fs.writeFileSync(out, 'mine');
      const r = await tlrAsync('export', model, '--out', out);
      expect([r.code, r.err.trim()]).toEqual([2, `tlr: cannot export to ${out}: it exists; add --force to replace it`]);
      expect(fs.readFileSync(out, 'utf8')).toBe('mine');
      expect((await tlrAsync('export', model, '--out', out, '--force')).code).toBe(0);
      expect(fs.statSync(out).size).toBeGreaterThan(1000);
    });
  },
);

describe('tlr export --format tfjs', () => {
  it('copies the model folder', async () => {
    const out = path.join(path.dirname(model), 'copy');
    expect((await tlrAsync('export', model, '--format', 'tfjs', '--out', out)).code).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(fs.readdirSync(model).sort());
  });
  it('--softmax: a folder whose model outputs probabilities, loadable as it is and saying so', async () => {
    const out = path.join(path.dirname(model), 'probs');
    expect((await tlrAsync('export', model, '--format', 'tfjs', '--softmax', '--out', out)).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'preprocessing.json'), 'utf8')).output).toBe('probabilities');
    const pr = JSON.parse((await tlrAsync('predict', out, images[0]!, '--json')).out)[0].top as {
      label: string;
      probability: number;
    }[];
    const before = JSON.parse((await tlrAsync('predict', model, images[0]!, '--json')).out)[0].top as {
      label: string;
      probability: number;
    }[];
    expect(pr.map((t) => t.label)).toEqual(before.map((t) => t.label));
    pr.forEach((t, i) => {
      expect(t.probability).toBeCloseTo(before[i]!.probability, 5);
    });
    const loaded = await tf.loadLayersModel(
      tf.io.fromMemory(JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8')).modelTopology),
    );
    expect(loaded.layers[loaded.layers.length - 1]!.getClassName()).toBe('Softmax');
  });

  it('names a bad format', async () => {
    const r = await tlrAsync('export', model, '--format', 'pb');
    expect([r.code, r.err.trim()]).toEqual([2, 'tlr: --format takes onnx or tfjs, not pb']);
  });
});
