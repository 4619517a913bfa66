import * as fs from 'node:fs';
import sharp, { type Sharp } from 'sharp';
import { decodeJpeg, looksLikeJpeg } from './jpeg.js';
import { jpegScale, reducesJpegs, resizeRgb, RESIZER } from './resize.js';

// Every image is decoded once per pass: sharp's operation cache only holds memory and costs time
// (decoding 320x240 JPEGs to 224 px: 446 images/s with it, 510 without, on 2 cores).
sharp.cache(false);

// Decoding with libturbojpeg or sharp (EXIF orientation applied; grey and alpha images become RGB; an
// embedded colour profile is ignored, as Pillow does), resizing with tlr's own resizer (resize.ts: the torch engine
// resizes with its twin, so both engines see the same pixels). The network's own preprocessing
// ((x / 255 - mean) / std per channel) is applied once, by normalize.ts.

export { normalize, type Preprocess } from './normalize.js';

/** An image that cannot be decoded; names the file. */
export class ImageError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

/** sharp's own default limit: an image of more pixels (width x height, from its header) is refused undecoded. */
export const SHARP_MAX_PIXELS = 0x3fff * 0x3fff;

/**
 * Decodes an image to RGB bytes of size x size (squashed, not cropped: every pixel is kept): a JPEG through
 * libturbojpeg where it can (jpeg.ts), anything else and what that path declines through sharp, the same pixels
 * either way. `maxPixels`: an image larger than that (width × height, read from its header before any decoding) is
 * refused. `resizer`: the definition the pixels are for (a model's own, when it predicts): tlr-lanczos3/3 decodes a
 * large JPEG at a reduced size.
 */
export async function decodeRgb(
  input: string | Buffer,
  size: number,
  name = typeof input === 'string' ? input : 'image',
  maxPixels = SHARP_MAX_PIXELS,
  resizer = RESIZER,
): Promise<Uint8Array> {
  return (await decodeImage(input, size, name, maxPixels, resizer)).rgb;
}

/**
 * decodeRgb, and whether the bytes are the definition's exactly: not so for a JPEG reduced without libturbojpeg, which
 * sharp decodes whole and reduces by averaging (reduceByAverage); those are not cached.
 */
export async function decodeImage(
  input: string | Buffer,
  size: number,
  name: string,
  maxPixels = SHARP_MAX_PIXELS,
  resizer = RESIZER,
): Promise<{ rgb: Uint8Array; exact: boolean }> {
  const bytes = typeof input === 'string' ? readImageFile(input, name) : input;
  const reduce = reducesJpegs(resizer) ? size : undefined;
  const jpeg = await decodeJpeg(bytes, maxPixels, (d) => resizeRgb(d.rgb, d.width, d.height, size, size), reduce);
  return jpeg ? { rgb: jpeg, exact: true } : decodeWithSharp(bytes, size, name, maxPixels, reduce);
}

/**
 * decodeRgb through sharp: every format, and the JPEGs that libturbojpeg's path declines. `reduceFor`: a JPEG (not
 * CMYK) large enough to be decoded at a reduced size is decoded whole and averaged over k x k blocks instead, near
 * the DCT-scaled pixels but not theirs (sharp decodes at a reduced size only inside its own resize).
 */
export async function decodeWithSharp(
  bytes: Buffer,
  size: number,
  name: string,
  maxPixels = SHARP_MAX_PIXELS,
  reduceFor?: number,
): Promise<{ rgb: Uint8Array; exact: boolean }> {
  let rgb: Uint8Array, width: number, height: number, k: number;
  try {
    const image = sharp(bytes, { failOn: 'error', ignoreIcc: true, limitInputPixels: maxPixels });
    // Only a JPEG can be reduced: other formats (every PNG of a data set) skip reading their header twice.
    k = reduceFor && looksLikeJpeg(bytes) ? await sharpJpegScale(image, reduceFor) : 1;
    const { data, info } = await image
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    rgb = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    width = info.width;
    height = info.height;
  } catch (e) {
    throw new ImageError(name, `cannot be read as an image (${(e as Error).message})`);
  }
  if (k > 1) {
    ({ rgb, width, height } = reduceByAverage(rgb, width, height, k));
    for (const l of [...nearListeners]) l();
  }
  return { rgb: resizeRgb(rgb, width, height, size, size), exact: k === 1 };
}

const nearListeners = new Set<() => void>();

/**
 * Calls `fn` the first time a JPEG is decoded near the definition's pixels rather than to them (reduced by sharp,
 * without libturbojpeg), so that a run says so once; returns what stops listening.
 */
export function onFirstNearJpeg(fn: () => void): () => void {
  const once = () => {
    nearListeners.delete(once);
    fn();
  };
  nearListeners.add(once);
  return () => nearListeners.delete(once);
}

/** jpegScale of a JPEG sharp reads (1 for any other format, and for CMYK, which is never reduced). */
async function sharpJpegScale(image: Sharp, size: number): Promise<number> {
  const m = await image.metadata();
  return m.format === 'jpeg' && m.space !== 'cmyk' && m.width && m.height ? jpegScale(m.width, m.height, size) : 1;
}

/** RGB bytes averaged over k x k blocks (the last ones partial), rounded: ceil(w / k) x ceil(h / k) pixels. */
export function reduceByAverage(rgb: Uint8Array, w: number, h: number, k: number) {
  const W = Math.ceil(w / k),
    H = Math.ceil(h / k),
    out = new Uint8Array(W * H * 3),
    sum = new Float64Array(W * 3);
  for (let Y = 0; Y < H; Y++) {
    sum.fill(0);
    const y1 = Math.min(h, (Y + 1) * k);
    for (let y = Y * k; y < y1; y++)
      for (let x = 0, s = y * w * 3; x < w; x++, s += 3) {
        const d = Math.floor(x / k) * 3;
        sum[d] = sum[d]! + rgb[s]!;
        sum[d + 1] = sum[d + 1]! + rgb[s + 1]!;
        sum[d + 2] = sum[d + 2]! + rgb[s + 2]!;
      }
    for (let X = 0; X < W; X++) {
      const n = (y1 - Y * k) * (Math.min(w, (X + 1) * k) - X * k);
      for (let c = 0; c < 3; c++) out[(Y * W + X) * 3 + c] = Math.floor(sum[X * 3 + c]! / n + 0.5);
    }
  }
  return { rgb: out, width: W, height: H };
}

/**
 * An image file's bytes. It is opened without blocking and checked once open (fstat), so a FIFO, socket or device
 * named *.png, or one swapped in after a check by name, is never read: it would block forever or never end.
 */
export function readImageFile(file: string, name: string): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ImageError(
      name,
      code === 'ENOENT'
        ? 'does not exist (or is a dangling link)'
        : code === 'ELOOP'
          ? 'is a symbolic link that loops'
          : `cannot be opened (${code})`,
    );
  }
  try {
    if (!fs.fstatSync(fd).isFile())
      throw new ImageError(name, 'is not a regular file (a FIFO, socket, device or folder); it is never read');
    try {
      return fs.readFileSync(fd);
    } catch (e) {
      // Over 2 GB (ERR_FS_FILE_TOO_LARGE), or an I/O error: no image tlr can use, named.
      throw new ImageError(name, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  } finally {
    fs.closeSync(fd);
  }
}
