// Writes the small data sets under test/fixtures/data that golden tests and examples use.
// Deterministic: running it again gives the same bytes. Images are real (tiny) PNGs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

const root = new URL('../test/fixtures/data/', import.meta.url).pathname;

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
};
/** An 8x8 RGB PNG whose colour depends on (r, g, b). */
export function png(r, g, b, size = 8) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const rows = [];
  for (let y = 0; y < size; y++) {
    rows.push(0);
    for (let x = 0; x < size; x++) rows.push((r + x * 7) & 255, (g + y * 5) & 255, b);
  }
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.from(rows), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const write = (rel, data) => {
  const f = path.join(root, rel);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, data);
};
const classes = (dir, counts) =>
  Object.entries(counts).forEach(([name, n], ci) => {
    for (let i = 0; i < n; i++) write(`${dir}/${name}/${name}-${i}.png`, png(40 * ci, 30 * i, 200 - 40 * ci));
  });

fs.rmSync(root, { recursive: true, force: true });
classes('strawberries', { diseased: 6, healthy: 9 });
classes('flowers', { daisy: 10, rose: 7, tulip: 5 });
classes('flowers-val', { daisy: 3, rose: 2, tulip: 2 });
classes('flowers-test', { daisy: 2, rose: 2, tulip: 2 });
classes('flowers-wrong', { daisy: 2, rose: 2, lily: 2 });
classes('split/train', { cat: 8, dog: 6 });
classes('split/val', { cat: 2, dog: 2 });
classes('split/test', { cat: 3, dog: 3 });
classes('one-class', { only: 4 });
classes('empty-class', { full: 3 });
write('empty-class/empty/.keep', '');
write('my images/a/a.png', png(1, 2, 3));
write('my images/b/b.png', png(3, 2, 1));
// A labels CSV beside its images.
classes('csv-images', { x: 3, y: 2 });
write(
  'labels.csv',
  [
    'path,label',
    'csv-images/x/x-0.png,x',
    'csv-images/x/x-1.png,x',
    'csv-images/x/x-2.png,x',
    'csv-images/y/y-0.png,y',
    'csv-images/y/y-1.png,y',
    '',
  ].join('\n'),
);
// MNIST-style IDX: 4x4 images, 3 classes, gzipped like the originals, with class names.
const idx = (n, seed) => {
  const labels = Buffer.alloc(8 + n);
  labels.writeUInt32BE(0x801, 0);
  labels.writeUInt32BE(n, 4);
  const images = Buffer.alloc(16 + n * 16);
  images.writeUInt32BE(0x803, 0);
  images.writeUInt32BE(n, 4);
  images.writeUInt32BE(4, 8);
  images.writeUInt32BE(4, 12);
  for (let i = 0; i < n; i++) {
    labels[8 + i] = (i * 7 + seed) % 3;
    for (let p = 0; p < 16; p++) images[16 + i * 16 + p] = (labels[8 + i] * 80 + p * 9) & 255;
  }
  return { labels, images };
};
const tr = idx(30, 1),
  te = idx(9, 2);
write('idx/train-labels-idx1-ubyte.gz', zlib.gzipSync(tr.labels, { level: 9 }));
write('idx/train-images-idx3-ubyte.gz', zlib.gzipSync(tr.images, { level: 9 }));
write('idx/t10k-labels-idx1-ubyte', te.labels);
write('idx/t10k-images-idx3-ubyte', te.images);
write('idx/classes.txt', 'circle\nsquare\ntriangle\n');
console.log(`wrote ${root}`);
