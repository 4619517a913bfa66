import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { RunEvent } from '../../runtime/events.js';
import type { Events } from '../../runtime/events.js';
import {
  assertSaveTarget,
  openRunFolder,
  type RunFolder,
  readEngineRecord,
  removeFailedRun,
  RunError,
} from '../../runtime/run-folder.js';
import { engineArgs, engineEnv, findTorchPython, hasTorch, installHint } from './python.js';
import { torchUnsupported, writeTorchJob } from './job.js';
import type { Plan } from '../../contracts/plan.js';
import { writeFileAtomic } from '../../files/atomic.js';
import { checkContract, readContract } from '../../contracts/read.js';

// `tlr run --engine torch`: prepares the run folder (plan.json, manifest.json, job.json), starts
// N ranks of the PyTorch engine on this machine (tlr's own launcher: Debian's torchrun of torch
// 1.13 fails on Python 3.11 before starting a worker), and turns rank 0's NDJSON lines into this
// process's events, so every view works unchanged. A rank that dies stops the others.

/** A torch run: the plan (or a run folder to resume) and the engine's settings. */
export interface TorchOptions {
  readonly plan?: Plan;
  readonly recipeText: string;
  readonly events: Events;
  readonly resume?: string;
  readonly stopped?: () => boolean;
  readonly env?: NodeJS.ProcessEnv;
  /** Processes on this machine, device, mixed precision. */
  readonly nproc: number;
  readonly device: 'cpu' | 'cuda';
  readonly amp: boolean;
  /** Image loader processes per rank (the engine's default where absent). */
  readonly workers?: number;
  /** Several machines: this one's place, and node 0's rendezvous address. Absent on one machine. */
  readonly nodes?: Nodes;
}

export interface Nodes {
  readonly count: number;
  readonly rank: number;
  readonly addr: string;
  readonly port: number;
}

/** Whether a run folder is the torch engine's: its engine.json says so, or (older folders) it has a job.json. */
export const isTorchRun = (dir: string): boolean =>
  (readEngineRecord(dir)?.engine ?? (fs.existsSync(path.join(dir, 'job.json')) ? 'torch' : 'tfjs')) === 'torch';

