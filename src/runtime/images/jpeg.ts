import type { LibraryHandle } from 'koffi';
import exifReader from 'exif-reader';
import { jpegScale } from './resize.js';

// JPEGs decoded by libturbojpeg (libjpeg-turbo's TurboJPEG API), called through koffi, a foreign
// function interface: sharp's call costs more than Pillow's whole decode and resize of a 320x240
// JPEG (libvips builds a pipeline per image), this one a sixth of it. Same library, same settings as
// Pillow and sharp (the accurate integer IDCT, fancy upsampling), so the same bytes
// (test/runtime/jpeg.test.ts). Anything this path does not take for certain (no libturbojpeg, not a
// baseline or progressive JPEG it reads without a warning, CMYK, too many pixels, an EXIF block it
// cannot read) returns null and goes to sharp, which decides as before, errors included.
// TLR_TURBOJPEG=0 turns it off.

/** What decodeJpeg gives: RGB bytes, upright (EXIF orientation applied). */
export interface Decoded {
  readonly rgb: Uint8Array;
  readonly width: number;
  readonly height: number;
}

interface Turbo {
  readonly init: () => unknown;
  readonly destroy: (h: unknown) => number;
  readonly header: (h: unknown, b: Buffer, n: number, w: number[], ht: number[], s: number[], c: number[]) => number;
  readonly decompress: ReturnType<LibraryHandle['func']>;
}

// Where the library is on each system (Debian and Ubuntu: libturbojpeg0; Homebrew: jpeg-turbo).
const NAMES = [
  'libturbojpeg.so.0',
  'libturbojpeg.so',
  '/opt/homebrew/opt/jpeg-turbo/lib/libturbojpeg.dylib',
  '/usr/local/opt/jpeg-turbo/lib/libturbojpeg.dylib',
  'turbojpeg.dll',
];
const TJPF_RGB = 0,
  TJFLAG_ACCURATEDCT = 4096;

let turbo: Promise<Turbo | null> | undefined;

// koffi, a native addon, loads on the first JPEG: commands that decode none never load it.
function load(): Promise<Turbo | null> {
  turbo ??= open();
  return turbo;
}

async function open(): Promise<Turbo | null> {
  if (process.env['TLR_TURBOJPEG'] === '0') return null;
  let loadLibrary: (name: string) => LibraryHandle;
  try {
    const koffi = (await import('koffi')).default;
    loadLibrary = (name) => koffi.load(name);
  } catch {
    return null; // no build of koffi for this platform
  }
  for (const name of NAMES) {
    let lib: LibraryHandle;
    try {
      lib = loadLibrary(name);
    } catch {
      continue;
    }
    return {
      init: lib.func('void *tjInitDecompress(void)'),
      destroy: lib.func('int tjDestroy(void *h)'),
      header: lib.func(
        'int tjDecompressHeader3(void *h, const uint8_t *buf, unsigned long size, ' +
          '_Out_ int *w, _Out_ int *ht, _Out_ int *sub, _Out_ int *space)',
      ),
      decompress: lib.func(
        'int tjDecompress2(void *h, const uint8_t *buf, unsigned long size, uint8_t *dst, ' +
          'int w, int pitch, int ht, int format, int flags)',
      ),
    };
  }
  return null;
}

/** Whether JPEGs decode through libturbojpeg here (tlr doctor says so). */
export async function turboJpegLoaded(): Promise<boolean> {
  return (await load()) !== null;
}

// A TurboJPEG handle decodes one image at a time; each call in flight takes its own.
const handles: unknown[] = [];
const KEEP_HANDLES = 8;

// Decoded pixels live only until `use` returns (resizing copies them), so their buffers are reused: a
// fresh 230 kB buffer per image costs a page fault per 4 kB, more than the decode itself in a VM.
const buffers: Buffer[] = [];
const KEEP_BUFFERS = 4,
  KEEP_BUFFER_BYTES = 64 << 20;

function buffer(bytes: number): Buffer {
  const at = buffers.findIndex((b) => b.length >= bytes);
  return at >= 0 ? buffers.splice(at, 1)[0]! : Buffer.allocUnsafeSlow(bytes);
}

function giveBack(b: Buffer): void {
  if (buffers.length < KEEP_BUFFERS && b.length <= KEEP_BUFFER_BYTES) buffers.push(b);
}

/** Whether `bytes` start as a JPEG does (SOI, then a marker). */
export const looksLikeJpeg = (bytes: Buffer): boolean =>
  bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;

/**
 * `use` called on a JPEG's RGB bytes, which are valid only until it returns; or null where sharp should decide (see
 * above). The decode runs on libuv's thread pool, so a batch decodes on every core while the main thread resizes.
 * `reduceFor`: the input size a large JPEG is decoded at a reduced size for (jpegScale, tlr-lanczos3/3); tjDecompress2
 * scales to the largest of its factors that fits the size asked, here exactly 1/k (no factor lies between 1/8, 1/4,
 * 3/8 and 1/2 or 5/8 that would fit too).
 */
