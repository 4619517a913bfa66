import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rng } from '../../../src/data/random.js';
import { turboJpegLoaded } from '../../../src/runtime/images/jpeg.js';
import { NEAR_JPEGS } from '../../../src/engines/tfjs/stages/context.js';
import { tlrProcess } from '../../helpers/cli.js';

// A run on large JPEGs without libturbojpeg (TLR_TURBOJPEG=0): it says once that their pixels are near the torch
// engine's rather than the same, and keeps them out of the shared decoded-image cache; with libturbojpeg it says
// nothing and caches them.

const turbo = await turboJpegLoaded();
let dir = '';
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-near-'));
  const r = rng(5);
  for (const c of ['a', 'b'])
    for (let i = 0; i < 3; i++) {
      fs.mkdirSync(path.join(dir, 'd', c), { recursive: true });
      const px = Buffer.from(Array.from({ length: 200 * 160 * 3 }, () => Math.floor(r() * 256)));
      await sharp(px, { raw: { width: 200, height: 160, channels: 3 } })
        .jpeg()
        .toFile(path.join(dir, 'd', c, `${i}.jpg`));
    }
  fs.writeFileSync(
    path.join(dir, 'r.tlr'),
    'from mobilenet_v1 width 0.25 input 32 weights none\nhead dense(2)\ntrain 1 epoch on ./d\nsplit 50/50\n',
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function runWith(env: Record<string, string>, cache: string) {
  const r = await tlrProcess(['run', path.join(dir, 'r.tlr'), '--json'], {
    cwd: dir,
    env: { ...env, TLR_CACHE: path.join(dir, cache), TLR_WORKERS: '0' },
  });
  expect(r.code, r.err).toBe(0);
  const warnings = r.out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((e) => e.type === 'warning' && e.message === NEAR_JPEGS);
  const pixels = path.join(dir, cache, 'pixels');
  const cached = fs.existsSync(pixels)
    ? (fs.readdirSync(pixels, { recursive: true }) as string[]).filter((f) => f.endsWith('.px')).length
    : 0;
  return { warnings: warnings.length, cached };
}

describe('large JPEGs on the tfjs engine', () => {
  it('without libturbojpeg: one warning, nothing cached', async () => {
    expect(await runWith({ TLR_TURBOJPEG: '0' }, 'off')).toEqual({ warnings: 1, cached: 0 });
  }, 120_000);

  it.skipIf(!turbo)(
    'with libturbojpeg: no warning, every image cached',
    async () => {
      expect(await runWith({}, 'on')).toEqual({ warnings: 0, cached: 6 });
    },
    120_000,
  );
});
