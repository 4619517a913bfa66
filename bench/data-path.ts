// The data path per core: decode + resize of 320x240 JPEGs (or WxH ones) to 224 px, one thread each,
// in the same run, 3 repetitions (min / median / max of images per second):
//   - Pillow, decode + LANCZOS (the baseline: PyTorch's usual loader does this);
//   - the torch engine's decode (Pillow's decode, tlr-lanczos3/3 as two embedding_bag passes; a JPEG
//     at least twice 224 px each way decoded at 1/2, 1/4 or 1/8 by libjpeg's DCT scaling, Pillow's draft);
//   - the tfjs engine's decodeRgb (libturbojpeg through koffi, one image at a time on libuv's pool,
//     and resize.ts's passes in WebAssembly SIMD; sharp where libturbojpeg is absent);
//   - the decoded-image cache (pixel-cache.ts and its twin pixels.py), reading pixels back.
// Ratios are against Pillow's median. Goals: each engine's decode + resize >= 1.0x Pillow; cached
// pixels >= 5,000 images/s per core.
//   npx tsx bench/data-path.ts [images] [WxH]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import { decodeRgb } from '../src/runtime/images/image.js';
import { PixelCache } from '../src/runtime/images/pixel-cache.js';
import { RESIZER } from '../src/runtime/images/resize.js';
import { fileDigests } from '../src/runtime/images/file-digests.js';
import { turboJpegLoaded } from '../src/runtime/images/jpeg.js';
import { ENGINE_DIR, KEEP_MALLOC } from '../src/engines/torch/python.js';
import { data } from './split-common.js';

const N = Number(process.argv[2] ?? 400),
  [W, H] = (process.argv[3] ?? '320x240').split('x').map(Number) as [number, number],
  SIZE = 224,
  REPS = 3;

const PY = `
import glob, json, os, sys, time
import torch
from PIL import Image
from tlr_torch.data import Item, decode
from tlr_torch.pixels import PixelCache
from tlr_torch.resize import RESIZER
torch.set_num_threads(1)
files = sorted(glob.glob(os.path.join(sys.argv[1], '*', '*.jpg')))
def rate(fn):
    t = time.perf_counter()
    for f in files:
        fn(f)
    return len(files) / (time.perf_counter() - t)
def pillow(f):
    with Image.open(f) as im:
        im.convert('RGB').resize((${SIZE}, ${SIZE}), Image.LANCZOS).tobytes()
cache = PixelCache(RESIZER, ${SIZE})
def cached(f):
    with open(f, 'rb') as fh:
        key = cache.key(fh.read())
    cache.get(key)
for f in files:
    decode(Item(f, 0), ${SIZE}, cache)  # fill the cache
print(json.dumps({
    'pillow': rate(pillow),
    'torch': rate(lambda f: decode(Item(f, 0), ${SIZE})),
    'torchCache': rate(cached),
}))
`;

/** One repetition on the Python side, in a fresh process (its own cache folder). */
function python(dir: string, cache: string): Record<string, number> {
  const r = spawnSync('/usr/bin/python3', ['-c', PY, path.join(dir, 'data')], {
    encoding: 'utf8',
    env: { ...process.env, ...KEEP_MALLOC, PYTHONPATH: ENGINE_DIR, TLR_CACHE: cache, OMP_NUM_THREADS: '1' },
  });
  if (r.status) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

/** The tfjs engine's decode (one image at a time), and its cache read back, over `files`. */
async function node(files: string[], cache: string): Promise<Record<string, number>> {
  sharp.concurrency(1);
  let t = performance.now();
  for (const f of files) await decodeRgb(f, SIZE);
  const tfjs = files.length / ((performance.now() - t) / 1000);
  const c = PixelCache.open(RESIZER, SIZE, { ...process.env, TLR_CACHE: cache })!;
  const keys = files.map((f) => PixelCache.key(fs.readFileSync(f)));
  for (const [i, k] of keys.entries()) if (!c.get(k)) c.put(k, await decodeRgb(files[i]!, SIZE));
  // As the tfjs engine's loader reads them: digests from the stat index (the first call hashes, as a first pass would).
  fileDigests(files);
  t = performance.now();
  for (const d of fileDigests(files)) c.get(d);
  return { tfjs, tfjsCache: files.length / ((performance.now() - t) / 1000) };
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};

const dir = await data(N, W, H);
const files = fs
  .readdirSync(path.join(dir, 'data'))
  .flatMap((c) => fs.readdirSync(path.join(dir, 'data', c)).map((f) => path.join(dir, 'data', c, f)))
  .sort();
const runs: Record<string, number>[] = [];
for (let r = 0; r < REPS; r++) {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-bench-pixels-'));
  try {
    runs.push({ ...python(dir, cache), ...(await node(files, cache)) });
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
}
const pillow = stats(runs.map((r) => r['pillow']!)).median;
const fmt = (v: number) => v.toFixed(0).padStart(6);
console.log(`${files.length} JPEGs, ${W}x${H} -> ${SIZE} px, one thread each, ${REPS} repetitions (images/s)`);
const decoder = (await turboJpegLoaded()) ? 'libturbojpeg' : 'sharp (no libturbojpeg here)';
console.log(`the tfjs engine decodes JPEGs with ${decoder}`);
console.log('path                                    min     median     max     vs Pillow (median)');
for (const [key, label] of [
  ['pillow', 'Pillow decode + LANCZOS (baseline)'],
  ['torch', 'torch engine decode + resize'],
  ['tfjs', 'tfjs engine decodeRgb'],
  ['torchCache', 'torch engine, cached pixels'],
  ['tfjsCache', 'tfjs engine, cached pixels'],
] as const) {
  const s = stats(runs.map((r) => r[key]!));
  console.log(
    `${label.padEnd(38)} ${fmt(s.min)} ${fmt(s.median)}   ${fmt(s.max)}     ${(s.median / pillow).toFixed(2)}x`,
  );
}
