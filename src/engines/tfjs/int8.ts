import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import onnxProto, { type onnx as P } from 'onnx-proto';
import type * as Ort from 'onnxruntime-node';
import type { Contracts } from '../../contracts/read.js';
import { INT8_CALIBRATION } from '../../contracts/plan.js';
import { readContract } from '../../contracts/read.js';
import { listSplits, type Item, type Splits } from '../../runtime/images/dataset.js';
import { labelTable } from '../../runtime/targets.js';
import { Int8Error, modelDigest } from './int8-files.js';
import { TLR_VERSION } from '../../version.js';
import { savedProgram } from './infer/saved.js';
import { evaluate } from './train/loop.js';
import { loadOrt, OrtEngine, OrtError, ortThreads, session } from './onnx/runtime.js';
import { toOnnx } from './onnx/to-onnx.js';
import { CLIPS, INT8_OP_TYPES, quantize, quantizedValues } from './onnx/quantize.js';
import { calibrationRanges, type CalibrationBatch } from './onnx/calibrate.js';
import { onnxOptions } from './export.js';
import { modelImages, type SavedModel } from './saved-model.js';

// int8 models with an accuracy gate: the model's float network is quantized statically (QDQ, onnx/quantize.ts) with
// activation ranges calibrated on images of its own run's training part, then measured before anything is written:
// each of the validation and test parts' accuracy (mAP for multi-label) in float and in int8, and both speeds on this
// machine. The model is refused when it falls more than the gate or is not faster, unless forced.

const { onnx } = onnxProto;

export type Int8Record = Contracts['int8'];

const CALIBRATION = { method: INT8_CALIBRATION.method, percentile: INT8_CALIBRATION.percentile } as const;

export interface Int8Options {
  /** The largest fall in accuracy (or mAP) allowed on either part, in points. */
  readonly gate: number;
  /** Training images calibrated on. */
  readonly calibration: number;
  /** Why to write past the gate (--force), or null. */
  readonly force: string | null;
  readonly softmax: boolean;
  readonly onProgress?: (message: string) => void;
}

export interface Int8Result {
  readonly record: Int8Record;
  /** Why the gate refused the model; null when it passed. */
  readonly refusal: string | null;
  /** The int8 network as the model folder keeps it (its raw output), and as exported (with --softmax if asked). */
  readonly model: Uint8Array;
  readonly exported: Uint8Array;
}

/** The run's parts, from the plan beside the model (RUN_DIR/model). */
function splitsOf(m: SavedModel): Splits {
  const plan = path.join(path.dirname(path.resolve(m.dir)), 'plan.json');
  if (!fs.existsSync(plan))
    throw new Int8Error(
      `${m.dir} is not in a run folder (no ${plan}): int8 calibrates on the run's training part and is checked on ` +
        'its validation and test parts; quantize RUN_DIR/model of the run that trained it',
    );
  return listSplits(readContract('plan', plan));
}

/** `n` items spread evenly over `items` (all of them when there are fewer). */
export const spread = (items: readonly Item[], n: number): Item[] =>
  items.length <= n ? [...items] : Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]!);

async function* batchesOf(m: SavedModel, items: readonly Item[], batch: number): AsyncGenerator<CalibrationBatch> {
  const size = m.meta.preprocessing.inputSize;
  const src = modelImages(m, items);
  for await (const b of src.batches(batch, false, 0)) {
    const data = b.x.dataSync() as Float32Array;
    b.x.dispose();
    yield { data, shape: [b.y.length, size, size, 3] };
  }
}

