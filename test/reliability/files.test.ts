import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../src/engines/tfjs/tf.js';
import { readSafetensors, writeSafetensors } from '../../src/runtime/weights/safetensors.js';
import { WeightsError } from '../../src/runtime/weights/tensors.js';
import { verifyLock } from '../../src/runtime/weights/lock.js';
import { probeData, readIdxImages } from '../../src/data/formats/index.js';
import { compile } from '../../src/compiler/index.js';
import { run } from '../../src/engines/tfjs/run.js';
import { Events } from '../../src/runtime/events.js';
import { makeWorld, recipe } from '../helpers/run-fixture.js';
import { trainedModel } from '../helpers/trained-model.js';
import { tlrAsync } from '../helpers/cli.js';

// Nothing on disk is trusted blindly: every reader checks what it reads (sizes before allocating)
// and a damaged file is an error that names it, never "internal error".

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-files-'));

beforeAll(async () => {
  await tf.setBackend('wasm');
});

describe('safetensors headers', () => {
  const header = (h: unknown, extra = 0) => {
    const json = Buffer.from(typeof h === 'string' ? h : JSON.stringify(h));
    const b = Buffer.alloc(8 + json.length + extra);
    b.writeBigUInt64LE(BigInt(json.length), 0);
    json.copy(b, 8);
    return new Uint8Array(b);
  };
  it.each([
    ['a null header', header('null'), /header is not a JSON object/],
    ['an entry of the wrong type', header({ w: 7 }), /entry for w is not an object/],
    ['missing offsets', header({ w: { dtype: 'F32', shape: [2] } }, 8), /entry for w has data_offsets undefined/],
    [
      'a negative shape',
      header({ w: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, 8),
      /entry for w has the shape \[-2\]/,
    ],
    [
      'an absurd shape',
      header({ w: { dtype: 'F32', shape: [1e6, 1e6], data_offsets: [0, 8] } }, 8),
      /shape \[1000000,1000000\]/,
    ],
    [
      'offsets past the end',
      header({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 800] } }, 8),
      /truncated: w ends at byte \d+, the file has \d+/,
    ],
  ])('%s: a WeightsError naming the file', (_what, buf, message) => {
    expect(() => readSafetensors(buf, 'x.safetensors')).toThrow(WeightsError);
    expect(() => readSafetensors(buf, 'x.safetensors')).toThrow(message);
  });
  it('a header length of 2^40 is refused before anything is allocated', () => {
    const b = new Uint8Array(writeSafetensors(new Map([['w', { shape: [2], data: new Float32Array(2) }]])));
    new DataView(b.buffer).setBigUint64(0, 2n ** 40n, true);
    expect(() => readSafetensors(b, 'x.safetensors')).toThrow(
      /x\.safetensors is not a safetensors file, or it is truncated: its header says 1099511627776 bytes/,
    );
  });
});

describe('IDX files', () => {
  const idx = (dir: string, images: Buffer, labels: Buffer) => {
    fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte.gz'), images);
    fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte.gz'), labels);
  };
  const head = (magic: number, ...dims: number[]) => {
    const b = Buffer.alloc(4 + 4 * dims.length);
    b.writeUInt32BE(magic, 0);
    dims.forEach((d, i) => {
      b.writeUInt32BE(d, 4 + 4 * i);
    });
    return b;
  };
  it('corrupt gzip: the probe names the file', () => {
    const d = tmp();
    idx(d, Buffer.from('not gzip at all'), zlib.gzipSync(Buffer.concat([head(0x801, 2), Buffer.from([0, 1])])));
    const r = probeData(d);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/train-images-idx3-ubyte\.gz is not a gzip file/);
  });
  it('0x0 images are an error, not a data set', () => {
    const d = tmp();
    idx(d, zlib.gzipSync(head(0x803, 2, 0, 0)), zlib.gzipSync(Buffer.concat([head(0x801, 2), Buffer.from([0, 1])])));
    const r = probeData(d);
    expect(!r.ok && r.message).toMatch(/0x0 pixels: there is nothing to train on/);
  });
  it('a truncated gzip file is a clear error when read', () => {
    const d = tmp(),
      f = path.join(d, 'train-images-idx3-ubyte.gz');
    const whole = zlib.gzipSync(Buffer.concat([head(0x803, 4, 28, 28), Buffer.alloc(4 * 784, 7)]));
    fs.writeFileSync(f, whole.subarray(0, whole.length - 40));
    expect(() => readIdxImages(f)).toThrow(/train-images-idx3-ubyte\.gz is not a whole gzip file/);
  });
});

