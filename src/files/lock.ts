import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TlrError } from '../errors.js';
import { alive } from './atomic.js';

// One process at a time in a run folder or a sweep folder: two `tlr run --resume RUN_DIR` started at once would both
// train and write metrics.jsonl's epochs twice; two resumes of a sweep would train a pending variant twice. The lock
// is a file made with O_EXCL holding the holder's PID, host and start; a lock whose holder has died on this host is
// stale and taken over. A holder on another host (a shared file system) cannot be judged from here: the message says
// how to remove its lock when that process is gone. The torch engine's ranks take the same lock in a job folder
// launched without tlr (python/tlr_torch/files.py).

/** The lock file in a folder. */
export const LOCK_FILE = '.tlr-lock';

/** Another process holds the folder. */
export class LockedError extends TlrError {}

interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly started: string;
  readonly command: string;
}

function readHolder(file: string): { text: string; holder: Holder | null } | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null; // gone meanwhile: try again
  }
  try {
    const h = JSON.parse(text) as Holder;
    return { text, holder: Number.isInteger(h.pid) && typeof h.host === 'string' ? h : null };
  } catch {
    return { text, holder: null };
  }
}

/**
 * Whether the lock `file` may be taken over: its holder died on this host, or it is not a lock (half written by a
 * process killed at that moment, or damaged) and older than a few seconds. takeOver checks it is still that file.
 */
function stale(file: string, holder: Holder | null): boolean {
  if (holder) return holder.host === os.hostname() && !alive(holder.pid);
  return Date.now() - (fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0) > 5000;
}

/** Removes a stale lock, unless another process took it over first (then its lock is put back). */
function takeOver(file: string, text: string): void {
  const aside = `${file}.stale-${process.pid}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return;
  }
  if (fs.readFileSync(aside, 'utf8') !== text) {
    try {
      fs.linkSync(aside, file); // another process's fresh lock: back in place (fails only if a third took it)
    } catch {}
  }
  fs.rmSync(aside, { force: true });
}

const held = new Map<string, string>();
process.on('exit', () => {
  for (const [file, text] of held) releaseFile(file, text);
});

function releaseFile(file: string, text: string): void {
  try {
    if (fs.readFileSync(file, 'utf8') === text) fs.rmSync(file);
  } catch {}
  held.delete(file);
}

/**
 * Takes `dir`'s lock for this process; `what` names the folder in the error ("run folder", "sweep folder"). Returns
 * the release (also done when the process exits). A LockedError names the holder and what to do.
 */
export function lockFolder(dir: string, what: string): () => void {
  const file = path.join(dir, LOCK_FILE);
  const me: Holder = {
    pid: process.pid,
    host: os.hostname(),
    started: new Date().toISOString(),
    command: process.argv
      .slice(1, 4)
      .map((a) => path.basename(a))
      .join(' '),
  };
  const text = `${JSON.stringify(me)}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      fs.writeFileSync(file, text, { flag: 'wx' });
      held.set(file, text);
      return () => releaseFile(file, text);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const now = readHolder(file);
    if (!now) continue;
    if (stale(file, now.holder)) {
      takeOver(file, now.text);
      continue;
    }
    const h = now.holder;
    const who = h ? `process ${h.pid} on ${h.host}, since ${h.started}` : 'a process that is starting';
    throw new LockedError(
      `${dir} is in use: another tlr (${who}) holds this ${what} (${file}). Wait for it to finish` +
        (h && h.host !== os.hostname()
          ? `; if that process is gone, remove ${file} by hand (a lock held on another machine is not judged from here)`
          : ''),
    );
  }
  throw new LockedError(`${dir}: could not take this ${what}'s lock (${file}); try again`);
}
