import sharp from 'sharp';

// Decoding and resizing with sharp; grey and alpha images become RGB. The network's own
// preprocessing ((x / 255 - mean) / std per channel) is applied here, once.

export interface Preprocess {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** An image that cannot be decoded; names the file. */
export class ImageError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
  }
}

/** Decodes an image to RGB bytes of size x size (squashed, not cropped: every pixel is kept). */
export async function decodeRgb(input: string | Buffer, size: number, name = typeof input === 'string' ? input : 'image'): Promise<Uint8Array> {
  try {
    const { data, info } = await sharp(input, { failOn: 'error' })
      .rotate()
      .resize(size, size, { fit: 'fill', kernel: 'lanczos3' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (e) {
    throw new ImageError(name, `cannot be read as an image (${(e as Error).message})`);
  }
}

/** RGB bytes to normalised floats, written into `out` at `offset` (HWC order). */
export function normalize(rgb: Uint8Array, p: Preprocess, out: Float32Array = new Float32Array(rgb.length), offset = 0): Float32Array {
  const scale = [0, 1, 2].map((c) => 1 / (255 * p.std[c]!));
  const shift = [0, 1, 2].map((c) => p.mean[c]! / p.std[c]!);
  for (let i = 0; i < rgb.length; i++) {
    const c = i % 3;
    out[offset + i] = rgb[i]! * scale[c]! - shift[c]!;
  }
  return out;
}
