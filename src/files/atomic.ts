import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TlrError } from '../errors.js';
import { assertOwned } from './owned.js';

// Writes that happen whole or not at all: a fresh temporary name beside the target, created
// exclusively (O_EXCL: an existing file or a planted symlink at that name is never opened or
// followed), then a rename. A failed write (a full disk, say) removes its temporary file and says
// which file could not be written; the target keeps its last good content.

/** A file tlr could not write (a full disk, say); nothing was changed there. */
export class WriteError extends TlrError {}

const suffix = () => `${process.pid}-${crypto.randomBytes(6).toString('hex')}`;

function writeFailed(target: string, e: unknown): WriteError {
  const err = e as NodeJS.ErrnoException;
  const why =
    err.code === 'ENOSPC'
      ? 'the disk is full'
      : err.code === 'EDQUOT'
        ? 'the disk quota is used up'
        : err.code === 'EACCES' || err.code === 'EPERM'
          ? 'permission denied'
          : err.code === 'EROFS'
            ? 'the file system is read-only'
            : err.message;
  return new WriteError(`could not write ${target}: ${why}; nothing was changed there`);
}

/** Appends a line to `file` (a log such as metrics.jsonl); a failure is a WriteError naming the file. */
export function appendLine(file: string, line: string): void {
  try {
    fs.appendFileSync(file, line.endsWith('\n') ? line : `${line}\n`);
  } catch (e) {
    throw writeFailed(file, e);
  }
}

/**
 * A file written piece by piece under a fresh temporary name beside it, then renamed into place
 * whole (`commit`) or removed (`abort`): a reader sees the old file or the whole new one.
 */
export class AtomicWriter {
  private readonly tmp: string;
  private fd: number | null = null;

  constructor(readonly file: string) {
    this.tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${suffix()}`);
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      this.fd = fs.openSync(
        this.tmp,
        fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0),
        0o644,
      );
    } catch (e) {
      throw writeFailed(file, e);
    }
  }

  write(data: string | Uint8Array): void {
    try {
      fs.writeFileSync(this.fd!, data);
    } catch (e) {
      this.abort();
      throw writeFailed(this.file, e);
    }
  }

  commit(): void {
    try {
      keepOwnership(this.fd!, this.file);
      fs.closeSync(this.fd!);
      this.fd = null;
      fs.renameSync(this.tmp, this.file);
    } catch (e) {
      this.abort();
      throw writeFailed(this.file, e);
    }
  }

  /** Removes the temporary file; the target keeps what it had. */
  abort(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    fs.rmSync(this.tmp, { force: true });
  }
}

/**
 * The new file takes the mode of the regular file it replaces (exactly: the umask does not apply),
 * and its owner and group where this process may set them (root may; others keep their own).
 */
function keepOwnership(fd: number, file: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return; // a new file: 0644 less the umask
  }
  if (!st.isFile()) return;
  fs.fchmodSync(fd, st.mode & 0o7777);
  try {
    fs.fchownSync(fd, st.uid, st.gid);
  } catch {
    // Not permitted (another user's file): the new file is this user's, as any edit would make it.
  }
}

/**
 * A file the user wrote (a recipe), rewritten in place atomically by `fmt --write` or `lr-find
 * --write`: a link is followed to the file it names (the link stays a link), a file without write
 * permission for its owner is refused (even for root, who could), and mode and owner are kept.
 */
export function rewriteFileAtomic(file: string, data: string): void {
  writeFileAtomic(rewritable(file), data);
}

/**
 * The file a rewrite of `file` goes to (a link followed); a WriteError when it may not be
 * rewritten: not a regular file, read-only for its owner, or not writable by this user.
 */
export function rewritable(file: string): string {
  let target: string;
  try {
    target = fs.realpathSync(file);
  } catch (e) {
    throw writeFailed(file, e);
  }
  const st = fs.statSync(target);
  if (!st.isFile())
    throw new WriteError(`could not write ${file}: it is not a regular file; nothing was changed there`);
  const shown = target === path.resolve(file) ? file : `${file} (a link to ${target})`;
  if (!(st.mode & 0o200)) {
    throw new WriteError(
      `${shown} is read-only; nothing was changed there (make it writable with chmod u+w to let tlr rewrite it)`,
    );
  }
  try {
    fs.accessSync(target, fs.constants.W_OK);
  } catch {
    throw new WriteError(`${shown} is not writable by this user; nothing was changed there`);
  }
  return target;
}

/**
 * Writes `data` to `file` atomically, creating its folder.
 *
 * @example writeFileAtomic('runs/x/report.json', JSON.stringify(report))
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const w = new AtomicWriter(file);
  w.write(data);
  w.commit();
}

/** Whether process `pid` is running (its leftovers are not to be touched then). */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * What a killed replaceDirAtomic left beside `dir`: the old folder is put back when `dir` itself
 * is missing (the process died between its two renames); other leftovers of dead processes go.
 */
export function recoverDir(dir: string): void {
  const parent = path.dirname(dir),
    base = path.basename(dir);
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return;
  }
  const leftovers = names.flatMap((n) => {
    const m = new RegExp(`^\\.?${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(tmp|old)-(\\d+)-`).exec(n);
    return m && !alive(Number(m[2])) ? [{ name: n, kind: m[1] as 'tmp' | 'old' }] : [];
  });
  const old = leftovers.find((l) => l.kind === 'old');
  if (old && !fs.existsSync(dir)) fs.renameSync(path.join(parent, old.name), dir);
  for (const l of leftovers) fs.rmSync(path.join(parent, l.name), { recursive: true, force: true });
}

/**
 * Fills a fresh folder through `fill`, then puts it in place of `dir` (the old one is removed). With `owned` (the
 * marker file of a folder tlr writes whole), an existing `dir` is replaced only when its marker lists every file in it.
 */
export async function replaceDirAtomic(
  dir: string,
  fill: (tmp: string) => Promise<void> | void,
  owned?: string,
): Promise<void> {
  recoverDir(dir);
  if (owned) assertOwned(dir, owned);
  const parent = path.dirname(dir),
    base = path.basename(dir);
  const tmp = path.join(parent, `.${base}.tmp-${suffix()}`);
  try {
    fs.mkdirSync(parent, { recursive: true });
    fs.mkdirSync(tmp); // fails when the name exists: never reuses another's folder
    await fill(tmp);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e instanceof TlrError ? e : writeFailed(dir, e);
  }
  const old = path.join(parent, `.${base}.old-${suffix()}`);
  if (fs.existsSync(dir)) fs.renameSync(dir, old);
  fs.renameSync(tmp, dir);
  fs.rmSync(old, { recursive: true, force: true });
}

/** The files of folder `from` as folder `to`, replaced atomically (replaceDirAtomic, with its `owned` marker). */
export async function copyDirAtomic(from: string, to: string, owned?: string): Promise<void> {
  await replaceDirAtomic(
    to,
    (tmp) => {
      for (const f of fs.readdirSync(from)) fs.copyFileSync(path.join(from, f), path.join(tmp, f));
    },
    owned,
  );
}
