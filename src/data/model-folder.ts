import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inside } from './layout.js';
import { strangersProblem } from '../files/owned.js';

// Where a model may be written, and what may be replaced there. tlr replaces a folder only when it
// made that folder itself: every model folder it writes holds MODEL_MARKER. Both the checker (for
// `save … to PATH`) and the runtime (right before it replaces anything) ask `saveTargetProblem`.

/** The file inside every model folder tlr writes; its presence is what makes a folder replaceable. */
export const MODEL_MARKER = '.tlr-model';

/** The marker's fields (writeMarker adds the list of files): what wrote the folder, for a person who finds it. */
export const markerFields = (version: string): Record<string, string> => ({
  format: 'tlr-model',
  writtenBy: `tlr ${version}`,
  note: 'tlr may replace this folder when a run saves a model here; it removes only the files listed here',
});

export interface Protected {
  /** Data folders (or CSV files) the recipe reads. */
  readonly data: readonly string[];
  /** The recipe's own folder. */
  readonly recipeDir: string;
  /** The home folder; defaults to os.homedir(). */
  readonly home?: string;
}

/** A path with every symlink in its existing part resolved, so two names for one folder compare equal. */
export function real(p: string): string {
  const abs = path.resolve(p);
  let head = abs;
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync(head), ...tail);
    } catch {
      const up = path.dirname(head);
      if (up === head) return abs;
      tail.unshift(path.basename(head));
      head = up;
    }
  }
}

/**
 * Why `target` must not receive a model, or null when it may: it is (or contains, or is inside) a
 * data folder, is the recipe's folder or an ancestor of it, is a home folder or an ancestor of one,
 * is a file system root, is not a folder, or is a folder tlr did not write that holds something.
 *
 * @example saveTargetProblem('/work/clothes', { data: ['/work/clothes'], recipeDir: '/work' })
 *   // → 'it is the data folder /work/clothes: saving there would delete the training images'
 */
export function saveTargetProblem(target: string, p: Protected): string | null {
  const t = real(target);
  if (path.parse(t).root === t) return 'it is the root of a file system';
  for (const d of p.data.map(real)) {
    if (t === d) return `it is the data folder ${d}: saving there would delete the training images`;
    if (inside(d, t)) return `it contains the data folder ${d}: saving there would delete the training images`;
    if (inside(t, d)) return `it is inside the data folder ${d}: the model would be read as data`;
  }
  const recipeDir = real(p.recipeDir);
  if (inside(recipeDir, t))
    return t === recipeDir ? "it is the recipe's own folder" : `it contains the recipe's folder ${recipeDir}`;
  const home = real(p.home ?? os.homedir());
  if (inside(home, t)) return t === home ? 'it is a home folder' : `it contains the home folder ${home}`;
  return existingProblem(t);
}

/** What is already at `t`, when tlr may not replace it. */
function existingProblem(t: string): string | null {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(t);
  } catch {
    return null; // nothing there: it will be created
  }
  if (st.isSymbolicLink()) return 'it is a symbolic link; name the folder itself';
  if (!st.isDirectory())
    return (
      `it exists and is ${st.isFile() ? 'a file' : 'not a regular folder (a device, socket or pipe)'}, not ` +
      `a model folder tlr wrote`
    );
  const entries = fs.readdirSync(t);
  if (entries.length === 0) return null;
  if (entries.includes(MODEL_MARKER)) return strangersProblem(t, MODEL_MARKER);
  const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? `, … (${entries.length} entries)` : '');
  return `it is a folder tlr did not write (no ${MODEL_MARKER} inside) holding ${shown}`;
}

/** What kind of thing stands at `p` (not following a link), or null when nothing does. */
function standing(p: string): 'file' | 'folder' | 'link' | 'other' | null {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return null;
  }
  return st.isSymbolicLink() ? 'link' : st.isFile() ? 'file' : st.isDirectory() ? 'folder' : 'other';
}

/** Why writing at `t` would change a data set: it is a data folder, inside one, or holds one. */
function dataProblem(t: string, data: readonly string[], around = true): string | null {
  for (const d of data.map(real)) {
    if (t === d || inside(t, d)) return `it is inside the data folder ${d}: writing there would change the data set`;
    if (around && inside(d, t)) return `it contains the data folder ${d}: writing there could change the data set`;
  }
  return null;
}

/**
 * Why a file tlr makes (an ONNX export, compare.md, a chart) must not be written at `target`, or
 * null when it may: never a link, a device, a FIFO, a socket or a folder, never in or around a
 * data folder, and an existing file only with `replace` (a --force, or a file of tlr's own).
 */
export function outputFileProblem(target: string, o: { data: readonly string[]; replace: boolean }): string | null {
  const kind = standing(target);
  if (kind === 'link') return 'it is a symbolic link; name a file, not a link';
  if (kind === 'folder') return 'it is a folder; give a file name';
  if (kind === 'other') return 'it is not a regular file (a device, FIFO or socket)';
  const data = dataProblem(real(target), o.data);
  if (data) return data;
  if (kind === 'file' && !o.replace) return 'it exists; add --force to replace it';
  return null;
}

/**
 * Why a folder tlr makes (a TF.js export, a job folder, compare's output) must not be written at
 * `target`, or null: never a link, a device or a file, never in or around a data folder, never a
 * file system root or a home folder, and an existing folder with something in it only when tlr
 * wrote it (`marker` inside) or `shared` (tlr adds its own files to it, as compare does).
 */
export function outputFolderProblem(
  target: string,
  o: { data: readonly string[]; marker: string; shared?: boolean; home?: string },
): string | null {
  const kind = standing(target);
  if (kind === 'link') return 'it is a symbolic link; name the folder itself';
  if (kind === 'file') return 'it is a file; give a folder';
  if (kind === 'other') return 'it is not a regular folder (a device, FIFO or socket)';
  const t = real(target);
  if (path.parse(t).root === t) return 'it is the root of a file system';
  // A shared folder only gets tlr's own named files: one that holds the data beside them is fine.
  const data = dataProblem(t, o.data, !o.shared);
  if (data) return data;
  const home = real(o.home ?? os.homedir());
  if (!o.shared && inside(home, t)) return t === home ? 'it is a home folder' : `it contains the home folder ${home}`;
  if (kind !== 'folder' || o.shared) return null;
  const entries = fs.readdirSync(t);
  if (entries.length === 0) return null;
  if (entries.includes(o.marker)) return strangersProblem(t, o.marker);
  return `it is a folder tlr did not write (no ${o.marker} inside) holding ${entries.slice(0, 3).join(', ')}`;
}
