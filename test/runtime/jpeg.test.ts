import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp, { type JpegOptions } from 'sharp';
import { describe, expect, it } from 'vitest';
import { rng } from '../../src/data/random.js';
import { decodeRgb, decodeWithSharp, ImageError, SHARP_MAX_PIXELS } from '../../src/runtime/images/image.js';
import { decodeJpeg, orientation, turboJpegLoaded } from '../../src/runtime/images/jpeg.js';
import { resizeRgb } from '../../src/runtime/images/resize.js';
import { SHARED } from '../helpers/shared.js';

// The libturbojpeg path (jpeg.ts) gives the bytes sharp gives, for every kind of JPEG it takes, and
// declines what it should leave to sharp, so that tlr's verdict on a bad file is sharp's as before.
// Skipped, saying so, where libturbojpeg is not installed.

const why = (await turboJpegLoaded()) ? null : 'libturbojpeg is not installed (apt-get install -y libturbojpeg0)';
if (why) console.warn(`skipping the libturbojpeg tests: ${why}`);
const d = why ? describe.skip : describe;

function photo(w: number, h: number, seed: number): Buffer {
  const r = rng(seed),
    px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < px.length; i++) {
    const x = (i / 3) % w,
      y = Math.floor(i / 3 / w);
    px[i] = Math.max(0, Math.min(255, Math.round(128 + 90 * Math.sin((x * ((i % 3) + 1)) / 11 + y / 7) + r() * 40)));
  }
  return px;
}

const raw = (w: number, h: number, channels: 1 | 3 = 3) => ({ raw: { width: w, height: h, channels } });
const jpeg = (w: number, h: number, o: JpegOptions = {}, seed = 1) =>
  sharp(photo(w, h, seed), raw(w, h)).jpeg({ quality: 88, ...o });
/** The fast path at `size`, or null where it declines. */
const fast = (b: Buffer, size: number, max = SHARP_MAX_PIXELS) =>
  decodeJpeg(b, max, (x) => resizeRgb(x.rgb, x.width, x.height, size, size));
const same = (a: Uint8Array | null, b: Uint8Array) => a !== null && Buffer.from(a).equals(Buffer.from(b));