export interface TorchOutcome {
  readonly runDir: string;
  readonly status: 'finished' | 'interrupted';
  /** The engine's own `finished` event (the caller adds what it does after: copies, exports). */
  readonly finished: Extract<RunEvent, { type: 'finished' }> | null;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

/** Checks that cost nothing, before any folder is made. */
function preflight(plan: Plan, nproc: number): void {
  const why = torchUnsupported(plan);
  if (why) throw new RunError(why);
  if (!Number.isInteger(nproc) || nproc < 1)
    throw new RunError(`--nproc must be a whole number of processes, at least 1 (got ${nproc})`);
  for (const s of plan.stages) {
    if (s.batch % nproc)
      throw new RunError(
        `stage ${s.index}'s batch of ${s.batch} does not divide among ${nproc} processes: the recipe's batch is ` +
          `the global batch, split evenly across processes; use a batch that is a multiple of ${nproc} (say ` +
          `${Math.ceil(s.batch / nproc) * nproc}) or another --nproc`,
      );
  }
}

interface Rank {
  readonly rank: number;
  readonly child: ChildProcess;
  readonly stderr: string[];
  error: string | null;
  code: number | null /** When it exited, in order: the first failure is the cause, later ones its echo. */;
  exited: number;
}

function startRanks(
  python: string,
  dir: string,
  opts: TorchOptions,
  port: number,
  onEvent: (rank: number, e: RunEvent & { rank?: number }) => void,
): Rank[] {
  const env = engineEnv(opts.env ?? process.env);
  const threads = Math.max(1, Math.floor(os.cpus().length / opts.nproc));
  const nodes = opts.nodes ?? { count: 1, rank: 0, addr: '127.0.0.1', port };
  return Array.from({ length: opts.nproc }, (_, local) => {
    const rank = nodes.rank * opts.nproc + local;
    const child = spawn(
      python,
      engineArgs(
        'run',
        dir,
        '--device',
        opts.device,
        '--threads',
        String(threads),
        ...(opts.amp ? ['--amp'] : []),
        ...(opts.workers === undefined ? [] : ['--workers', String(opts.workers)]),
      ),
      {
        env: {
          ...env,
          MASTER_ADDR: nodes.addr,
          MASTER_PORT: String(nodes.port),
          WORLD_SIZE: String(opts.nproc * nodes.count),
          RANK: String(rank),
          LOCAL_RANK: String(local),
          GROUP_RANK: String(nodes.rank),
          TLR_LAUNCHER: `tlr run --engine torch${nodes.count > 1 ? ` (node ${nodes.rank} of ${nodes.count})` : ''}`,
          TLR_PARENT_PID: String(process.pid),
        },
        // Its own process group: a Ctrl-C reaches tlr, which asks every rank once to stop after the batch.
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    const r: Rank = { rank, child, stderr: [], error: null, code: null, exited: Infinity };
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      // A line that is not an event (a library's print) is kept with the rank's output; an event is checked.
      let e: RunEvent;
      try {
        e = checkContract('event', `rank ${rank}'s event stream`, JSON.parse(line));
      } catch {
        r.stderr.push(line);
        return;
      }
      if (e.type === 'error') r.error = e.message;
      else onEvent(rank, e);
    });
    readline.createInterface({ input: child.stderr! }).on('line', (line) => {
      r.stderr.push(line);
      if (r.stderr.length > 40) r.stderr.shift();
    });
    return r;
  });
}

/**
 * Waits for every rank; when one fails, the others get SIGTERM, then SIGKILL (they may be blocked in a collective with
 * the dead one).
 */
function waitRanks(ranks: Rank[], stopped: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    let asked = false,
      failed = false,
      order = 0;
    const tick = setInterval(() => {
      if (!asked && stopped()) {
        asked = true;
        for (const r of ranks) if (r.code === null) r.child.kill('SIGINT');
      }
    }, 100);
    const done = () => {
      if (ranks.every((r) => r.code !== null)) {
        clearInterval(tick);
        resolve();
      }
    };
    for (const r of ranks) {
      r.child.on('close', (code, signal) => {
        r.code = code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1);
        r.exited = order++;
        if (r.code !== 0 && r.code !== 130 && !failed) {
          failed = true;
          for (const o of ranks) if (o.code === null) o.child.kill('SIGTERM');
          setTimeout(() => {
            for (const o of ranks) if (o.code === null) o.child.kill('SIGKILL');
          }, 5000).unref();
        }
        done();
      });
    }
  });
}

/** The error for a failed run: the first rank that failed on its own, what it said, and what is kept. */
function failure(ranks: Rank[], dir: string, nodes?: Nodes): RunError {
  // The first rank to fail is the cause: the others fail after it (a broken connection) or were stopped.
  const first = ranks.filter((r) => r.code !== 0 && r.code !== 130).sort((a, b) => a.exited - b.exited)[0]!;
  const said =
    first.error ?? (first.stderr.length ? first.stderr.slice(-8).join('\n') : `no message (exit status ${first.code})`);
  const kept =
    fs.existsSync(path.join(dir, 'checkpoint', 'state.json')) && fs.existsSync(path.join(dir, 'metrics.jsonl'))
      ? `; the checkpoint is kept: tlr run --resume ${dir} continues the run`
      : '';
  const status =
    first.code === null
      ? ''
      : first.code > 128
        ? ` (killed by signal ${first.code - 128})`
        : ` (exit status ${first.code})`;
  return new RunError(
    `${rankName(first.rank, ranks.length, nodes)} of the torch engine failed${status}: ${said}${kept}`,
  );
}

/** A rank as messages name it: `rank 1 of 2`, or with several machines its node and global rank. */
const rankName = (rank: number, nproc: number, nodes?: Nodes): string =>
  nodes && nodes.count > 1
    ? `global rank ${rank} of ${nproc * nodes.count} (node ${nodes.rank})`
    : `rank ${rank} of ${nproc}`;

