import { concatFloats } from '../runtime/batches.js';

// Adaptive batching for `tlr serve`: requests that arrive while the model is busy wait, and run together as one
// batch (up to `maxBatch` images) as soon as it is free; a request that finds it idle waits at most `maxDelayMs` for
// others. One batch runs at a time: the engine already uses every core for one.

export interface BatchOptions {
  /** The most images one run of the model takes. */
  readonly maxBatch: number;
  /** How long a request that finds the model idle waits for others to join it (0: only those already queued). */
  readonly maxDelayMs: number;
}

interface Waiting {
  readonly x: Float32Array;
  readonly n: number;
  readonly resolve: (y: Float32Array) => void;
  readonly reject: (e: Error) => void;
}

export class Batcher {
  private readonly queue: Waiting[] = [];
  private running = false;
  private timer: NodeJS.Timeout | null = null;

  /** `run`: n images to n rows of `out` floats; `onBatch`: told each batch's size and seconds. */
  constructor(
    private readonly run: (x: Float32Array, n: number) => Promise<Float32Array>,
    private readonly out: number,
    private readonly o: BatchOptions,
    private readonly onBatch: (images: number, seconds: number) => void = () => undefined,
  ) {}

  /** Images waiting for the model. */
  get waiting(): number {
    return this.queue.reduce((a, w) => a + w.n, 0);
  }

  /** The rows for `n` images, once a batch holding them has run. */
  submit(x: Float32Array, n: number): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      this.queue.push({ x, n, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || !this.queue.length) return;
    if (this.waiting >= this.o.maxBatch || this.o.maxDelayMs <= 0) {
      this.clearTimer();
      // After the current tick: requests parsed in the same tick join this batch.
      setImmediate(() => void this.flush());
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.o.maxDelayMs);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The requests of the next batch: in arrival order, as many as fit (always at least one). */
  private take(): Waiting[] {
    const batch: Waiting[] = [];
    let rows = 0;
    while (this.queue.length && (!batch.length || rows + this.queue[0]!.n <= this.o.maxBatch)) {
      const w = this.queue.shift()!;
      batch.push(w);
      rows += w.n;
    }
    return batch;
  }

  private async flush(): Promise<void> {
    if (this.running || !this.queue.length) return;
    this.running = true;
    this.clearTimer();
    const batch = this.take();
    const n = batch.reduce((a, w) => a + w.n, 0);
    try {
      const x = concatFloats(batch.map((w) => w.x));
      const t0 = performance.now();
      const y = await this.run(x, n);
      this.onBatch(n, (performance.now() - t0) / 1000);
      let row = 0;
      for (const w of batch) {
        w.resolve(y.slice(row * this.out, (row + w.n) * this.out));
        row += w.n;
      }
    } catch (e) {
      for (const w of batch) w.reject(e as Error);
    } finally {
      this.running = false;
      // What queued meanwhile runs at once: it has waited a whole batch already.
      if (this.queue.length) setImmediate(() => void this.flush());
    }
  }
}
