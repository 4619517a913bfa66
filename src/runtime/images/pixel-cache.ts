import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { cacheRoot } from '../../files/cache-root.js';
import { decodeImage, decodeRgb, readImageFile, SHARP_MAX_PIXELS } from './image.js';
import { RESIZER } from './resize.js';

// Decoded images at a plan's input size, so epochs after the first read pixels rather than decode
// JPEGs again: one file per image in TLR_CACHE/pixels/RESIZER/SIZE/ab/SHA256.px, keyed by the
// sha256 of the encoded file's bytes, the size and the resizer (python/tlr_torch/pixels.py
// is the twin: the two engines share the entries). A file is "TLRPX1\0\0", the size and the CRC-32
// of the pixels (little-endian uint32 each), then size * size * 3 bytes of RGB; one that fails its
// check is removed and decoded again. Written atomically (a temporary name, then rename), so a
// reader never sees half a file. Bounded by TLR_PIXEL_CACHE_MB (default 4096): when a process
// first opens the cache it removes the oldest entries past 90% of the bound, and it stops writing
// at the bound (the newest images are then decoded every epoch, which is never slower than no
// cache). TLR_PIXEL_CACHE=0 turns it off. Augmentation is applied after it, in both engines.

const MAGIC = Buffer.from('TLRPX1\0\0', 'latin1');
const HEADER = MAGIC.length + 8;
const DEFAULT_MB = 4096;

/** The cache's bound in bytes, or 0 when it is off. */
export function pixelCacheBytes(env: NodeJS.ProcessEnv = process.env): number {
  if (env['TLR_PIXEL_CACHE'] === '0') return 0;
  const mb = Number(env['TLR_PIXEL_CACHE_MB'] ?? DEFAULT_MB);
  return Number.isFinite(mb) && mb > 0 ? mb * 2 ** 20 : 0;
}

/** Every entry under `root`, with its size and modification time. */
function entries(root: string): { file: string; size: number; mtime: number }[] {
  const out: { file: string; size: number; mtime: number }[] = [];
  const walk = (dir: string) => {
    let names: fs.Dirent[];
    try {
      names = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of names) {
      const p = path.join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (d.isFile() && d.name.endsWith('.px')) {
        const st = fs.statSync(p, { throwIfNoEntry: false });
        if (st) out.push({ file: p, size: st.size, mtime: st.mtimeMs });
      }
    }
  };
  walk(root);
  return out;
}

/** Bytes in use under each cache root, as this process counts them (scanned and trimmed once). */
const used = new Map<string, number>();

function trimmed(root: string, bound: number): number {
  const known = used.get(root);
  if (known !== undefined) return known;
  const all = entries(root).sort((a, b) => a.mtime - b.mtime);
  let total = all.reduce((t, e) => t + e.size, 0);
  for (const e of all) {
    if (total <= bound * 0.9) break;
    fs.rmSync(e.file, { force: true });
    total -= e.size;
  }
  used.set(root, total);
  return total;
}

export class PixelCache {
  private constructor(
    private readonly root: string,
    private readonly dir: string,
    private readonly size: number,
    private readonly bound: number,
  ) {}

  /** The cache for images resized by `resizer` to `size`; null when TLR_PIXEL_CACHE=0 or its bound is 0. */
  static open(resizer: string, size: number, env: NodeJS.ProcessEnv = process.env): PixelCache | null {
    const bound = pixelCacheBytes(env);
    if (!bound) return null;
    const root = path.join(cacheRoot(env), 'pixels');
    trimmed(root, bound);
    return new PixelCache(root, path.join(root, resizer.replace(/[^\w.-]/g, '_'), String(size)), size, bound);
  }

  /** The key of an encoded image: the sha256 of its bytes. */
  static key(encoded: Uint8Array): string {
    return createHash('sha256').update(encoded).digest('hex');
  }

  private file(key: string): string {
    return path.join(this.dir, key.slice(0, 2), `${key}.px`);
  }

  /** The pixels stored under `key`, or null (absent, or damaged: then removed). */
  get(key: string): Uint8Array | null {
    let raw: Buffer;
    try {
      raw = fs.readFileSync(this.file(key));
    } catch {
      return null;
    }
    const n = this.size * this.size * 3;
    const ok =
      raw.length === HEADER + n &&
      raw.subarray(0, MAGIC.length).equals(MAGIC) &&
      raw.readUInt32LE(MAGIC.length) === this.size &&
      raw.readUInt32LE(MAGIC.length + 4) === crc32(raw.subarray(HEADER));
    if (!ok) {
      fs.rmSync(this.file(key), { force: true });
      return null;
    }
    return new Uint8Array(raw.buffer, raw.byteOffset + HEADER, n);
  }

  /** Stores `rgb` under `key`, unless the cache is at its bound; a failed write (a full disk) only skips the entry. */
  put(key: string, rgb: Uint8Array): void {
    const total = used.get(this.root) ?? 0,
      bytes = HEADER + rgb.length;
    if (total + bytes > this.bound) return;
    const head = Buffer.alloc(HEADER);
    MAGIC.copy(head);
    head.writeUInt32LE(this.size, MAGIC.length);
    head.writeUInt32LE(crc32(rgb), MAGIC.length + 4);
    const file = this.file(key),
      tmp = `${file}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(tmp, Buffer.concat([head, rgb]));
      fs.renameSync(tmp, file);
      used.set(this.root, total + bytes);
    } catch {
      fs.rmSync(tmp, { force: true });
    }
  }
}

/**
 * An image decoded to RGB bytes at `size` through `cache`: read from it when there, else decoded (decodeRgb) and
 * stored. A path is read as decodeRgb reads one (readImageFile), which names a file it cannot use without reading it.
 * `known`: the file's sha256 from tlr's stat index (file-digests.ts), which spares reading and hashing it on a hit; a
 * miss keys what it decodes by the bytes it read.
 */
export async function decodeCached(
  cache: PixelCache | null,
  input: string | Buffer,
  size: number,
  name: string,
  known?: string,
  resizer = RESIZER,
): Promise<Uint8Array> {
  if (!cache) return decodeRgb(input, size, name, SHARP_MAX_PIXELS, resizer);
  const early = known && /^[0-9a-f]{64}$/.test(known) ? cache.get(known) : null;
  if (early) return early;
  const bytes = typeof input === 'string' ? readImageFile(input, name) : input;
  const key = PixelCache.key(bytes);
  const hit = cache.get(key);
  if (hit) return hit;
  const { rgb, exact } = await decodeImage(bytes, size, name, SHARP_MAX_PIXELS, resizer);
  // Pixels near the definition's but not its (a large JPEG without libturbojpeg) are not shared with the other engine.
  if (exact) cache.put(key, rgb);
  return rgb;
}
