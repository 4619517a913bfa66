import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCached, PixelCache } from '../../src/runtime/images/pixel-cache.js';
import { decodeRgb } from '../../src/runtime/images/image.js';
import { RESIZER } from '../../src/runtime/images/resize.js';
import { rng } from '../../src/data/random.js';
import { spawnAsync } from '../helpers/cli.js';
import { engineEnv, findTorchPython, hasTorch } from '../../src/engines/torch/python.js';

// The decoded-image cache: what it stores is what decoding gives, a damaged entry is never
// believed, it stays within its bound, it can be turned off, and the torch engine's twin
// (tlr_torch/pixels.py) reads and writes the very same entries.

const py = await findTorchPython();
let dir = '',
  jpeg = '';
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-pixels-'));
  jpeg = path.join(dir, 'photo.jpg');
  const r = rng(4);
  await sharp(Buffer.from(Array.from({ length: 120 * 90 * 3 }, () => Math.floor(r() * 256))), {
    raw: { width: 120, height: 90, channels: 3 },
  })
    .jpeg()
    .toFile(jpeg);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const envWith = (name: string, extra: Record<string, string> = {}) => ({
  ...process.env,
  TLR_CACHE: path.join(dir, name),
  ...extra,
});
const entries = (root: string): string[] =>
  fs.existsSync(root) ? (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.px')) : [];

describe('the decoded-image cache', () => {
  it('stores what decoding gives and answers it again; a damaged entry is removed and decoded again', async () => {
    const env = envWith('a');
    const cache = PixelCache.open(RESIZER, 32, env)!;
    const first = await decodeCached(cache, jpeg, 32, jpeg);
    expect(Buffer.from(first).equals(Buffer.from(await decodeRgb(jpeg, 32)))).toBe(true);
    const [entry] = entries(path.join(env.TLR_CACHE, 'pixels'));
    expect(entry).toMatch(/^tlr-lanczos3_3\/32\/[0-9a-f]{2}\/[0-9a-f]{64}\.px$/);
    const file = path.join(env.TLR_CACHE, 'pixels', entry!);
    expect(fs.statSync(file).size).toBe(16 + 32 * 32 * 3);
    expect(Buffer.from(await decodeCached(cache, jpeg, 32, jpeg)).equals(Buffer.from(first))).toBe(true);
    // One pixel flipped: the CRC no longer holds, so the entry is not believed.
    const raw = fs.readFileSync(file);
    raw[100]! ^= 0xff;
    fs.writeFileSync(file, raw);
    const again = await decodeCached(cache, jpeg, 32, jpeg);
    expect(Buffer.from(again).equals(Buffer.from(first))).toBe(true);
    expect(fs.readFileSync(file).equals(raw)).toBe(false);
    expect((fs.readdirSync(path.dirname(file)) as string[]).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it("keeps out pixels that are near the definition's but not its (a large JPEG sharp decodes and averages)", async () => {
    const env = envWith('near');
    // An EXIF block nothing can read: libturbojpeg's path leaves the file to sharp, which decodes it.
    const good = fs.readFileSync(jpeg),
      exif = Buffer.from('Exif\0\0MM\0*\xff\xff\xff\xff', 'latin1');
    const odd = path.join(dir, 'odd-exif.jpg');
    fs.writeFileSync(
      odd,
      Buffer.concat([good.subarray(0, 2), Buffer.from([0xff, 0xe1, 0, 16]), exif, good.subarray(2)]),
    );
    // 120 x 90 at 32 px is reduced by 2 (not by sharp: it averages); at 64 px it is decoded whole (sharp's bytes).
    await decodeCached(PixelCache.open(RESIZER, 32, env), odd, 32, odd);
    expect(entries(path.join(env.TLR_CACHE, 'pixels'))).toEqual([]);
    await decodeCached(PixelCache.open(RESIZER, 64, env), odd, 64, odd);
    expect(entries(path.join(env.TLR_CACHE, 'pixels'))).toHaveLength(1);
  });

  it('stays within TLR_PIXEL_CACHE_MB, trims the oldest past 90% when opened, and TLR_PIXEL_CACHE=0 turns it off', async () => {
    const off = envWith('off', { TLR_PIXEL_CACHE: '0' });
    expect(PixelCache.open(RESIZER, 32, off)).toBeNull();
    // 3 KB of pixels an entry at 32 px: a bound of 0.01 MB (10.5 KB) holds three.
    const env = envWith('bounded', { TLR_PIXEL_CACHE_MB: '0.01' });
    const cache = PixelCache.open(RESIZER, 32, env)!;
    for (let i = 0; i < 6; i++) cache.put(`${i}`.padStart(64, '0'), new Uint8Array(32 * 32 * 3).fill(i));
    const root = path.join(env.TLR_CACHE, 'pixels');
    expect(entries(root)).toHaveLength(3);
    // A new process with a smaller bound keeps the newest entries within 90% of it.
    const r = await spawnAsync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        "import('./src/runtime/images/pixel-cache.ts').then((m) => m.PixelCache.open('tlr-lanczos3/2', 32))",
      ],
      { env: { ...env, TLR_PIXEL_CACHE_MB: '0.007' }, encoding: 'utf8', cwd: path.resolve(__dirname, '../..') },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(entries(root)).toHaveLength(2);
  });

  (hasTorch(py) ? it : it.skip)("is shared with the torch engine's twin: each reads what the other wrote", async () => {
    const env = envWith('shared');
    const cache = PixelCache.open(RESIZER, 24, env)!;
    const ours = await decodeCached(cache, jpeg, 24, jpeg);
    // Rewrite the entry with other pixels and a CRC that holds: the torch engine must answer those, not decode.
    const [entry] = entries(path.join(env.TLR_CACHE, 'pixels'));
    const file = path.join(env.TLR_CACHE, 'pixels', entry!);
    const planted = Uint8Array.from(ours, (v) => 255 - v);
    const raw = fs.readFileSync(file);
    Buffer.from(planted).copy(raw, 16);
    raw.writeUInt32LE(crc32(planted), 12);
    fs.writeFileSync(file, raw);
    const other = path.join(dir, 'other.png');
    await sharp(Buffer.alloc(50 * 40 * 3, 77), { raw: { width: 50, height: 40, channels: 3 } })
      .png()
      .toFile(other);
    const r = spawnSync(
      hasTorch(py) ? py.python : 'python3',
      [
        '-c',
        `
import sys
from tlr_torch.data import Item, decode
from tlr_torch.pixels import PixelCache
from tlr_torch.resize import RESIZER
c = PixelCache(RESIZER, 24)
sys.stdout.buffer.write((decode(Item(sys.argv[1], 0), 24, c) * 255).round().byte().permute(1, 2, 0).numpy().tobytes())
decode(Item(sys.argv[2], 0), 24, c)`,
        jpeg,
        other,
      ],
      { env: engineEnv(env) },
    );
    expect(r.status, String(r.stderr)).toBe(0);
    expect(Buffer.from(r.stdout).equals(Buffer.from(planted))).toBe(true);
    // …and what the torch engine wrote for the PNG is what tlr decodes.
    const back = await decodeCached(PixelCache.open(RESIZER, 24, env), other, 24, other);
    expect(entries(path.join(env.TLR_CACHE, 'pixels'))).toHaveLength(2);
    expect(Buffer.from(back).equals(Buffer.from(await decodeRgb(other, 24)))).toBe(true);
  });
});