/** Runs a plan (or resumes a torch run folder) on the PyTorch engine. */
export async function runTorch(opts: TorchOptions): Promise<TorchOutcome> {
  const env = opts.env ?? process.env;
  const created: string[] = [];
  let f: RunFolder | null = null;
  try {
    if (opts.resume && !isTorchRun(opts.resume))
      throw new RunError(
        `${opts.resume} is not a run of the torch engine (it has no job.json): resume it without --engine torch`,
      );
    const world = opts.nproc * (opts.nodes?.count ?? 1);
    if (opts.plan) preflight(opts.plan, world);
    const py = await findTorchPython(env);
    if (!hasTorch(py))
      throw new RunError(
        `the torch engine needs a Python with torch and torchvision, and none was found ` +
          `(${py.tried.join('; ')}): ${installHint}`,
      );
    if (opts.nodes && opts.nodes.rank > 0) return await joinRun(py.python, py.torch, opts);
    const settings = { nproc: opts.nproc, device: opts.device, amp: opts.amp };
    const engine = {
      engine: 'torch',
      settings: opts.workers === undefined ? settings : { ...settings, workers: opts.workers },
    };
    f = openRunFolder({ plan: opts.plan!, recipeText: opts.recipeText, resume: opts.resume, engine }, created);
    if (opts.resume) preflight(f.plan, world);
    assertSaveTarget(f.plan);
    const label =
      `PyTorch ${py.torch} (${opts.device}, ` +
      `${
        world > 1
          ? `${opts.device === 'cuda' ? 'nccl' : 'gloo'}, ${opts.nproc} processes started by tlr's launcher` +
            (opts.nodes ? ` on each of ${opts.nodes.count} nodes (this is node 0)` : '')
          : 'one process'
      })`;
    opts.events.emit({ type: 'plan', plan: f.plan, runDir: f.dir, backend: label, resumed: f.resumed });
    if (!f.resumed) {
      const job = await writeTorchJob(f.plan, f.dir, {
        env,
        device: opts.device,
        nproc: opts.nproc,
        onProgress: (p) =>
          opts.events.emit({ type: 'weights', phase: 'downloading', url: p.url, received: p.received, total: p.total }),
      });
      if (job.weights)
        opts.events.emit({ type: 'weights', phase: 'ready', from: job.weights.entry, sha256: job.weights.sha256 });
      for (const s of job.skipped) opts.events.emit({ type: 'warning', message: `skipped: ${s.reason}`, file: s.file });
    }
    if (opts.nodes) writeNodes(f.dir, opts.nodes);
    const c = f.plan.data.counts,
      sum = (xs: readonly number[] | null) => (xs ?? []).reduce((a, b) => a + b, 0);
    opts.events.emit({
      type: 'data',
      counts: { train: sum(c.train), validation: sum(c.validation), test: sum(c.test) },
    });
    let finished: TorchOutcome['finished'] = null,
      interrupted = false;
    const ranks = startRanks(py.python, f.dir, opts, opts.nodes ? opts.nodes.port : await freePort(), (rank, e) => {
      if (e.type === 'warning') opts.events.emit(rank ? { ...e, message: `rank ${rank}: ${e.message}` } : e);
      else if (rank !== 0) return;
      else if (e.type === 'finished') finished = e;
      else {
        if (e.type === 'interrupted') interrupted = true;
        opts.events.emit(e);
      }
    });
    await waitRanks(ranks, opts.stopped ?? (() => false));
    if (ranks.some((r) => r.code !== 0 && r.code !== 130)) throw failure(ranks, f.dir, opts.nodes);
    if (interrupted || !finished) return { runDir: f.dir, status: 'interrupted', finished: null };
    return { runDir: f.dir, status: 'finished', finished };
  } catch (e) {
    removeFailedRun(created);
    throw e;
  } finally {
    f?.release();
  }
}

// Several machines by hand: every node runs the same `tlr run … --nnodes N --node-rank R --master-addr HOST
// --master-port PORT` on a shared file system. Node 0 makes the run folder, as any run, and writes nodes.json in it
// once the job is ready; the other nodes find that folder (nodeZeroRun: started before or after node 0, by minutes),
// check that their plan is node 0's, and start their ranks in it.
// Only global rank 0 writes the folder; with --resume RUN_DIR every node joins that folder.

