import * as fs from 'node:fs';
import sharp from 'sharp';
import { decodeJpeg } from './jpeg.js';
import { resizeRgb } from './resize.js';

// Every image is decoded once per pass: sharp's operation cache only holds memory and costs time
// (decoding 320x240 JPEGs to 224 px: 446 images/s with it, 510 without, on 2 cores).
sharp.cache(false);

// Decoding with libturbojpeg or sharp (EXIF orientation applied; grey and alpha images become RGB; an
// embedded colour profile is ignored, as Pillow does), resizing with tlr's own resizer (resize.ts: the torch engine
// resizes with its twin, so both engines see the same pixels). The network's own preprocessing
// ((x / 255 - mean) / std per channel) is applied here, once.

export interface Preprocess {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

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
 * refused.
 */
export async function decodeRgb(
  input: string | Buffer,
  size: number,
  name = typeof input === 'string' ? input : 'image',
  maxPixels = SHARP_MAX_PIXELS,
): Promise<Uint8Array> {
  const bytes = typeof input === 'string' ? readImageFile(input, name) : input;
  const jpeg = await decodeJpeg(bytes, maxPixels, (d) => resizeRgb(d.rgb, d.width, d.height, size, size));
  return jpeg ?? decodeWithSharp(bytes, size, name, maxPixels);
}

/** decodeRgb through sharp: every format, and the JPEGs that libturbojpeg's path declines. */
export async function decodeWithSharp(
  bytes: Buffer,
  size: number,
  name: string,
  maxPixels = SHARP_MAX_PIXELS,
): Promise<Uint8Array> {
  let rgb: Uint8Array, width: number, height: number;
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error', ignoreIcc: true, limitInputPixels: maxPixels })
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
  return resizeRgb(rgb, width, height, size, size);
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

/**
 * RGB bytes to normalised floats, written into `out` at `offset` (HWC order). One pass, channels unrolled: it runs on
 * every image of every pass.
 */
export function normalize(
  rgb: Uint8Array,
  p: Preprocess,
  out: Float32Array = new Float32Array(rgb.length),
  offset = 0,
): Float32Array {
  const s0 = 1 / (255 * p.std[0]!),
    s1 = 1 / (255 * p.std[1]!),
    s2 = 1 / (255 * p.std[2]!);
  const h0 = p.mean[0]! / p.std[0]!,
    h1 = p.mean[1]! / p.std[1]!,
    h2 = p.mean[2]! / p.std[2]!;
  for (let i = 0, o = offset; i < rgb.length; i += 3, o += 3) {
    out[o] = rgb[i]! * s0 - h0;
    out[o + 1] = rgb[i + 1]! * s1 - h1;
    out[o + 2] = rgb[i + 2]! * s2 - h2;
  }
  return out;
}
