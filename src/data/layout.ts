import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENTRY, entryType, folderStamp, listFolder, unchangedSince, type FolderStamp } from './listing-cache.js';

// What counts as an image, and walking folders of them; shared by the data formats. Only regular
// files are ever opened: a FIFO, socket or device named *.png is listed as a problem (the run
// skips it with a warning), never read. Symbolic links are followed while they stay inside the
// data folder; a dangling link, a loop or a link out of the data folder is a problem too.

export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.bmp', '.tif', '.tiff'];

/** Whether a file name has an image extension tlr decodes. */
export const isImageFile = (name: string): boolean => {
  const dot = name.lastIndexOf('.');
  return dot > 0 && IMAGE_EXTENSIONS.includes(name.slice(dot).toLowerCase());
};

/** What is at `p`, following links: a folder, something else, or nothing. */
export const fileKind = (p: string): 'file' | 'dir' | null => {
  try {
    return fs.statSync(p).isDirectory() ? 'dir' : 'file';
  } catch {
    return null;
  }
};

export type SplitName = 'train' | 'validation' | 'test';

/** An image file found, or an entry named like one that will not be opened, with the reason. */
export interface Found {
  readonly path: string;
  readonly problem?: string;
}

/** Whether `child` is `parent` or below it (both absolute, links resolved by the caller). */
export const inside = (child: string, parent: string): boolean => {
  const r = path.relative(parent, child);
  return r === '' || (!r.startsWith('..') && !path.isAbsolute(r));
};

const KIND_OF = { [ENTRY.file]: 'file', [ENTRY.dir]: 'dir', [ENTRY.other]: 'other' } as const;

/** What a directory entry (its type from readdir) is once links are followed (inside `root` only), or the problem. */
function resolve(
  p: string,
  type: number,
  root: string,
): { kind: 'file' | 'dir' | 'other'; real: string } | { problem: string } {
  if (type !== ENTRY.link) return { kind: KIND_OF[type as keyof typeof KIND_OF] ?? 'other', real: p };
  let real: string;
  try {
    real = fs.realpathSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      problem:
        code === 'ELOOP'
          ? 'a symbolic link that loops'
          : code === 'ENOENT'
            ? 'a symbolic link to nothing (dangling)'
            : `a symbolic link that cannot be followed (${code})`,
    };
  }
  if (!inside(real, root))
    return { problem: `a symbolic link out of the data folder (to ${real}); tlr does not follow links out of it` };
  const st = fs.statSync(real);
  return { kind: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other', real };
}

const ROOT_REAL = new Map<string, string>();
const realRoot = (root: string) => {
  let r = ROOT_REAL.get(root);
  if (!r) {
    try {
      r = fs.realpathSync(root);
    } catch {
      r = root;
    }
    ROOT_REAL.set(root, r);
  }
  return r;
};

/** `path.join` for a normalized folder and a name readdir gave (a million joins cost a second of normalizing). */
const joinName = (dir: string, name: string) =>
  dir === '.' ? name : dir.endsWith(path.sep) ? dir + name : dir + path.sep + name;

// Walks done in this process: `tlr run` lists its data to check the recipe and again to split it, and at a million
// images each walk takes seconds. A walk is reused only while every folder it read is unchanged and was already 2 s
// old when it was read; a walk that followed a symbolic link is done again (a link's target can change unseen).
interface Walked {
  readonly stamps: { readonly dir: string; readonly stamp: FolderStamp }[];
  /** Whether it followed a symbolic link: links are resolved anew on every walk, so such a walk is never reused. */
  links: boolean;
}
const walks = new Map<string, Walked & { readonly found: readonly Found[]; readonly at: number }>();

const stillValid = (w: Walked & { at: number }) =>
  !w.links && w.stamps.every(({ dir, stamp }) => unchangedSince(stamp, folderStamp(dir), w.at));

/** Forgets this process's walks (the next walk of a folder reads its kept listing, as a new process would). */
export const forgetWalks = (): void => walks.clear();

/** Image files below `dir` (and problems named like images), in a stable order; hidden entries left out. */
export function walkImages(dir: string, root = dir): readonly Found[] {
  const key = `${root}\0${dir}`;
  const done = walks.get(key);
  if (done && stillValid(done)) return done.found;
  const at = Date.now();
  const walked: Walked = { stamps: [], links: false };
  const found = walk(path.normalize(dir), root, new Set(), walked);
  walks.set(key, { ...walked, found, at });
  return found;
}

function walk(dir: string, root: string, seen: Set<string>, walked: Walked): Found[] {
  const out: Found[] = [];
  const real = realRoot(root);
  let here: string;
  try {
    here = fs.realpathSync(dir);
  } catch {
    return out;
  }
  if (seen.has(here)) return out;
  seen.add(here);
  const stamp = folderStamp(dir);
  if (!stamp) return out;
  walked.stamps.push({ dir, stamp });
  const { names, types } = listFolder(dir, stamp);
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!,
      type = types[i]!;
    if (name.startsWith('.')) continue;
    const p = joinName(dir, name);
    // A plain file, the usual entry, without resolve()'s object: a million entries.
    if (type === ENTRY.file) {
      if (isImageFile(name)) out.push({ path: p });
      continue;
    }
    if (type === ENTRY.link) walked.links = true;
    const r = resolve(p, type, real);
    if ('problem' in r) {
      if (isImageFile(name)) out.push({ path: p, problem: `${p} is ${r.problem}` });
      continue;
    }
    if (r.kind === 'dir')
      for (const x of walk(p, root, seen, walked)) out.push(x); // not push(...): 1M arguments overflow
    else if (isImageFile(name))
      out.push(
        r.kind === 'file'
          ? { path: p }
          : { path: p, problem: `${p} is not a regular file (a FIFO, socket or device); it is never opened` },
      );
  }
  return out;
}

/** Visible subfolders of `dir` (links to folders inside it included), sorted. */
export const subdirs = (dir: string): string[] => {
  const real = realRoot(dir);
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => {
      if (e.name.startsWith('.')) return false;
      const r = resolve(path.join(dir, e.name), entryType(e), real);
      return !('problem' in r) && r.kind === 'dir';
    })
    .map((e) => e.name)
    .sort();
};