const NODES_FILE = 'nodes.json';

function writeNodes(dir: string, nodes: Nodes): void {
  const record = { nnodes: nodes.count, endpoint: `${nodes.addr}:${nodes.port}`, written: Date.now() };
  writeFileAtomic(path.join(dir, NODES_FILE), `${JSON.stringify(record)}\n`);
}

/**
 * The run folder node 0 made for this rendezvous, once it is ready: of this recipe's runs whose nodes.json names the
 * same rendezvous and node count, written within the rendezvous timeout and not yet past its first epoch (node 0 waits
 * for the other nodes before training), the newest. Null while there is none.
 */
function nodeZeroRun(runsDir: string, nodes: Nodes, minutes: number): string | null {
  let names: string[];
  try {
    names = fs.readdirSync(runsDir);
  } catch {
    return null;
  }
  let best: { dir: string; written: number } | null = null;
  for (const n of names) {
    const dir = path.join(runsDir, n);
    try {
      const r = readContract('nodes', path.join(dir, NODES_FILE));
      const waiting = !fs.existsSync(path.join(dir, 'metrics.jsonl')) && !fs.existsSync(path.join(dir, 'report.json'));
      const fresh = Date.now() - r.written < minutes * 60_000;
      if (r.endpoint === `${nodes.addr}:${nodes.port}` && r.nnodes === nodes.count && waiting && fresh)
        if (!best || r.written > best.written) best = { dir, written: r.written };
    } catch {}
  }
  return best?.dir ?? null;
}

/** Waits for node 0's run folder (up to TLR_TORCH_TIMEOUT_MINUTES, default 30: the ranks' own wait). */
async function awaitNodeZero(plan: Plan, nodes: Nodes, env: NodeJS.ProcessEnv): Promise<string> {
  const minutes = Number(env['TLR_TORCH_TIMEOUT_MINUTES'] ?? 30),
    end = Date.now() + minutes * 60_000;
  for (;;) {
    const dir = nodeZeroRun(plan.output.runsDir, nodes, minutes);
    if (dir) return dir;
    if (Date.now() > end)
      throw new RunError(
        `node ${nodes.rank}: node 0 made no run folder for ${nodes.addr}:${nodes.port} in ${plan.output.runsDir} ` +
          `within ${minutes} minutes; start node 0 with the same recipe and --master-addr/--master-port, on a file ` +
          'system every node sees',
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A node other than 0: its ranks join node 0's run folder (found, or the one being resumed). */
async function joinRun(python: string, torch: string, opts: TorchOptions): Promise<TorchOutcome> {
  const nodes = opts.nodes!,
    env = opts.env ?? process.env;
  const dir = opts.resume ? path.resolve(opts.resume) : await awaitNodeZero(opts.plan!, nodes, env);
  const plan = readContract('plan', path.join(dir, 'plan.json'));
  if (opts.plan && JSON.stringify(plan) !== JSON.stringify(opts.plan))
    throw new RunError(
      `node ${nodes.rank}: this recipe's plan is not node 0's (${path.join(dir, 'plan.json')}); run the same recipe, ` +
        'with the same data, on every node',
    );
  preflight(plan, opts.nproc * nodes.count);
  const first = nodes.rank * opts.nproc;
  opts.events.emit({
    type: 'plan',
    plan,
    runDir: dir,
    backend:
      `PyTorch ${torch} (${opts.device}, node ${nodes.rank} of ${nodes.count}: global ranks ${first} to ` +
      `${first + opts.nproc - 1}; node 0 shows the progress and writes the run folder)`,
    resumed: !!opts.resume,
  });
  const ranks = startRanks(python, dir, opts, nodes.port, (_rank, e) => {
    if (e.type === 'warning') opts.events.emit({ ...e, message: `rank ${_rank}: ${e.message}` });
  });
  await waitRanks(ranks, opts.stopped ?? (() => false));
  if (ranks.some((r) => r.code !== 0 && r.code !== 130)) throw failure(ranks, dir, nodes);
  return { runDir: dir, status: ranks.every((r) => r.code === 0) ? 'finished' : 'interrupted', finished: null };
}