/** A part's accuracy (single-label) or mAP (multi-label) on the network `model`. */
async function score(m: SavedModel, model: Uint8Array, items: readonly Item[], labelSets: Splits['labelSets']) {
  const engine = await OrtEngine.start(model, ortThreads());
  try {
    const src = modelImages(m, items);
    const L = m.meta.labels.length;
    const multi = labelSets ? { labels: L, table: labelTable(labelSets, L), posWeights: null } : null;
    const r = await evaluate(engine, src, L, m.meta.output === 'probabilities', 32, multi);
    return { value: multi ? (r.map ?? 0) : r.accuracy, images: r.y.length };
  } finally {
    await engine.close();
  }
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Images/second of each network on one batch, measured in turns (so a busy moment hits both), median of repeats. */
async function speeds(fp32: Uint8Array, int8: Uint8Array, x: CalibrationBatch, threads: number, repeats: number) {
  const r = loadOrt();
  if (!('ort' in r)) throw new OrtError(r.error);
  const ort = r.ort;
  const sessions = [await session(ort, fp32, threads), await session(ort, int8, threads)];
  const input = { input: new ort.Tensor('float32', x.data, [...x.shape]) };
  const rates: number[][] = [[], []];
  try {
    for (const s of sessions) for (let i = 0; i < 2; i++) await s.run(input);
    for (let rep = 0; rep < repeats; rep++)
      for (const [k, s] of sessions.entries()) {
        // At least 3 runs and a quarter of a second a turn, so that a small network's turn is not timer noise.
        const t0 = performance.now();
        let runs = 0;
        while (runs < 3 || performance.now() - t0 < 250) {
          await s.run(input);
          runs++;
        }
        rates[k]!.push((runs * x.shape[0]!) / ((performance.now() - t0) / 1000));
      }
  } finally {
    for (const s of sessions) await s.release();
  }
  return { fp32: median(rates[0]!), int8: median(rates[1]!) };
}

/** x86 CPUs without VNNI saturate full-range uint8 × int8 products in ONNX Runtime: weights then take 7 bits. */
export function hasVnni(cpuinfo = readCpuinfo()): boolean {
  return /\b(avx512_vnni|avx_vnni|avx_vnni_int8)\b/.test(cpuinfo) || !/\bavx2\b/.test(cpuinfo);
}
const readCpuinfo = (): string => {
  try {
    return fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
};

/** What ONNX Runtime leaves in float: op types in the quantized graph other than the quantized ones and Q/DQ. */
function floatOps(model: P.IModelProto): string[] {
  const quantized = new Set([...INT8_OP_TYPES, ...CLIPS, 'QuantizeLinear', 'DequantizeLinear', 'Identity']);
  return [...new Set((model.graph?.node ?? []).map((n) => n.opType!))].filter((op) => !quantized.has(op));
}

/** The int8 network with the record in its metadata (`int8`, JSON) beside what `tlr export` writes. */
function withRecord(bytes: Uint8Array, record: Int8Record): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  m.metadataProps = [
    ...m.metadataProps.filter((p) => p.key !== 'int8'),
    { key: 'int8', value: JSON.stringify(record) },
  ];
  return onnx.ModelProto.encode(m).finish();
}

/**
 * `proto` statically quantized (QDQ) with activation ranges calibrated on `batches` (Percentile 99.99%), its weights in
 * 7 bits where the CPU has no VNNI: what `tlr export --int8` and `features int8` both run.
 */
export async function quantizeCalibrated(
  ort: typeof Ort,
  proto: P.IModelProto,
  batches: readonly CalibrationBatch[],
  threads: number,
) {
  const calibrated = await calibrationRanges(ort, proto, quantizedValues(proto), batches, threads, CALIBRATION);
  const reduceRange = !hasVnni();
  return { int8: quantize(proto, calibrated, { reduceRange }), calibrated, reduceRange };
}

/** Why the gate refuses, or null. */
export function verdict(record: Omit<Int8Record, 'forced'>): string | null {
  const { metric, drop, gate, speed, parts } = record;
  if (!parts.length) return 'the run has no validation or test images to check the int8 model against';
  const pts = (v: number) => `${(v * 100).toFixed(2)}%`;
  const worst = parts.map((p) => `${p.part} ${metric} ${pts(p.fp32)} in float, ${pts(p.int8)} in int8`).join('; ');
  if (drop > gate) return `${metric} falls ${drop.toFixed(2)} points, more than the gate of ${gate} (${worst})`;
  if (speed.ratio <= 1)
    return (
      `int8 is not faster here: ${speed.int8.toFixed(1)} images/s against ${speed.fp32.toFixed(1)} in float ` +
      `(${speed.ratio.toFixed(2)}x)`
    );
  return null;
}

/**
 * The saved model quantized to int8 and measured: calibrated on up to `opts.calibration` images of its run's training
 * part, scored on the validation and test parts and timed against its float network. Nothing is written here.
 */
export async function quantizeModel(m: SavedModel, opts: Int8Options): Promise<Int8Result> {
  const r = loadOrt();
  if (!('ort' in r)) throw new Int8Error(`int8 models need ONNX Runtime, and ${r.error}`);
  const splits = splitsOf(m),
    threads = ortThreads(),
    say = opts.onProgress ?? (() => undefined);
  let program: ReturnType<typeof savedProgram>;
  try {
    program = savedProgram(m.model, m.meta);
  } catch (e) {
    throw new Int8Error(`${m.dir} is not a model as tlr saves it (${(e as Error).message}), so it cannot be quantized`);
  }
  const fp32 = toOnnx(program, onnxOptions(m.meta, false)),
    proto = onnx.ModelProto.decode(fp32);
  const calibration = spread(splits.train, opts.calibration);
  say(
    `calibrating ${quantizedValues(proto).length} activations on ${calibration.length} training images ` +
      `(${CALIBRATION.method} ${CALIBRATION.percentile}%)`,
  );
  const { int8, calibrated, reduceRange } = await quantizeCalibrated(
    r.ort,
    proto,
    await collect(batchesOf(m, calibration, 8)),
    threads,
  );
  // The export with its output activation: the same graph up to it, so the same values and ranges.
  const exported = opts.softmax
    ? quantize(onnx.ModelProto.decode(toOnnx(program, onnxOptions(m.meta, true))), calibrated, { reduceRange })
    : int8;
  const parts: Int8Record['parts'][number][] = [];
  for (const part of ['validation', 'test'] as const) {
    if (!splits[part].length) continue;
    say(`scoring the ${part} part (${splits[part].length} images) in float and in int8`);
    const a = await score(m, fp32, splits[part], splits.labelSets),
      b = await score(m, int8, splits[part], splits.labelSets);
    if (a.images) parts.push({ part, images: a.images, fp32: a.value, int8: b.value });
  }
  say('timing both networks');
  const first = await batchesOf(m, (splits.validation.length ? splits.validation : calibration).slice(0, 8), 8).next();
  const repeats = 5,
    speed = await speeds(fp32, int8, first.value as CalibrationBatch, threads, repeats);
  const measured: Omit<Int8Record, 'forced'> = {
    version: 1,
    source: modelDigest(m.dir),
    calibration: { ...CALIBRATION, part: 'train', images: calibration.length },
    quantization: {
      format: 'QDQ',
      weights: `int8 per output channel, symmetric${reduceRange ? ', 7 bits (this CPU has no VNNI)' : ''}`,
      activations: 'uint8 per tensor, asymmetric',
      reduceRange,
      float: floatOps(proto),
    },
    metric: splits.labelSets ? 'mAP' : 'accuracy',
    parts,
    drop: Math.max(0, ...parts.map((p) => (p.fp32 - p.int8) * 100)),
    gate: opts.gate,
    speed: {
      ...speed,
      ratio: speed.int8 / speed.fp32,
      batch: (first.value as CalibrationBatch).shape[0]!,
      threads,
      repeats,
      cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    },
    written: { at: new Date().toISOString(), tlr: TLR_VERSION },
  };
  const refusal = verdict(measured);
  const record: Int8Record = {
    ...measured,
    forced: refusal && opts.force !== null ? `${opts.force}: ${refusal}` : null,
  };
  return { record, refusal, model: withRecord(int8, record), exported: withRecord(exported, record) };
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
