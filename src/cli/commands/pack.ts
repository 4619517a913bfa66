import * as fs from 'node:fs';
import * as path from 'node:path';
import { listEntries, probeData, SHARDS_INDEX, type ShardIndex } from '../../data/formats/index.js';
import { indexShards, writeShards, type PackItem } from '../../runtime/images/pack.js';
import { outputFileProblem, outputFolderProblem } from '../../data/model-folder.js';
import { replaceDirAtomic, writeFileAtomic } from '../../files/atomic.js';
import { writeMarker } from '../../files/owned.js';
import { UsageError, type Output } from '../io.js';

const positiveInt = (v: string | undefined, name: string, fallback: number): number => {
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`${name} must be a whole number from 1, not ${v}`);
  return Number(v);
};

const summary = (ix: ShardIndex, dir: string): string => {
  const images = ix.shards.reduce((n, s) => n + s.members.length, 0);
  const mb = ix.shards.reduce((n, s) => n + s.bytes, 0) / 1e6;
  return (
    `${dir}: ${images} images of ${ix.classes.length} classes in ${ix.shards.length} ` +
    `shard${ix.shards.length === 1 ? '' : 's'} (${mb.toFixed(1)} MB); train … on ${dir}`
  );
};

/** The images of a folder of class folders, or a UsageError saying what `tlr pack` takes. */
function packItems(data: string): { items: PackItem[]; classes: string[]; skipped: string[] } {
  const probe = probeData(data);
  if (!probe.ok) throw new UsageError(`${data}: ${probe.message}${probe.hints.map((h) => `; ${h}`).join('')}`);
  const { format, splits } = probe.info;
  if (format !== 'folders')
    throw new UsageError(
      format === 'split-folders'
        ? `${data} has train/val/test folders: pack each one (tlr pack ${path.join(data, 'train')} --out …/train)`
        : `${data} is ${format === 'shards' ? 'already shards' : `in the ${format} format`}; tlr pack takes a ` +
            `folder of class folders`,
    );
  const classes = splits.train!.map((c) => c.name);
  const items: PackItem[] = [],
    skipped: string[] = [];
  for (const e of listEntries({ path: data, format, part: 'train' }, classes)) {
    if (e.kind !== 'file') continue;
    if (e.problem) skipped.push(e.problem);
    else items.push({ path: e.path, label: e.label });
  }
  if (!items.length) throw new UsageError(`${data} has no images to pack`);
  return { items, classes, skipped };
}

/**
 * The marker of a folder `tlr pack` wrote, listing its files. Not the index: `tlr pack --index` writes one into
 * shards made elsewhere, and that must never make the user's folder tlr's to replace.
 */
const PACK_MARKER = '.tlr-pack';

/** Whether `file` is an index tlr wrote (its own to replace). */
const ownIndex = (file: string): boolean => {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')).format === 'tlr-shards';
  } catch {
    return false;
  }
};

async function reindex(dir: string, force: boolean, io: Output): Promise<number> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a folder`);
  const file = path.join(dir, SHARDS_INDEX);
  const problem = outputFileProblem(file, { data: [], replace: force || ownIndex(file) });
  if (problem) throw new UsageError(`cannot write ${file}: ${problem}`);
  const ix = await indexShards(dir);
  writeFileAtomic(file, JSON.stringify(ix));
  io.out(summary(ix, dir));
  return 0;
}

/** `tlr pack`: a folder of class folders as tar shards, or (--index) an index of shards made elsewhere. */
export async function packCommand(
  args: readonly string[],
  flags: { out?: string; shardSize?: string; force: boolean; index?: string },
  io: Output,
): Promise<number> {
  if (flags.index) {
    if (args.length || flags.out) throw new UsageError('--index takes only the shards folder');
    return reindex(flags.index, flags.force, io);
  }
  if (args.length !== 1) throw new UsageError('tlr pack needs one data folder (tlr pack DATA --out SHARDS)');
  if (!flags.out) throw new UsageError('tlr pack needs --out: the folder to write the shards in');
  const data = args[0]!,
    out = flags.out;
  const shardSize = positiveInt(flags.shardSize, '--shard-size', 1000);
  const problem = outputFolderProblem(out, { data: [data], marker: PACK_MARKER });
  if (problem) throw new UsageError(`cannot write the shards to ${out}: ${problem}`);
  if (fs.existsSync(path.join(out, SHARDS_INDEX)) && !flags.force)
    throw new UsageError(`${out} holds shards already; add --force to replace them`);
  const { items, classes, skipped } = packItems(data);
  for (const s of skipped) io.err(`warning: ${s}; not packed`);
  let ix: ShardIndex | null = null;
  await replaceDirAtomic(
    out,
    async (tmp) => {
      ix = await writeShards(tmp, items, classes, shardSize);
      writeMarker(tmp, PACK_MARKER, { format: 'tlr-pack', note: 'written by tlr pack; --force removes only these' });
    },
    PACK_MARKER,
  );
  io.out(summary(ix!, out));
  return 0;
}
