import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { writeFileAtomic } from '../../files/atomic.js';
import { IMAGE_EXTENSIONS } from '../../data/layout.js';
import {
  SHARD_NAME,
  SHARDS_FORMAT,
  SHARDS_INDEX,
  SHARDS_VERSION,
  type ShardIndex,
  type ShardMember,
} from '../../data/formats/shards.js';
import { DataError } from '../../data/formats/types.js';
import { readClassNames } from '../../data/formats/idx.js';

// Writing tar shards (`tlr pack`) and indexing them (the byte range and class of every image), with
// tar-stream. Shards are written in the data set's own listing order, so `on ./shards` splits as
// `on ./data` does; and byte for byte the same from the same images (fixed times and owners).

/** An image to pack: its file and class index. */
export interface PackItem {
  readonly path: string;
  readonly label: number;
}

/** A WebDataset key: the number (unique, in order) and the file's name with dots made safe. */
const keyOf = (i: number, file: string): string => {
  const stem = path
    .basename(file, path.extname(file))
    .replace(/[^A-Za-z0-9_-]/g, '_')
    .slice(0, 60);
  return `${String(i).padStart(9, '0')}_${stem}`;
};

const FIXED = { mtime: new Date(0), mode: 0o644, uid: 0, gid: 0, uname: '', gname: '' };

/** Writes one shard: each image as KEY.EXT and its class index as KEY.cls. */
async function writeShard(file: string, items: readonly PackItem[], first: number): Promise<void> {
  const pack = tar.pack();
  const written = pipeline(pack, fs.createWriteStream(file, { flags: 'wx', mode: 0o644 }));
  const add = (name: string, data: Buffer) =>
    new Promise<void>((resolve, reject) => {
      pack.entry({ ...FIXED, name, size: data.length }, data, (e) => (e ? reject(e) : resolve()));
    });
  for (const [j, it] of items.entries()) {
    const key = keyOf(first + j, it.path);
    let data: Buffer;
    try {
      data = await fs.promises.readFile(it.path);
    } catch (e) {
      throw new DataError(`${it.path} cannot be read (${(e as NodeJS.ErrnoException).code}); nothing was packed`);
    }
    await add(`${key}${path.extname(it.path).toLowerCase()}`, data);
    await add(`${key}.cls`, Buffer.from(String(it.label)));
  }
  pack.finalize();
  await written;
}

/** Writes `items` into `dir` as shards of `shardSize` images, then its class list and index. */
export async function writeShards(
  dir: string,
  items: readonly PackItem[],
  classes: readonly string[],
  shardSize: number,
): Promise<ShardIndex> {
  for (let s = 0; s * shardSize < items.length; s++)
    await writeShard(
      path.join(dir, `${String(s).padStart(6, '0')}.tar`),
      items.slice(s * shardSize, (s + 1) * shardSize),
      s * shardSize,
    );
  writeFileAtomic(path.join(dir, 'classes.txt'), `${classes.join('\n')}\n`);
  const index = await indexShards(dir, classes);
  writeFileAtomic(path.join(dir, SHARDS_INDEX), JSON.stringify(index));
  return index;
}

/** A member's key and extension as WebDataset splits them: at the first dot of the base name. */
function splitName(name: string): { key: string; ext: string } | null {
  const slash = name.lastIndexOf('/');
  const dot = name.indexOf('.', slash + 1);
  return dot > slash + 1 ? { key: name.slice(0, dot), ext: name.slice(dot + 1) } : null;
}

interface Sample {
  image?: { ext: string; offset: number; size: number; name: string };
  cls?: { text: string; name: string };
}

const IMAGE_EXTS = new Set(IMAGE_EXTENSIONS.map((e) => e.slice(1)));