describe('tlr.lock and checkpoints', () => {
  it('a tlr.lock with null fields names the file and says how to recover', () => {
    const d = tmp();
    fs.writeFileSync(
      path.join(d, 'tlr.lock'),
      JSON.stringify({ version: 1, weights: { 'https://x/m.json': { sha256: null } } }),
    );
    expect(() => verifyLock(d, 'https://x/m.json', 'a'.repeat(64), 'tfjs')).toThrow(
      /tlr\.lock cannot be read \(its entry for https:\/\/x\/m\.json has no valid sha256\); fix it or delete it/,
    );
  });
  it.each([
    ['not JSON', '{"stage": ', /state\.json is damaged/],
    [
      'a stage past the schedule',
      JSON.stringify({ stage: 7, epoch: 0, best: null, stageBest: null, sinceBest: 0 }),
      /state\.json does not describe a point in this run's schedule/,
    ],
  ])(
    'a checkpoint state.json that is %s stops --resume with an error naming it',
    async (_what, text, message) => {
      const w = makeWorld({ perClass: 4 });
      const f = recipe(
        w.dir,
        `from mobilenet_v1 width 0.25 input 32 weights ${w.weights}\nhead dense(3)\ntrain 3 epochs on ` +
          `./data\nsplit 50/50\n`,
      );
      const c = compile(fs.readFileSync(f, 'utf8'), { file: f });
      let batches = 0;
      const events = new Events();
      events.on((e) => {
        if (e.type === 'batch') batches++;
      });
      const env = { ...process.env, TLR_CACHE: path.join(w.dir, 'cache'), TLR_WORKERS: '0' };
      const r = await run({ plan: c.plan!, recipeText: '', events, backend: 'wasm', stopped: () => batches >= 2, env });
      fs.writeFileSync(path.join(r.runDir, 'checkpoint', 'state.json'), text);
      await expect(
        run({ plan: c.plan!, recipeText: '', events: new Events(), backend: 'wasm', resume: r.runDir, env }),
      ).rejects.toThrow(message);
    },
    30_000,
  );
});

describe('model folders', () => {
  let model = '',
    image = '';
  beforeAll(async () => {
    const w = await trainedModel({ perClass: 4 });
    model = w.model;
    image = path.join(w.dir, 'data/bag', fs.readdirSync(path.join(w.dir, 'data/bag'))[0]!);
  });
  const damaged = (hurt: (dir: string) => void) => {
    const dir = path.join(tmp(), 'model');
    fs.cpSync(model, dir, { recursive: true });
    hurt(dir);
    return dir;
  };
  it.each([
    [
      'a truncated model.json',
      (d: string) => fs.truncateSync(path.join(d, 'model.json'), 100),
      /model\.json is damaged: not JSON/,
    ],
    [
      'a truncated preprocessing.json',
      (d: string) => fs.truncateSync(path.join(d, 'preprocessing.json'), 10),
      /preprocessing\.json is damaged/,
    ],
    [
      'a truncated weights.bin',
      (d: string) => fs.truncateSync(path.join(d, 'weights.bin'), 1000),
      /weight shards of .*model\.json are truncated/,
    ],
    [
      'an inputSize that disagrees with the model',
      (d: string) => {
        const p = JSON.parse(fs.readFileSync(path.join(d, 'preprocessing.json'), 'utf8'));
        p.inputSize = 64;
        fs.writeFileSync(path.join(d, 'preprocessing.json'), JSON.stringify(p));
      },
      /preprocessing\.json says inputSize 64, but the model in model\.json takes 32x32 images/,
    ],
    [
      'a model trained with another resizer',
      (d: string) => {
        const p = JSON.parse(fs.readFileSync(path.join(d, 'preprocessing.json'), 'utf8'));
        expect(p.resize).toBe('tlr-lanczos3/3');
        p.resize = 'tlr-lanczos3/9';
        fs.writeFileSync(path.join(d, 'preprocessing.json'), JSON.stringify(p));
      },
      /preprocessing\.json says the model was trained on images resized by "tlr-lanczos3\/9", but this tlr resizes with tlr-lanczos3\/3/,
    ],
    [
      'labels.json shorter than the outputs',
      (d: string) => fs.writeFileSync(path.join(d, 'labels.json'), '["bag", "trouser"]'),
      /labels\.json names 2 classes, but the model has 3 outputs/,
    ],
    [
      'a shard path that leaves the folder',
      (d: string) => {
        const j = JSON.parse(fs.readFileSync(path.join(d, 'model.json'), 'utf8'));
        j.weightsManifest[0].paths = ['../../../../etc/hostname'];
        fs.writeFileSync(path.join(d, 'model.json'), JSON.stringify(j));
      },
      /outside the model's folder/,
    ],
  ])('%s: tlr predict names the file and what is wrong', async (_what, hurt, message) => {
    const r = await tlrAsync('predict', damaged(hurt), image, '--backend', 'wasm');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/internal error/);
  });
});
