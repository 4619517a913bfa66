import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PlanWeights } from '../../contracts/plan.js';
import { cacheRoot, COMPLETE, entryFile, locateWeights } from './locate.js';
import { digestFiles, download, type Progress } from './download.js';
import { parseModelJson, shardPaths } from './tfjs-format.js';
import { verifyLock } from './lock.js';
import { WeightsError } from './tensors.js';

// Turns a plan's weights into files on disk: $TLR_WEIGHTS_DIR first, then the cache, then a
// download into the cache. The sha256 of what is used is checked against the lock file.

export interface ResolvedFiles {
  readonly format: 'tfjs' | 'safetensors' | 'tlr';
  /** model.json or the .safetensors file. */
  readonly entry: string;
  readonly sha256: string;
  readonly from: 'weights-dir' | 'cache' | 'download' | 'file';
  readonly lock: 'locked' | 'verified' | null;
}

export interface ResolveOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** The folder whose tlr.lock pins downloaded weights (the recipe's); null: no lock. */
  readonly lockDir?: string | null;
  readonly onProgress?: (p: Progress) => void;
  /** A name for messages ("the ImageNet weights of mobilenet_v2 width 0.35"). */
  readonly what?: string;
}

const filesOf = (entry: string, format: 'tfjs' | 'safetensors' | 'tlr'): string[] => {
  if (format === 'safetensors' || entry.endsWith('.safetensors')) return [entry];
  const json = parseModelJson(fs.readFileSync(entry, 'utf8'), entry);
  return [
    entry,
    ...shardPaths(json).map((p) => {
      const f = path.join(path.dirname(entry), p);
      if (!fs.existsSync(f))
        throw new WeightsError(`${entry} names the weight shard ${p}, which is missing from ${path.dirname(entry)}`);
      return f;
    }),
  ];
};

/** Downloads a model (model.json and its shards, or one .safetensors) into `dir` atomically. */
async function fetchInto(
  url: string,
  format: 'tfjs' | 'safetensors',
  dir: string,
  sha256: string | null,
  env: NodeJS.ProcessEnv,
  onProgress?: (p: Progress) => void,
): Promise<void> {
  const made = fs.mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = fs.mkdtempSync(`${dir}.tmp-${process.pid}-`);
  const allowHttp = env['TLR_ALLOW_HTTP'] === '1';
  try {
    const entry = path.join(tmp, entryFile(format));
    // A model.json is a small file; tlr refuses one that is not.
    const first = await download(url, entry, {
      sha256: format === 'safetensors' ? sha256 : null,
      onProgress,
      allowHttp,
      ...(format === 'tfjs' ? { maxBytes: 32 * 1024 ** 2 } : {}),
    });
    if (format === 'tfjs') {
      // Shard paths were checked to stay inside the model's folder; resolved against its URL, they stay on its host and
      // under its path.
      const json = parseModelJson(fs.readFileSync(entry, 'utf8'), url);
      const folder = new URL('.', url);
      for (const p of shardPaths(json)) {
        const at = new URL(p, url);
        if (at.origin !== folder.origin || !at.pathname.startsWith(folder.pathname))
          throw new WeightsError(`refused the shard ${p} of ${url}: it resolves to ${at.href}, outside ${folder.href}`);
        await download(at.href, path.join(tmp, p), { onProgress, allowHttp });
      }
      if (sha256) {
        const d = digestFiles(filesOf(entry, 'tfjs'));
        if (d !== sha256) throw new WeightsError(`${url} and its shards have sha256 ${d}, but ${sha256} was expected`);
      }
    }
    fs.writeFileSync(path.join(tmp, COMPLETE), first);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.renameSync(tmp, dir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (made) removeEmptyFolders(path.dirname(dir), made);
    throw e;
  }
}

/** Removes `from` and its parents up to `top` while they are empty: what a failed download made. */
function removeEmptyFolders(from: string, top: string): void {
  for (let d = from; d.length >= top.length; d = path.dirname(d)) {
    try {
      fs.rmdirSync(d); // fails on a folder with something in it: then the rest stays too
    } catch {
      return;
    }
  }
}

/** Why a download failed, and the two ways to do without one. */
function downloadFailed(
  w: Extract<PlanWeights, { kind: 'imagenet' | 'url' }>,
  dir: string,
  e: unknown,
  opts: ResolveOptions,
  env: NodeJS.ProcessEnv,
): WeightsError {
  const what = opts.what ?? 'the weights';
  const hints =
    w.kind === 'imagenet'
      ? [
          `tlr needs ${w.url}${w.format === 'tfjs' ? ' and the weight shards beside it' : ''}`,
          `either connect to the network (they are downloaded once, into ${dir}),`,
          `or put a copy at $TLR_WEIGHTS_DIR/${w.localName}/${entryFile(w.format)} and set ` +
            `TLR_WEIGHTS_DIR${
              env['TLR_WEIGHTS_DIR'] ? ` (now ${env['TLR_WEIGHTS_DIR']}, which ` + `has no ${w.localName})` : ''
            }`,
        ]
      : [`check the URL, or download the file yourself and give its path in the recipe`];
  return new WeightsError(`cannot get ${what}: ${(e as Error).message}`, hints);
}

/** The plan's weights as files on disk (downloaded when they are not there), checked against tlr.lock. */
export async function resolveWeights(w: PlanWeights, opts: ResolveOptions = {}): Promise<ResolvedFiles | null> {
  const env = opts.env ?? process.env;
  const lock = (key: string, sha: string, format: string) =>
    opts.lockDir ? verifyLock(opts.lockDir, key, sha, format) : null;
  const at = locateWeights(w, env);
  switch (at.where) {
    case 'none':
      return null;
    case 'missing':
      throw new WeightsError(`weights file ${at.path} does not exist`);
    case 'file': {
      const format = (w as Extract<PlanWeights, { kind: 'file' }>).format;
      return { format, entry: at.path, sha256: digestFiles(filesOf(at.path, format)), from: 'file', lock: null };
    }
    case 'weights-dir': {
      const format = at.path.endsWith('.json') ? 'tfjs' : 'safetensors';
      const sha = digestFiles(filesOf(at.path, format));
      return {
        format,
        entry: at.path,
        sha256: sha,
        from: 'weights-dir',
        lock: lock((w as { url: string }).url, sha, format),
      };
    }
    case 'cache':
    case 'download': {
      const remote = w as Extract<PlanWeights, { kind: 'imagenet' | 'url' }>;
      let entry = at.where === 'cache' ? at.path : '';
      if (at.where === 'download') {
        entry = path.join(at.into, entryFile(remote.format));
        try {
          await fetchInto(
            remote.url,
            remote.format,
            at.into,
            remote.kind === 'imagenet' ? remote.sha256 : null,
            env,
            opts.onProgress,
          );
        } catch (e) {
          throw downloadFailed(remote, at.into, e, opts, env);
        }
      }
      const sha = digestFiles(filesOf(entry, remote.format));
      return { format: remote.format, entry, sha256: sha, from: at.where, lock: lock(remote.url, sha, remote.format) };
    }
  }
}

export { cacheRoot };
