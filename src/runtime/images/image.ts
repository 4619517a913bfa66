import * as fs from 'node:fs';
import sharp from 'sharp';
import { resizeRgb } from './resize.js';

// Every image is decoded once per pass: sharp's operation cache only holds memory and costs time
// (decoding 320x240 JPEGs to 224 px: 446 images/s with it, 510 without, on 2 cores).
sharp.cache(false);

// Decoding with sharp (EXIF orientation applied; grey and alpha images become RGB; an embedded colour
// profile is ignored, as Pillow does), resizing with tlr's own resizer (resize.ts: the torch engine
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

/**
 * Decodes an image to RGB bytes of size x size (squashed, not cropped: every pixel is kept). `maxPixels`: an image
 * larger than that (width × height, read from its header before any decoding) is refused (sharp's default: 268 M).
 */
export async function decodeRgb(
  input: string | Buffer,
  size: number,
  name = typeof input === 'string' ? input : 'image',
  maxPixels?: number,
): Promise<Uint8Array> {
  if (typeof input === 'string') {
    // Never open what is not a regular file: a FIFO named *.png would block forever.
    let st: fs.Stats;
    try {
      st = fs.statSync(input);
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
    if (!st.isFile())
      throw new ImageError(name, 'is not a regular file (a FIFO, socket, device or folder); it is never opened');
  }
  let rgb: Uint8Array, width: number, height: number;
  try {
    const limit = maxPixels === undefined ? {} : { limitInputPixels: maxPixels };
    const { data, info } = await sharp(input, { failOn: 'error', ignoreIcc: true, ...limit })
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
