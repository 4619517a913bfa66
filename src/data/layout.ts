import * as fs from 'node:fs';
import * as path from 'node:path';

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

/** What a directory entry is once links are followed (inside `root` only), or the problem with it. */
function resolve(
  p: string,
  e: fs.Dirent,
  root: string,
): { kind: 'file' | 'dir' | 'other'; real: string } | { problem: string } {
  if (!e.isSymbolicLink()) return { kind: e.isFile() ? 'file' : e.isDirectory() ? 'dir' : 'other', real: p };
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

/** Image files below `dir` (and problems named like images), in a stable order; hidden entries left out. */
export function walkImages(dir: string, root = dir, seen = new Set<string>()): Found[] {
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
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    const r = resolve(p, e, real);
    if ('problem' in r) {
      if (isImageFile(e.name)) out.push({ path: p, problem: `${p} is ${r.problem}` });
      continue;
    }
    if (r.kind === 'dir')
      for (const x of walkImages(p, root, seen)) out.push(x); // not push(...): 1M arguments overflow
    else if (isImageFile(e.name))
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
      const r = resolve(path.join(dir, e.name), e, real);
      return !('problem' in r) && r.kind === 'dir';
    })
    .map((e) => e.name)
    .sort();
};
