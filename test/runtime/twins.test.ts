import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rng, shuffle } from '../../src/data/random.js';
import { trainingBatches } from '../../src/runtime/batches.js';
import { epochOrder } from '../../src/runtime/sampler.js';
import { averagePrecision, bestThresholds, multiLabelEvaluation } from '../../src/runtime/multi-label.js';
import { labelTable, positiveWeights } from '../../src/runtime/targets.js';
import { shardRows } from '../../src/engines/tfjs/train/data-parallel.js';
import { fixedTaps, jpegScale, resizeRgb } from '../../src/runtime/images/resize.js';
import { readSafetensors, writeSafetensors } from '../../src/runtime/weights/safetensors.js';

// The rules both engines implement (the seeded shuffle, batches, shares, the resizer, safetensors), held together by
// one set of cases in test/fixtures/twins/ that this file and python/tests/test_twins.py both read.

const TWINS = path.resolve(__dirname, '../fixtures/twins');
// biome-ignore lint/suspicious/noExplicitAny: cases are plain JSON, each kind of its own shape
const cases = (f: string): any[] => JSON.parse(fs.readFileSync(path.join(TWINS, f), 'utf8')).cases;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('the twins, by the shared cases', () => {
  it('rng and shuffle', () => {
    for (const c of cases('random.json'))
      if (c.first) {
        const r = rng(c.seed);
        expect(
          c.first.map(() => r()),
          `rng(${c.seed})`,
        ).toEqual(c.first);
      } else expect(shuffle(range(c.n), rng(c.seed)), `shuffle ${c.n}, ${c.seed}`).toEqual(c.shuffled);
  });

  it("an epoch's order: shuffled, or balanced (each class drawn equally often)", () => {
    for (const c of cases('sampler.json')) {
      const order = epochOrder(c.keep, c.labels, c.sampler, rng(c.seed));
      expect(order, `${c.sampler} ${c.seed}`).toEqual(c.order);
      expect(order.length).toBe(c.keep.length);
      const per = new Map<number, number>();
      for (const i of order) per.set(c.labels[i], (per.get(c.labels[i]) ?? 0) + 1);
      const counts = [...per.values()];
      if (c.sampler === 'balanced') expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      else expect([...order].sort((a, b) => a - b)).toEqual(c.keep);
    }
  });

  it('multi-label metrics: thresholds, mAP, F1s and subset accuracy', () => {
    for (const c of cases('multilabel.json')) {
      expect(bestThresholds(c.probs, c.truth, c.names.length)).toEqual(c.thresholds);
      expect(multiLabelEvaluation(c.probs, c.truth, c.names, c.thresholds)).toEqual(c.evaluation);
    }
    // scikit-learn's documented example: average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.8333…
    expect(averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.8333333, 6);
    // A label no image has: no average precision, left out of mAP, threshold 0.5.
    const never = cases('multilabel.json')[3];
    expect([never.evaluation.labels[1].ap, never.thresholds[1], never.evaluation.map]).toEqual([null, 0.5, 1]);
  });

  it('multi-label targets: the label table, positive weights, the sigmoid loss and the right answers', async () => {
    const { tf } = await import('../../src/engines/tfjs/tf.js');
    const { batchHits, batchLoss } = await import('../../src/engines/tfjs/train/loss.js');
    for (const c of cases('targets.json')) {
      const table = labelTable(c.sets, c.labels),
        pw = positiveWeights(c.codes, c.sets, c.labels);
      expect(Array.from(pw)).toEqual(c.positiveWeights.map(Math.fround));
      const [loss, weighted, hits] = tf.tidy(() => {
        const out = tf.tensor2d(c.out),
          y = tf.tensor1d(c.codes, 'int32');
        const m = (posWeights: Float32Array | null) => ({ labels: c.labels, table, posWeights });
        return [
          batchLoss(out, y, c.labels, null, c.probabilities, m(null)),
          batchLoss(out, y, c.labels, null, c.probabilities, m(pw)),
          batchHits(out, y, c.probabilities, m(null)),
        ].map((t) => t.dataSync()[0]!);
      });
      expect(loss).toBeCloseTo(c.loss, 5);
      expect(weighted).toBeCloseTo(c.weightedLoss, 5);
      expect(hits).toBe(c.hits);
    }
  });

  it('training batches (a last batch of one joins the one before)', () => {
    for (const c of cases('batches.json')) expect(trainingBatches(range(c.n), c.batch)).toEqual(c.batches);
  });

  it("each rank's share of the rows", () => {
    for (const c of cases('shares.json')) expect(shardRows(c.n, c.size), `${c.n} / ${c.size}`).toEqual(c.shares);
  });

  it('the resizer: its integer taps, the bytes it makes and the scale it decodes a JPEG at', () => {
    for (const c of cases('resize.json')) {
      if (c.taps) {
        const [n, m] = c.taps,
          t = fixedTaps(n, m);
        const pairs = range(m).map((k) =>
          range(t.count[k]!)
            .map((j) => [t.start[k]! + j, t.weights[k * t.width + j]!])
            .filter(([, w]) => w !== 0),
        );
        expect(pairs, `taps ${n} -> ${m}`).toEqual(c.pairs);
      } else if (c.jpeg) {
        const [w, h, s] = c.jpeg;
        expect(jpegScale(w, h, s), `a ${w}x${h} JPEG for ${s} px`).toBe(c.k);
      } else {
        const [w, h] = c.image,
          [ow, oh] = c.to;
        expect([...resizeRgb(new Uint8Array(c.pixels), w, h, ow, oh)], `${w}x${h} -> ${ow}x${oh}`).toEqual(c.resized);
      }
    }
  });

  it('safetensors: the same bytes, read back to the same values', () => {
    for (const c of cases('safetensors.json')) {
      const tensors = new Map(
        Object.entries(c.tensors as Record<string, { shape: number[]; values: number[] }>).map(([k, t]) => [
          k,
          { shape: t.shape, data: new Float32Array(t.values) },
        ]),
      );
      const bytes = writeSafetensors(tensors);
      expect(Buffer.from(bytes).toString('hex')).toBe(c.hex);
      const back = readSafetensors(bytes, 'case');
      for (const [k, t] of tensors) expect([...back.get(k)!.data]).toEqual([...t.data]);
    }
  });
});
