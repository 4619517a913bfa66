import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import onnxProto from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadOrt } from '../../src/engines/tfjs/onnx/runtime.js';
import { verdict, type Int8Record } from '../../src/engines/tfjs/int8.js';
import { readContract } from '../../src/contracts/read.js';
import { trainedModel } from '../helpers/trained-model.js';
import { tlrAsync } from '../helpers/cli.js';

// tlr export --int8: measured before it is written (both parts' accuracy in float and int8, both speeds), written with
// its record into the model folder and the export, used by predict and eval --int8, refused when stale; the gate's
// verdict; bad flags and a model outside its run folder are usage errors that write nothing.

const { onnx } = onnxProto;
const ort = loadOrt();
let model = '',
  runDir = '',
  images: string[] = [];

beforeAll(async () => {
  const t = await trainedModel({ perClass: 6, train: '2 epochs on ./data lr 0.01' });
  [model, runDir] = [t.model, t.runDir];
  images = ['bag', 'trouser', 'tshirt'].map((c) =>
    path.join(t.dir, 'data', c, fs.readdirSync(path.join(t.dir, 'data', c))[0]!),
  );
});

const int8Files = (dir: string) => fs.readdirSync(dir).filter((f) => f.includes('int8'));

describe.skipIf(!('ort' in ort))(`tlr export --int8${'ort' in ort ? '' : ' (skipped: no ONNX Runtime)'}`, () => {
  it('measures, then writes the int8 model, its record and the export; predict and eval run it', async () => {
    const r = await tlrAsync('export', model, '--int8', '--force', '--calibration', '6');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/int8: calibrating \d+ activations on 6 training images \(Percentile 99\.99%\)/);
    expect(r.err).toMatch(/int8: validation \(\d+ images\): accuracy [\d.]+% in float, [\d.]+% in int8/);
    expect(r.err).toMatch(/int8: speed: [\d.]+ images\/s against [\d.]+ in float \([\d.]+x; batch \d+, \d+ threads/);
    const record = readContract('int8', path.join(model, 'int8.json'));
    expect(record.calibration).toMatchObject({ method: 'Percentile', images: 6, part: 'train' });
    expect(record.parts.map((p) => p.part)).toEqual(['validation']);
    // forced is set exactly when the gate refused (the run's own figures decide which).
    expect(record.forced === null).toBe(verdict(record) === null);
    expect(r.err.includes('warning: written although the gate refused it')).toBe(record.forced !== null);
    const exported = path.join(runDir, 'model.int8.onnx');
    const meta = new Map(onnx.ModelProto.decode(fs.readFileSync(exported)).metadataProps!.map((p) => [p.key, p.value]));
    expect(JSON.parse(meta.get('int8')!)).toEqual(record);
    expect(JSON.parse(meta.get('labels')!)).toEqual(['bag', 'trouser', 'tshirt']);
    const p8 = await tlrAsync('predict', model, ...images, '--int8', '--json');
    const p32 = await tlrAsync('predict', model, ...images, '--json');
    expect([p8.code, p32.code]).toEqual([0, 0]);
    const probs = (out: string) =>
      (JSON.parse(out) as { top: { label: string; probability: number }[] }[]).map((p) =>
        Object.fromEntries(p.top.map((t) => [t.label, t.probability])),
      );
    // The int8 network is close to the float one, not equal to it.
    for (const [i, want] of probs(p32.out).entries())
      for (const [label, v] of Object.entries(want)) expect(Math.abs(probs(p8.out)[i]![label]! - v)).toBeLessThan(0.2);
    const e = await tlrAsync('eval', model, path.join(path.dirname(runDir), '..', '..', 'data'), '--int8');
    expect(e.code).toBe(0);
    expect(e.out).toMatch(/ONNX Runtime \([^)]*int8\)/);
  }, 180_000);

  it('refuses an int8 model made before the float model changed', async () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-int8-stale-'));
    fs.cpSync(model, copy, { recursive: true });
    expect(int8Files(copy)).toEqual(['int8.json', 'int8.onnx']);
    const pre = path.join(copy, 'preprocessing.json');
    fs.writeFileSync(pre, JSON.stringify(JSON.parse(fs.readFileSync(pre, 'utf8'))));
    const r = await tlrAsync('predict', copy, images[0]!, '--int8');
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${path.join(copy, 'int8.onnx')} was made from another version of this model`);
    expect(r.err).toContain(`tlr export ${copy} --int8`);
    fs.rmSync(pre);
    const none = await tlrAsync('predict', path.join(os.tmpdir(), 'no-such-model'), images[0]!, '--int8');
    expect(none.code).toBe(2);
    fs.rmSync(copy, { recursive: true, force: true });
  });

  it('refuses a model outside its run folder and bad flags, writing nothing', async () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-int8-alone-'));
    fs.cpSync(model, path.join(copy, 'model'), { recursive: true });
    for (const f of ['int8.json', 'int8.onnx']) fs.rmSync(path.join(copy, 'model', f));
    const alone = await tlrAsync('export', path.join(copy, 'model'), '--int8');
    expect(alone.code).toBe(2);
    expect(alone.err).toContain('is not in a run folder');
    // A model folder without tlr's marker gets no files of tlr's.
    const run = path.join(copy, 'run');
    fs.cpSync(runDir, run, { recursive: true });
    fs.rmSync(path.join(run, 'model', '.tlr-model'));
    for (const f of int8Files(path.join(run, 'model'))) fs.rmSync(path.join(run, 'model', f));
    fs.rmSync(path.join(run, 'model.int8.onnx'), { force: true });
    const unmarked = await tlrAsync('export', path.join(run, 'model'), '--int8', '--force');
    expect([unmarked.code, unmarked.err]).toEqual([2, expect.stringContaining('has no .tlr-model')]);
    expect([int8Files(path.join(run, 'model')), int8Files(run)]).toEqual([[], []]);
    fs.rmSync(run, { recursive: true, force: true });
    const cases: [string[], string][] = [
      [['--int8', '--gate', 'x'], "--gate takes points from 0 to 100, not 'x'"],
      [['--int8', '--calibration', '0'], '--calibration takes a whole number of images'],
      [['--int8', '--format', 'tfjs'], '--int8 writes ONNX'],
      [['--gate', '2'], '--gate goes with --int8'],
    ];
    for (const [flags, message] of cases) {
      const r = await tlrAsync('export', path.join(copy, 'model'), ...flags);
      expect([r.code, r.err]).toEqual([2, expect.stringContaining(message)]);
    }
    expect(int8Files(path.join(copy, 'model'))).toEqual([]);
    expect(fs.readdirSync(copy)).toEqual(['model']);
    fs.rmSync(copy, { recursive: true, force: true });
  });
});

describe('the int8 gate', () => {
  const record = (over: Partial<Int8Record>): Int8Record =>
    ({
      metric: 'accuracy',
      parts: [{ part: 'test', images: 100, fp32: 0.9, int8: 0.885 }],
      drop: 1.5,
      gate: 1,
      speed: { fp32: 10, int8: 20, ratio: 2, batch: 8, threads: 2, repeats: 5, cpu: 'x' },
      ...over,
    }) as Int8Record;
  it('refuses a fall past the gate, with both figures', () => {
    expect(verdict(record({}))).toBe(
      'accuracy falls 1.50 points, more than the gate of 1 (test accuracy 90.00% in float, 88.50% in int8)',
    );
    expect(verdict(record({ gate: 2 }))).toBeNull();
  });
  it('refuses a model that is not faster, and one with nothing to check it on', () => {
    const slow = record({
      drop: 0,
      speed: { fp32: 10, int8: 9, ratio: 0.9, batch: 8, threads: 2, repeats: 5, cpu: '' },
    });
    expect(verdict(slow)).toBe('int8 is not faster here: 9.0 images/s against 10.0 in float (0.90x)');
    expect(verdict(record({ parts: [] }))).toMatch(/no validation or test images/);
  });
});
