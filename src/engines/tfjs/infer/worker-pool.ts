import type { Worker } from 'node:worker_threads';
import type { Program } from './program.js';
import type { Reply, Request } from './messages.js';
import { TlrError } from '../../../errors.js';
import { spawnWorker } from '../../../runtime/threads.js';

// Worker threads that each run a Program on their own TensorFlow.js backend (one wasm instance
// per core: wasm has no threads in Node). Work goes out whole batches at a time, to whichever
// worker is free; every batch's result is the one a single thread computes for that batch.

export interface Output {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

interface Pending {
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
  run?: boolean;
}
interface Slot {
  readonly worker: Worker;
  busy: boolean;
  readonly pending: Map<number, Pending>;
}

/** A worker thread that died (out of memory, say); the run cannot go on with its batch. */
export class WorkerFailure extends TlrError {
  constructor(message: string) {
    super(`${message}; TLR_WORKERS=0 runs inference on the main thread instead`);
  }
}

/** Worker threads, each with its own TensorFlow.js, running one program on whole batches. */
export class InferencePool {
  private readonly slots: Slot[];
  private readonly queue: { request: Request; transfer: ArrayBuffer[]; pending: Pending }[] = [];
  private nextId = 0;
  private failure: Error | null = null;
  private closed = false;

  private constructor(
    readonly size: number,
    backend: string,
  ) {
    this.slots = Array.from({ length: size }, (_, i) => {
      const worker = spawnWorker(import.meta.url, 'worker', { backend });
      const slot: Slot = { worker, busy: false, pending: new Map() };
      worker.on('message', (r: Reply) => {
        const p = slot.pending.get(r.id);
        slot.pending.delete(r.id);
        if (p?.run) slot.busy = false;
        if (r.type === 'error') p?.reject(new Error(`inference worker ${i + 1}: ${r.message}`));
        else p?.resolve(r);
        this.pump();
      });
      worker.on('error', (e) => this.fail(new WorkerFailure(`inference worker ${i + 1} failed: ${e.message}`)));
      worker.on('exit', (code) => {
        if (code !== 0 && !this.closed)
          this.fail(new WorkerFailure(`inference worker ${i + 1} stopped (exit code ${code})`));
      });
      return slot;
    });
  }

  /** Starts `size` workers on `backend` (a BackendName) and loads `program` into each. */
  static async start(size: number, backend: string, program: Program): Promise<InferencePool> {
    const pool = new InferencePool(size, backend);
    try {
      await pool.load(program);
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (const s of this.slots) {
      for (const p of s.pending.values()) p.reject(e);
      s.pending.clear();
    }
    for (const q of this.queue.splice(0)) q.pending.reject(e);
  }

  private send(slot: Slot, request: Request, transfer: ArrayBuffer[], pending: Pending): void {
    slot.pending.set(request.id, pending);
    slot.worker.postMessage(request, transfer);
  }

  private pump(): void {
    while (this.queue.length) {
      const slot = this.slots.find((s) => !s.busy);
      if (!slot) return;
      const q = this.queue.shift()!;
      slot.busy = true;
      this.send(slot, q.request, q.transfer, q.pending);
    }
  }

  /** Replaces every worker's program (new weights after an epoch, say). Waits for running batches. */
  async load(program: Program): Promise<void> {
    if (this.failure) throw this.failure;
    await Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<Reply>((resolve, reject) =>
            this.send(slot, { type: 'load', id: this.nextId++, program }, [], { resolve, reject }),
          ),
      ),
    );
  }

  /** The program's output for one batch. `x`'s buffer is handed to the worker (it is unusable after). */
  run(x: Float32Array, shape: readonly number[]): Promise<Output> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Reply>((resolve, reject) => {
      this.queue.push({
        request: { type: 'run', id: this.nextId++, x, shape },
        transfer: [x.buffer as ArrayBuffer],
        pending: { resolve, reject, run: true },
      });
      this.pump();
    }).then((r) => {
      const res = r as Extract<Reply, { type: 'result' }>;
      return { data: res.y, shape: res.shape };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