export async function decodeJpeg<T>(
  bytes: Buffer,
  maxPixels: number,
  use: (d: Decoded) => T,
  reduceFor?: number,
): Promise<T | null> {
  if (!looksLikeJpeg(bytes)) return null;
  const t = await load();
  if (!t) return null;
  const o = orientation(bytes);
  if (o === null) return null;
  const h = handles.pop() ?? t.init();
  try {
    const w = [0],
      ht = [0],
      sub = [0],
      space = [0];
    if (t.header(h, bytes, bytes.length, w, ht, sub, space) !== 0) return null;
    // TJCS_CMYK (3) and TJCS_YCCK (4) are not RGB's to take: sharp converts them.
    if (space[0]! >= 3 || w[0]! * ht[0]! > maxPixels) return null;
    const k = reduceFor ? jpegScale(w[0]!, ht[0]!, reduceFor) : 1,
      width = Math.ceil(w[0]! / k),
      height = Math.ceil(ht[0]! / k),
      rgb = buffer(width * height * 3);
    try {
      // Non-zero is a warning (a truncated file, say) or an error: sharp's verdict is the one tlr gives.
      if ((await decompress(t, h, bytes, rgb, width, height)) !== 0) return null;
      return use(upright(new Uint8Array(rgb.buffer, rgb.byteOffset, width * height * 3), width, height, o));
    } finally {
      giveBack(rgb);
    }
  } finally {
    if (handles.length < KEEP_HANDLES) handles.push(h);
    else t.destroy(h);
  }
}

/** tjDecompress2 on libuv's thread pool, to RGB with the accurate IDCT; its status (0: decoded cleanly). */
function decompress(t: Turbo, h: unknown, bytes: Buffer, rgb: Buffer, w: number, ht: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    t.decompress.async(h, bytes, bytes.length, rgb, w, 0, ht, TJPF_RGB, TJFLAG_ACCURATEDCT, (e: unknown, r: number) =>
      e ? reject(e) : resolve(r),
    );
  });
}

/**
 * The EXIF orientation (1 to 8) from the first APP1 Exif segment before the image data; 1 without one; null where
 * the segment is there but unreadable or says something else (sharp then decides).
 */
export function orientation(bytes: Buffer): number | null {
  let at = 2;
  while (at + 4 <= bytes.length) {
    // Not a marker where one belongs: a file sharp should judge.
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1]!;
    // Start of scan (or a marker without a length): no EXIF before the pixels.
    if (marker === 0xda || marker === 0xd9 || (marker >= 0xd0 && marker <= 0xd7)) return 1;
    const len = bytes.readUInt16BE(at + 2);
    if (marker === 0xe1 && bytes.toString('latin1', at + 4, at + 10) === 'Exif\0\0') {
      try {
        const o = exifReader(bytes.subarray(at + 4, at + 2 + len)).Image?.Orientation ?? 1;
        return Number.isInteger(o) && o >= 1 && o <= 8 ? o : null;
      } catch {
        return null;
      }
    }
    at += 2 + len;
  }
  return null;
}

/**
 * Where output pixel (X, Y) comes from, per EXIF orientation (EXIF 2.3, tag 0x0112): source pixel index base + X * dx
 * + Y * dy in the stored w x h image. Orientations 5 to 8 swap width and height.
 */
const SOURCE: Record<number, (w: number, h: number) => [base: number, dx: number, dy: number]> = {
  2: (w) => [w - 1, -1, w], // mirrored left to right
  3: (w, h) => [w * h - 1, -1, -w], // turned half a turn
  4: (w, h) => [(h - 1) * w, 1, -w], // mirrored top to bottom
  5: (w) => [0, w, 1], // transposed
  6: (w, h) => [(h - 1) * w, -w, 1], // stored a quarter turn anticlockwise: turned clockwise to view
  7: (w, h) => [(h - 1) * w + w - 1, -w, -1], // transversed
  8: (w) => [w - 1, w, -1], // stored a quarter turn clockwise
};

/** RGB bytes turned upright by EXIF orientation `o` (SOURCE). */
export function upright(rgb: Uint8Array, w: number, h: number, o: number): Decoded {
  const from = SOURCE[o];
  if (!from) return { rgb, width: w, height: h };
  const [base, dx, dy] = from(w, h),
    W = o >= 5 ? h : w,
    H = o >= 5 ? w : h,
    out = new Uint8Array(rgb.length);
  for (let Y = 0, d = 0; Y < H; Y++)
    for (let X = 0, s = (base + Y * dy) * 3; X < W; X++, s += dx * 3, d += 3) {
      out[d] = rgb[s]!;
      out[d + 1] = rgb[s + 1]!;
      out[d + 2] = rgb[s + 2]!;
    }
  return { rgb: out, width: W, height: H };
}
