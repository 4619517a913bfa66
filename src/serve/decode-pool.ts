import type { Worker } from 'node:worker_threads';
import { spawnWorker } from '../runtime/threads.js';
import type { DecodeReply, DecodeRequest } from './decode-worker.js';

// Decoding for `tlr serve` on worker threads (--decode-threads N): an image's decode and tlr's resizer take longer than
// the model's share of a batch (docs/serving.md "Measured"), and on the thread that answers HTTP they cap the server at
// one core. Each request goes to the thread with the fewest waiting.

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, { resolve: (x: Float32Array) => void; reject: (e: Error) => void }>;
}

/** An image the decoder refused (not an image, too many pixels): the request's fault. */
export class ImageRefused extends Error {}

export class DecodePool {
  private next = 0;
  private constructor(private readonly slots: Slot[]) {}

  static start(threads: number): DecodePool {
    const slots = Array.from({ length: threads }, (): Slot => {
      const worker = spawnWorker(import.meta.url, 'decode-worker', {});
      const slot: Slot = { worker, pending: new Map() };
      worker.on('message', (r: DecodeReply) => {
        const p = slot.pending.get(r.id);
        slot.pending.delete(r.id);
        if (!p) return;
        if ('x' in r) p.resolve(r.x);
        else p.reject(r.image ? new ImageRefused(r.error) : new Error(r.error));
      });
      worker.on('error', (e) => {
        for (const p of slot.pending.values()) p.reject(e);
        slot.pending.clear();
      });
      return slot;
    });
    return new DecodePool(slots);
  }

  /** The model's input floats for an image's bytes. */
  decode(bytes: Buffer, r: Omit<DecodeRequest, 'id' | 'bytes'>): Promise<Float32Array> {
    const slot = this.slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.next++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      const copy = new Uint8Array(bytes);
      slot.worker.postMessage({ id, bytes: copy, ...r } satisfies DecodeRequest, [copy.buffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