d('JPEGs through libturbojpeg', () => {
  it('the same bytes as sharp: 4:2:0, 4:4:4, progressive, grey, odd sizes, at the input size and resized', async () => {
    const cases: [string, Buffer][] = [
      ['4:2:0', await jpeg(97, 61).toBuffer()],
      ['4:4:4', await jpeg(64, 80, { chromaSubsampling: '4:4:4' }).toBuffer()],
      ['progressive', await jpeg(123, 45, { progressive: true }, 2).toBuffer()],
      [
        'grey',
        await sharp(
          photo(50, 70, 5).filter((_, i) => i % 3 === 0),
          raw(50, 70, 1),
        )
          .jpeg()
          .toBuffer(),
      ],
    ];
    if (fs.existsSync(path.join(SHARED, 'images', 'grace_hopper.jpg')))
      cases.push(['grace_hopper.jpg', fs.readFileSync(path.join(SHARED, 'images', 'grace_hopper.jpg'))]);
    for (const [name, b] of cases)
      for (const size of [224, 32])
        expect(same(await fast(b, size), (await decodeWithSharp(b, size, name)).rgb), name).toBe(true);
  });

  it('turns all eight EXIF orientations upright as sharp does', async () => {
    const base = await jpeg(40, 24).toBuffer();
    for (let o = 1; o <= 8; o++) {
      const b = await sharp(base).withMetadata({ orientation: o }).jpeg({ quality: 95 }).toBuffer();
      expect(orientation(b), `orientation ${o}`).toBe(o);
      const upright = await decodeJpeg(b, SHARP_MAX_PIXELS, (x) => ({ ...x, rgb: Buffer.from(x.rgb) }));
      const want = await sharp(b).rotate().raw().toBuffer({ resolveWithObject: true });
      expect([upright?.width, upright?.height], `orientation ${o}`).toEqual([want.info.width, want.info.height]);
      expect(upright?.rgb.equals(want.data), `orientation ${o}`).toBe(true);
    }
  });

  it('leaves to sharp what it should not take, and tlr says what sharp says', async () => {
    const good = await jpeg(80, 60).toBuffer();
    const cmyk = await sharp(photo(30, 20, 3), raw(30, 20))
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer();
    const exif = Buffer.concat([
      good.subarray(0, 2),
      Buffer.from([0xff, 0xe1, 0, 16]),
      Buffer.from('Exif\0\0MM\0*\xff\xff\xff\xff', 'latin1'),
      good.subarray(2),
    ]);
    const declined: [string, Buffer, number?][] = [
      ['truncated', good.subarray(0, Math.floor(good.length * 0.6))],
      ['CMYK', cmyk],
      [
        'PNG',
        await sharp(photo(8, 8, 4), raw(8, 8))
          .png()
          .toBuffer(),
      ],
      [
        'a JPEG start and then garbage',
        Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 4, 1, 2]), good.subarray(200)]),
      ],
      ['an EXIF block that cannot be read', exif],
      ['more pixels than allowed', good, 80 * 60 - 1],
    ];
    for (const [name, b, max] of declined) expect(await fast(b, 16, max), name).toBeNull();
    // The CMYK one and the EXIF one still decode, through sharp.
    expect((await decodeRgb(cmyk, 16)).length).toBe(16 * 16 * 3);
    await expect(decodeRgb(good, 16, 'big.jpg', 100)).rejects.toThrow(
      /big\.jpg: cannot be read as an image \(.*pixel limit/,
    );
    await expect(decodeRgb(declined[0]![1], 16, 'cut.jpg')).rejects.toThrow(ImageError);
  });

  it('decodes a JPEG at least twice the input at a reduced size for tlr-lanczos3/3, whole for a model of /2', async () => {
    const large = await jpeg(900, 700, {}, 7).toBuffer(),
      small = await jpeg(400, 300, {}, 8).toBuffer();
    const [v3, v2] = [
      await decodeRgb(large, 224),
      await decodeRgb(large, 224, 'l', SHARP_MAX_PIXELS, 'tlr-lanczos3/2'),
    ];
    // Version 2 decodes whole, as sharp does; version 3 from 450 x 350 (1/2), which gives other bytes.
    expect(same(v2, (await decodeWithSharp(large, 224, 'l')).rgb)).toBe(true);
    expect(same(v3, v2)).toBe(false);
    const reduced = await decodeJpeg(large, SHARP_MAX_PIXELS, (x) => [x.width, x.height], 224);
    expect(reduced).toEqual([450, 350]);
    // Under twice the input (400 < 448): both versions decode whole.
    const whole = await decodeRgb(small, 224, 's', SHARP_MAX_PIXELS, 'tlr-lanczos3/2');
    expect(same(await decodeRgb(small, 224), whole)).toBe(true);
    // sharp, without libturbojpeg, decodes whole and averages 2 x 2 blocks: near the DCT-scaled bytes, not them.
    const near = await decodeWithSharp(large, 224, 'l', SHARP_MAX_PIXELS, 224);
    expect(near.exact).toBe(false);
    let worst = 0,
      sum = 0;
    near.rgb.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(v - v3[i]!));
      sum += Math.abs(v - v3[i]!);
    });
    // Measured on this noisy image: 9 levels at most, 1.5 on average.
    expect(worst).toBeLessThanOrEqual(12);
    expect(sum / v3.length).toBeLessThan(2);
  });

  it('decodes a batch at once on the thread pool, each image its own', async () => {
    const files = await Promise.all([1, 2, 3, 4, 5, 6].map((s) => jpeg(60 + s, 40 + s, {}, s).toBuffer()));
    const together = await Promise.all(files.map((b) => fast(b, 24)));
    for (const [i, b] of files.entries())
      expect(same(together[i]!, (await decodeWithSharp(b, 24, `image ${i}`)).rgb)).toBe(true);
  });
});

describe('image files, whatever decodes them', () => {
  it('a file too large to read is named, not a crash', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-big-')),
      big = path.join(dir, 'big.jpg');
    try {
      // Sparse: 2.5 GB that take no disk. Node reads at most 2 GB into one buffer.
      fs.writeFileSync(big, Buffer.from([0xff, 0xd8, 0xff]));
      fs.truncateSync(big, 2.5 * 2 ** 30);
      await expect(decodeRgb(big, 16)).rejects.toThrow(/big\.jpg: cannot be read \(ERR_FS_FILE_TOO_LARGE\)/);
      await expect(decodeRgb(dir, 16)).rejects.toThrow(/is not a regular file/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
