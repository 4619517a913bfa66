import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inside } from './layout.js';

// Where a model may be written, and what may be replaced there. tlr replaces a folder only when it
// made that folder itself: every model folder it writes holds MODEL_MARKER. Both the checker (for
// `save … to PATH`) and the runtime (right before it replaces anything) ask `saveTargetProblem`.

/** The file inside every model folder tlr writes; its presence is what makes a folder replaceable. */
export const MODEL_MARKER = '.tlr-model';

/** The marker's content: says what wrote the folder, for a person who finds it. */
export const markerText = (version: string): string =>
  `${JSON.stringify({
    format: 'tlr-model',
    writtenBy: `tlr ${version}`,
    note: 'tlr may replace this folder when a run saves a model here',
  })}\n`;

export interface Protected {
  /** Data folders (or CSV files) the recipe reads. */
  readonly data: readonly string[];
  /** The recipe's own folder. */
  readonly recipeDir: string;
  /** The home folder; defaults to os.homedir(). */
  readonly home?: string;
}

/** A path with every symlink in its existing part resolved, so two names for one folder compare equal. */
function real(p: string): string {
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
  if (entries.length === 0 || entries.includes(MODEL_MARKER)) return null;
  const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? `, … (${entries.length} entries)` : '');
  return `it is a folder tlr did not write (no ${MODEL_MARKER} inside) holding ${shown}`;
}
