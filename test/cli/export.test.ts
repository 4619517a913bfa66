import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadOrt } from '../../src/engines/tfjs/onnx/runtime.js';
import onnxProto from 'onnx-proto';
import sharp from 'sharp';
import { decodeRgb, normalize, SHARP_MAX_PIXELS } from '../../src/runtime/images/image.js';
import { RESIZER } from '../../src/runtime/images/resize.js';
import { rng } from '../../src/data/random.js';
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

    it('feeds each model as it was trained: a large JPEG reduced for tlr-lanczos3/3, decoded whole for /2', async () => {
      const large = path.join(path.dirname(model), 'large.jpg');
      const r = rng(9);
      await sharp(Buffer.from(Array.from({ length: 200 * 160 * 3 }, () => Math.floor(r() * 256))), {
        raw: { width: 200, height: 160, channels: 3 },
      })
        .jpeg()
        .toFile(large);
      // The same network, saved as a model of tlr-lanczos3/2.
      const older = path.join(path.dirname(model), 'model-v2');
      fs.cpSync(model, older, { recursive: true });
      const preFile = path.join(older, 'preprocessing.json');
      const pre = JSON.parse(fs.readFileSync(preFile, 'utf8'));
      fs.writeFileSync(preFile, JSON.stringify({ ...pre, resize: 'tlr-lanczos3/2' }));
      const o = (ort as { ort: typeof import('onnxruntime-node') }).ort;
      for (const [dir, resizer] of [
        [model, RESIZER],
        [older, 'tlr-lanczos3/2'],
      ] as const) {
        const out = path.join(path.dirname(model), `${path.basename(dir)}.onnx`);
        expect((await tlrAsync('export', dir, '--out', out, '--softmax')).code).toBe(0);
        const meta = new Map(
          onnxProto.onnx.ModelProto.decode(fs.readFileSync(out)).metadataProps.map((m) => [m.key, m.value] as const),
        );
        const said = JSON.parse(meta.get('preprocessing')!);
        expect([said.resize, /DCT scaling/.test(said.resizeDefinition)]).toEqual([resizer, resizer === RESIZER]);
        // At 32 px the 200 x 160 JPEG decodes at 1/4 for version 3 and whole for version 2: predict and the export
        // both give what that model's own pixels give.
        const x = normalize(await decodeRgb(large, 32, large, SHARP_MAX_PIXELS, resizer), pre);
        const session = await o.InferenceSession.create(out);
        const y = [
          ...((await session.run({ input: new o.Tensor('float32', x, [1, 32, 32, 3]) }))['output']!
            .data as Float32Array),
        ];
        await session.release();
        const top = JSON.parse((await tlrAsync('predict', dir, large, '--json', '--top', '3')).out)[0].top;
        const labels = JSON.parse(fs.readFileSync(path.join(dir, 'labels.json'), 'utf8'));
        for (const t of top) expect(y[labels.indexOf(t.label)]).toBeCloseTo(t.probability, 4);
        // This small network barely moves for a few levels, so where each model's pixels went is read from the
        // decoded-image cache eval fills: each resizer has its own folder.
        const data = path.join(path.dirname(model), `eval-${path.basename(dir)}`, 'data');
        fs.mkdirSync(path.join(data, 'bag'), { recursive: true });
        fs.copyFileSync(large, path.join(data, 'bag', 'large.jpg'));
        const cache = path.join(path.dirname(model), `cache-${path.basename(dir)}`);
        const before = process.env['TLR_CACHE'];
        process.env['TLR_CACHE'] = cache;
        try {
          expect((await tlrAsync('eval', dir, data, '--json')).code).toBe(0);
        } finally {
          if (before === undefined) delete process.env['TLR_CACHE'];
          else process.env['TLR_CACHE'] = before;
        }
        expect(fs.readdirSync(path.join(cache, 'pixels'))).toEqual([resizer.replace('/', '_')]);
      }
    });

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
