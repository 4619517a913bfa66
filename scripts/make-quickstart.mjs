// Makes recipes/quickstart/clothes: 80 PNGs for each of 4 Fashion-MNIST classes, taken from the
// test images in ../shared (or $TLR_SHARED). Deterministic: the first 80 of each class.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import sharp from 'sharp';

const shared = process.env.TLR_SHARED ?? new URL('../../shared', import.meta.url).pathname;
const src = path.join(shared, 'datasets/fashion-mnist');
const images = zlib.gunzipSync(fs.readFileSync(path.join(src, 't10k-images-idx3-ubyte.gz')));
const labels = zlib.gunzipSync(fs.readFileSync(path.join(src, 't10k-labels-idx1-ubyte.gz')));
const classes = { 0: 'tshirt', 1: 'trouser', 7: 'sneaker', 8: 'bag' };
const out = new URL('../recipes/quickstart/clothes/', import.meta.url).pathname;
fs.rmSync(out, { recursive: true, force: true });
const taken = {};
for (let i = 0; i < 10000; i++) {
  const name = classes[labels[8 + i]];
  if (!name || (taken[name] ?? 0) >= 80) continue;
  taken[name] = (taken[name] ?? 0) + 1;
  const n = taken[name];
  fs.mkdirSync(path.join(out, name), { recursive: true });
  const px = images.subarray(16 + i * 784, 16 + (i + 1) * 784);
  await sharp(Buffer.from(px), { raw: { width: 28, height: 28, channels: 1 } })
    .png({ compressionLevel: 9 })
    .toFile(path.join(out, name, `${name}-${String(n).padStart(3, '0')}.png`));
}
console.log(taken);