/** Every member of a shard, read through once: images' byte ranges, labels' text. */
async function readSamples(file: string): Promise<Map<string, Sample>> {
  const samples = new Map<string, Sample>();
  const extract = tar.extract();
  let last = 'none',
    duplicate: string | null = null;
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    const parts = header.type === 'file' ? splitName(header.name) : null;
    const keep = parts?.ext === 'cls';
    stream.on('data', (c: unknown) => {
      if (keep) chunks.push(c as Buffer);
    });
    stream.on('end', () => {
      last = header.name;
      if (parts) {
        const s = samples.get(parts.key) ?? {};
        samples.set(parts.key, s);
        // tar-stream sets byteOffset: where the member's data starts in the file.
        const offset = (header as { byteOffset?: number }).byteOffset;
        const image = IMAGE_EXTS.has(parts.ext.toLowerCase()) && typeof offset === 'number';
        // A key twice (two KEY.jpg, or KEY.jpg and KEY.png) would silently keep one image of the two.
        const twice = keep ? s.cls : image ? s.image : undefined;
        if (twice) duplicate ??= `${twice.name} and ${header.name}`;
        if (keep) s.cls = { text: Buffer.concat(chunks).toString('utf8').trim(), name: header.name };
        else if (image) s.image = { ext: parts.ext, offset: offset!, size: header.size ?? 0, name: header.name };
      }
      next();
    });
  });
  try {
    await pipeline(fs.createReadStream(file), extract);
  } catch (e) {
    throw new DataError(
      `${file} is truncated or not a tar file (${(e as Error).message}; the last whole member is ${last}): ` +
        'pack the data again, or copy the shard again',
    );
  }
  if (duplicate)
    throw new DataError(
      `${file}: two members share one key (${duplicate}): one image would be dropped; give each image its own key`,
    );
  return samples;
}

/** The members of one shard as the index holds them; a DataError names the shard and the member. */
function members(file: string, samples: Map<string, Sample>, classes: number): ShardMember[] {
  const out: ShardMember[] = [];
  for (const [key, s] of samples) {
    if (s.image && !s.cls)
      throw new DataError(`${file}: member ${s.image.name} has no label (no ${key}.cls beside it)`);
    if (s.cls && !s.image)
      throw new DataError(`${file}: member ${s.cls.name} labels no image (no ${key}.jpg or ${key}.png beside it)`);
    if (!s.image || !s.cls) continue;
    const label = /^\d+$/.test(s.cls.text) ? Number(s.cls.text) : Number.NaN;
    if (!(label < classes))
      throw new DataError(
        `${file}: member ${s.cls.name} says class "${s.cls.text.slice(0, 40)}", ` +
          (Number.isFinite(classes)
            ? `but there are ${classes} classes (0 to ${classes - 1}, in classes.txt)`
            : 'which is not a class index (a whole number from 0)'),
      );
    out.push([key, s.image.ext, s.image.offset, s.image.size, label]);
  }
  return out;
}

/** Reads every shard in `dir` (streaming) and returns its index; class names from `classes` or classes.txt. */
export async function indexShards(dir: string, classes?: readonly string[]): Promise<ShardIndex> {
  const files = fs
    .readdirSync(dir)
    .filter((n) => SHARD_NAME.test(n))
    .sort();
  // Read only regular files in the folder: a named pipe would block the read forever, and a link could lead out of
  // the folder (a pull request's shards folder linking to a file elsewhere).
  for (const f of files) {
    const st = fs.lstatSync(path.join(dir, f));
    if (st.isSymbolicLink())
      throw new DataError(`${path.join(dir, f)} is a symbolic link; shards are read only as files inside ${dir}`);
    if (!st.isFile())
      throw new DataError(`${path.join(dir, f)} is not a regular file (a named pipe, socket or device)`);
  }
  if (!files.length) throw new DataError(`${dir} holds no shards (files named NNNNNN.tar, such as 000000.tar)`);
  const names = classes ?? readClassNames(dir);
  const shards = [];
  let most = -1;
  for (const f of files) {
    const file = path.join(dir, f);
    const ms = members(file, await readSamples(file), names?.length ?? Number.POSITIVE_INFINITY);
    for (const m of ms) most = Math.max(most, m[4]);
    shards.push({ file: f, bytes: fs.statSync(file).size, members: ms });
  }
  const named = names ?? Array.from({ length: most + 1 }, (_, i) => String(i));
  return { format: SHARDS_FORMAT, version: SHARDS_VERSION, classes: [...named], shards };
}
