import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../../../src/engines/tfjs/tf.js';
import { buildLayers } from '../../../../src/engines/tfjs/tf-layers/build.js';
import { describe as catalog, graphOf } from '../../../../src/zoo/catalog.js';
import { compile, type Program } from '../../../../src/engines/tfjs/infer/program.js';
import { Runner } from '../../../../src/engines/tfjs/infer/execute.js';
import { InferencePool } from '../../../../src/engines/tfjs/infer/worker-pool.js';
import { inferenceWorkers, ordered, startEngine } from '../../../../src/engines/tfjs/infer/engine.js';

// Worker threads, each with its own wasm instance: whatever order batches finish in, each result
// is bit-identical to the one this thread computes for the same batch.

const size = 32;
const info = catalog('mobilenet_v1', 0.25, size);
const graph = graphOf('mobilenet_v1', info.width, size);
const programWith = (seed: number): Program => {
  const m = buildLayers(graph, info.featureLayer, 'm', seed);
  const p = compile(graph, info.featureLayer, m);
  m.dispose();
  return p;
};
let batches: Float32Array[] = [];
const shapeOf = (x: Float32Array) => [x.length / (size * size * 3), size, size, 3];

function alone(program: Program): Float32Array[] {
  const r = new Runner(program);
  const out = batches.map((x) => {
    const y = r.run(tf.tensor(x, shapeOf(x)));
    const d = y.dataSync() as Float32Array;
    tf.dispose(y);
    return d;
  });
  r.dispose();
  return out;
}

let pool: InferencePool;
beforeAll(async () => {
  await tf.setBackend('wasm');
  batches = [5, 5, 5, 5, 5, 5, 3].map((n, i) =>
    tf.tidy(() => tf.randomUniform([n, size, size, 3], -1, 1, 'float32', i + 1).dataSync() as Float32Array),
  );
  pool = await InferencePool.start(2, 'wasm', programWith(1));
});
afterAll(async () => {
  await pool?.close();
});

describe('inference worker pool', () => {
  it('all batches at once across two workers: results in order, bit-identical to one thread', async () => {
    const want = alone(programWith(1));
    const got = await Promise.all(batches.map((x) => pool.run(x.slice(), shapeOf(x))));
    got.forEach((g, i) => {
      expect(g.shape).toEqual([shapeOf(batches[i]!)[0], info.featureSize]);
      expect(Buffer.from(g.data.buffer).equals(Buffer.from(want[i]!.buffer))).toBe(true);
    });
    // Different batches give different features: the comparison above is not vacuous.
    expect(Buffer.from(got[0]!.data.buffer).equals(Buffer.from(got[1]!.data.buffer))).toBe(false);
  });

  it('load replaces the program in every worker', async () => {
    await pool.load(programWith(2));
    const want = alone(programWith(2));
    const got = await Promise.all(batches.map((x) => pool.run(x.slice(), shapeOf(x))));
    got.forEach((g, i) => {
      expect(Buffer.from(g.data.buffer).equals(Buffer.from(want[i]!.buffer))).toBe(true);
    });
  });

  it("a failing batch rejects with the worker's reason; the pool keeps working", async () => {
    await expect(pool.run(new Float32Array(10 * 10 * 3), [1, 10, 10, 3])).rejects.toThrow(
      /^inference worker \d: the network takes batches of \[32, 32, 3\], not \[10, 10, 3\]$/,
    );
    const x = batches[0]!;
    expect((await pool.run(x.slice(), shapeOf(x))).shape).toEqual([5, info.featureSize]);
  });

  it('a worker that dies fails what is pending and what comes after, saying how to do without workers', async () => {
    const p = await InferencePool.start(2, 'wasm', programWith(1));
    const x = batches[0]!;
    const pending = batches.map((b) => p.run(b.slice(), shapeOf(b)));
    await (p as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots[0]!.worker.terminate();
    const why = /^inference worker 1 stopped \(exit code 1\); TLR_WORKERS=0 runs inference on the main thread instead$/;
    const settled = await Promise.allSettled(pending);
    expect(settled.some((r) => r.status === 'rejected' && why.test(String((r.reason as Error).message)))).toBe(true);
    await expect(p.run(x.slice(), shapeOf(x))).rejects.toThrow(why);
    await p.close();
  });

  it('an engine with workers runs tensors through the pool and equals an engine without', async () => {
    const p = programWith(3);
    const [one, two] = [await startEngine(p, 0, 'wasm'), await startEngine(p, 2, 'wasm')];
    expect([one.workers, two.workers]).toEqual([0, 2]);
    const x = tf.tensor(batches[2]!, shapeOf(batches[2]!));
    const [a, b] = [await one.run(x), await two.run(x)];
    expect(
      Buffer.from((a.dataSync() as Float32Array).buffer).equals(Buffer.from((b.dataSync() as Float32Array).buffer)),
    ).toBe(true);
    tf.dispose([x, a, b]);
    await Promise.all([one.close(), two.close()]);
  });
});

describe('ordered', () => {
  it('keeps the source order whatever order the work finishes in, with at most depth in flight', async () => {
    let inFlight = 0,
      most = 0;
    async function* src() {
      for (let i = 0; i < 20; i++) yield i;
    }
    const out: number[] = [];
    for await (const [i, r] of ordered(
      src(),
      async (i) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((res) => setTimeout(res, (i * 7) % 5));
        inFlight--;
        return i * 10;
      },
      3,
    )) {
      expect(r).toBe(i * 10);
      out.push(i);
    }
    expect(out).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(most).toBe(3);
  });

  it('passes a failure on, and hands results it never yielded to discard', async () => {
    async function* src() {
      yield 1;
      yield 2;
      yield 3;
      yield 4;
    }
    const discarded: number[] = [];
    const run = async () => {
      for await (const _ of ordered(
        src(),
        async (i) => {
          if (i === 2) throw new Error('boom');
          return i * 10;
        },
        3,
        (_, r) => discarded.push(r),
      )) {
        /* consume */
      }
    };
    await expect(run()).rejects.toThrow('boom');
    expect(discarded).toEqual([30, 40]);
  });
});

describe('inferenceWorkers', () => {
  it('one per core on wasm and cpu, none on TensorFlow; TLR_WORKERS sets it or says what is wrong', () => {
    expect(inferenceWorkers('tensorflow', {}).workers).toBe(0);
    expect(inferenceWorkers('wasm', { TLR_WORKERS: '3' })).toEqual({ workers: 3, forced: true });
    expect(inferenceWorkers('wasm', { TLR_WORKERS: '1' })).toEqual({ workers: 0, forced: true });
    expect(() => inferenceWorkers('wasm', { TLR_WORKERS: 'two' })).toThrow(
      /TLR_WORKERS must be a whole number .* not 'two'/,
    );
  });
});
