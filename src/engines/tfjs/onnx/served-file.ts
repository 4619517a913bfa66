import * as fs from 'node:fs';
import onnxProto from 'onnx-proto';
import { TlrError } from '../../../errors.js';
import type { Servable } from '../../types.js';
import { executionProviders, loadOrt, ortThreads } from './runtime.js';

// An ONNX file `tlr export` wrote, served on its own: its metadata (labels, preprocessing, output, a multi-label
// model's thresholds) read from the file with the ONNX project's protobuf definition, the network run by ONNX Runtime.

const { onnx } = onnxProto;

/** A file that is not an ONNX model tlr exported (or that ONNX Runtime cannot load). */
export class OnnxFileError extends TlrError {}

interface Exported {
  readonly labels: string[];
  readonly pre: { inputSize: number; mean: number[]; std: number[]; resize?: unknown };
  readonly probabilities: boolean;
  readonly thresholds: number[] | null;
}

/** The export's metadata, checked: every field `tlr export` writes that serving needs. */
function exported(file: string, bytes: Uint8Array): Exported {
  let meta: Map<string, string>;
  try {
    const m = onnx.ModelProto.decode(bytes);
    meta = new Map((m.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  } catch (e) {
    throw new OnnxFileError(`${file} is not an ONNX model (${(e as Error).message})`);
  }
  const json = (key: string) => {
    try {
      return JSON.parse(meta.get(key) ?? 'null');
    } catch {
      return null;
    }
  };
  const labels = json('labels'),
    pre = json('preprocessing');
  const thresholds = meta.get('task') === 'multi-label' ? json('thresholds') : null;
  const ok =
    Array.isArray(labels) &&
    labels.every((l) => typeof l === 'string') &&
    Number.isInteger(pre?.inputSize) &&
    [pre?.mean, pre?.std].every((v) => Array.isArray(v) && v.length === 3 && v.every(Number.isFinite)) &&
    (meta.get('task') !== 'multi-label' ||
      (Array.isArray(thresholds) && thresholds.length === labels.length && thresholds.every(Number.isFinite)));
  if (!ok)
    throw new OnnxFileError(
      `${file} has no labels and preprocessing in its metadata (or they are malformed): serve a file tlr export ` +
        'wrote, or its model folder',
    );
  return { labels, pre, probabilities: meta.get('output') === 'probabilities', thresholds };
}

/** Rows of logits to probabilities in place: softmax, or a sigmoid each (multi-label). */
function activate(y: Float32Array, labels: number, multi: boolean): Float32Array {
  if (multi) return y.map((v) => 1 / (1 + Math.exp(-v)));
  for (let r = 0; r < y.length; r += labels) {
    const row = y.subarray(r, r + labels);
    const top = Math.max(...row);
    let sum = 0;
    for (let i = 0; i < labels; i++) sum += row[i] = Math.exp(row[i]! - top);
    for (let i = 0; i < labels; i++) row[i]! /= sum;
  }
  return y;
}

/** An exported ONNX file ready to serve batches. */
export async function servableOnnx(file: string): Promise<Servable> {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const e = exported(file, bytes);
  const r = loadOrt();
  if (!('ort' in r)) throw new OnnxFileError(`cannot serve ${file}: ${r.error}`);
  const threads = ortThreads();
  let session: Awaited<ReturnType<typeof r.ort.InferenceSession.create>>;
  try {
    session = await r.ort.InferenceSession.create(bytes, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionProviders: executionProviders(r.ort),
    });
  } catch (err) {
    throw new OnnxFileError(`ONNX Runtime cannot load ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  const size = e.pre.inputSize,
    multi = e.thresholds !== null;
  return {
    labels: e.labels,
    inputSize: size,
    // The resizer it names when it names one as text (metadata is never trusted: any other value decodes whole).
    preprocessing: {
      mean: e.pre.mean,
      std: e.pre.std,
      resize: typeof e.pre.resize === 'string' ? e.pre.resize : undefined,
    },
    task: multi ? 'multi-label' : 'single-label',
    thresholds: e.thresholds,
    engine: `ONNX Runtime (${executionProviders(r.ort).join('+')}, ${threads} thread${threads === 1 ? '' : 's'})`,
    async run(x, n) {
      const out = (await session.run({ input: new r.ort.Tensor('float32', x, [n, size, size, 3]) }))['output']!;
      const y = new Float32Array(out.data as Float32Array);
      out.dispose();
      return e.probabilities ? y : activate(y, e.labels.length, multi);
    },
    close: () => session.release(),
  };
}
