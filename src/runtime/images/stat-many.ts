import * as fs from 'node:fs';
import * as os from 'node:os';
import { Worker } from 'node:worker_threads';

// stat(2) of many files, on several threads: a warm feature key of a million images is mostly
// stat calls (4 µs each here), and they are system calls that run side by side on other cores.
// The caller stays synchronous: it stats its own share, then waits on shared memory for the
// workers'. A worker that makes no progress for STALL_MS is given up and its share done here, so a
// worker that cannot start never hangs a run.

/**
 * Stats of many paths, by column (a million objects would cost the garbage collector seconds): `kind(i)` is 1 for a
 * regular file (then `size`, `mtimeMs`, `ctimeMs`, `ino` hold its stat), 2 for something else, 3 when stat failed
 * (`problem(i)` says why).
 */
export interface Stats {
  readonly data: Float64Array;
  kind(i: number): number;
  size(i: number): number;
  mtimeMs(i: number): number;
  ctimeMs(i: number): number;
  ino(i: number): number;
  /** What a path that is not a regular file is: `missing:CODE` (any failure, with its code) or `not-a-file`. */
  problem(i: number): string | null;
}

/** Below this many files, one thread: a worker's start (tens of ms) costs more than it saves. */
const PARALLEL_MIN = 50_000;
const STALL_MS = 30_000;
/** Float64 slots per file: kind (1 file, 2 not a file, 3 failed), size, mtime, ctime, inode. */
const SLOTS = 5;

// The worker (CommonJS, evaluated: no file to find in src/ or dist/). It writes each stat into the shared results and
// counts progress in done[1]; done[0] becomes 1 when it is finished.
const WORKER = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { names, out, done } = workerData;
const r = new Float64Array(out), d = new Int32Array(done);
const paths = names.split('\\0');
for (let i = 0; i < paths.length; i++) {
  let st = null;
  try { st = fs.statSync(paths[i], { throwIfNoEntry: false }); } catch {}
  const o = i * ${SLOTS};
  if (!st) r[o] = 3;
  else if (!st.isFile()) r[o] = 2;
  else { r[o] = 1; r[o + 1] = st.size; r[o + 2] = st.mtimeMs; r[o + 3] = st.ctimeMs; r[o + 4] = st.ino; }
  if ((i & 1023) === 0) Atomics.store(d, 1, i);
}
Atomics.store(d, 0, 1);
Atomics.notify(d, 0);
`;

/** Stats path p into slots at o. */
function statInto(p: string, r: Float64Array, o: number): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(p, { throwIfNoEntry: false });
  } catch {}
  if (!st) r[o] = 3;
  else if (!st.isFile()) r[o] = 2;
  else {
    r[o] = 1;
    r[o + 1] = st.size;
    r[o + 2] = st.mtimeMs;
    r[o + 3] = st.ctimeMs;
    r[o + 4] = st.ino;
  }
}

/** Why stat of p fails, with its code. */
function failure(p: string): string {
  try {
    fs.statSync(p);
    return 'missing:EAGAIN'; // it failed a moment ago; it is read as missing this time
  } catch (e) {
    return `missing:${(e as NodeJS.ErrnoException).code}`;
  }
}

interface Share {
  readonly from: number;
  readonly to: number;
  readonly out: Float64Array;
  readonly done: Int32Array;
  readonly worker: Worker;
}

/** Starts a worker on paths[from, to). */
function share(paths: readonly string[], from: number, to: number): Share {
  const out = new SharedArrayBuffer((to - from) * SLOTS * 8),
    done = new SharedArrayBuffer(8);
  const worker = new Worker(WORKER, { eval: true, workerData: { names: paths.slice(from, to).join('\0'), out, done } });
  worker.unref();
  return { from, to, out: new Float64Array(out), done: new Int32Array(done), worker };
}

/** Waits for a worker; false when it stalled (it is stopped, and its share is left to the caller). */
function finished(s: Share): boolean {
  let seen = -1,
    since = Date.now();
  while (Atomics.load(s.done, 0) === 0) {
    Atomics.wait(s.done, 0, 0, 1000);
    const now = Atomics.load(s.done, 1);
    if (now !== seen) {
      seen = now;
      since = Date.now();
    } else if (Date.now() - since > STALL_MS) {
      void s.worker.terminate();
      return false;
    }
  }
  void s.worker.terminate();
  return true;
}

/** Each path's stat, in order; `options` for tests (threads from this many paths, and how many). */
export function statMany(paths: readonly string[], options: { parallelMin?: number; threads?: number } = {}): Stats {
  const n = paths.length;
  const data = new Float64Array(n * SLOTS);
  const threads = options.threads ?? Math.min(os.availableParallelism(), 4);
  const per = n < (options.parallelMin ?? PARALLEL_MIN) || threads < 2 ? n : Math.ceil(n / threads);
  const shares: Share[] = [];
  for (let from = per; from < n; from += per) shares.push(share(paths, from, Math.min(n, from + per)));
  for (let i = 0; i < per; i++) statInto(paths[i]!, data, i * SLOTS);
  for (const s of shares) {
    if (finished(s)) data.set(s.out, s.from * SLOTS);
    else for (let i = s.from; i < s.to; i++) statInto(paths[i]!, data, i * SLOTS);
  }
  const at = (k: number) => (i: number) => data[i * SLOTS + k]!;
  return {
    data,
    kind: at(0),
    size: at(1),
    mtimeMs: at(2),
    ctimeMs: at(3),
    ino: at(4),
    problem: (i) => (data[i * SLOTS] === 1 ? null : data[i * SLOTS] === 2 ? 'not-a-file' : failure(paths[i]!)),
  };
}
