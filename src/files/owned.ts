import * as fs from 'node:fs';
import * as path from 'node:path';
import { TlrError } from '../errors.js';

// Folders tlr writes whole (a model folder, a TF.js export, a job folder, packed shards) hold a marker
// file that lists every file tlr wrote there. A rewrite removes only those: any other file (a user's
// NOTES.md, a script, a marker-less index from `tlr pack --index`) makes it refuse, naming that file.
// A marker without a list (written by an older tlr) proves nothing, so every file but it is a stranger.

/** A folder tlr would rewrite holds a file it did not write. */
export class NotOwnedError extends TlrError {}

/** Every file under `dir`, relative, with `/` separators, sorted; links are listed, never followed. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else out.push(r);
    }
  };
  walk('');
  return out.sort();
}

/** The files a marker lists, or null when it lists none (missing, unreadable, not JSON, no `files`). */
function listed(dir: string, marker: string): Set<string> | null {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, marker), 'utf8'));
    return Array.isArray(m?.files) && m.files.every((f: unknown) => typeof f === 'string') ? new Set(m.files) : null;
  } catch {
    return null;
  }
}

/** The files under `dir` that its marker does not list (the marker itself is tlr's). Empty for a missing folder. */
export function strangers(dir: string, marker: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const own = listed(dir, marker) ?? new Set<string>();
  return listFiles(dir).filter((f) => f !== marker && !own.has(f));
}

/** Why tlr may not rewrite `dir` (marked with `marker`): the first files it did not write, or null. */
export function strangersProblem(dir: string, marker: string): string | null {
  const s = strangers(dir, marker);
  if (!s.length) return null;
  const shown = s.slice(0, 3).join(', ') + (s.length > 3 ? `, … (${s.length} files)` : '');
  return (
    `it holds ${shown}, which tlr did not write (${marker} does not list ${s.length === 1 ? 'it' : 'them'}); ` +
    'move it out of the folder, or choose another folder'
  );
}

/** Throws NotOwnedError naming the files under `dir` that tlr did not write. */
export function assertOwned(dir: string, marker: string): void {
  const problem = strangersProblem(dir, marker);
  if (problem) throw new NotOwnedError(`cannot replace ${dir}: ${problem}`);
}

/** Writes `marker` in `dir`: `fields` and the list of every file now under `dir` (call it last). */
export function writeMarker(dir: string, marker: string, fields: Record<string, unknown>): void {
  const files = listFiles(dir).filter((f) => f !== marker);
  fs.writeFileSync(path.join(dir, marker), `${JSON.stringify({ ...fields, files })}\n`);
}

/** A file tlr added to a folder it marked (model.onnx beside a saved model): the marker lists it too. */
export function addToMarker(dir: string, marker: string, file: string): void {
  const at = path.join(dir, marker);
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(fs.readFileSync(at, 'utf8'));
  } catch {
    return; // no list to add to: nothing is proved by this folder's marker anyway
  }
  if (!Array.isArray(m['files'])) return;
  const files = new Set(m['files'] as string[]).add(file);
  // Written beside and renamed over (atomic.ts imports this file, so not through writeFileAtomic).
  const tmp = `${at}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${JSON.stringify({ ...m, files: [...files].sort() })}\n`);
  fs.renameSync(tmp, at);
}
