import type { Servable } from '../engines/types.js';

// The Open Inference Protocol (KServe v2) as `tlr serve` speaks it: model metadata, and infer requests of one FP32
// input tensor, images already preprocessed ([n, H, W, 3], NHWC, as `tlr export` documents), answered with one FP32
// output tensor of probabilities ([n, labels]). A request that is not that is a RequestError, answered 400.

/** A request the server refuses: its status and what to fix. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const INPUT = 'input';
export const OUTPUT = 'probabilities';

/** GET /v2/models/{name}: the model's name, platform and tensors. */
export const modelMetadata = (name: string, m: Servable) => ({
  name,
  versions: ['1'],
  platform: 'tlr',
  inputs: [{ name: INPUT, datatype: 'FP32', shape: [-1, m.inputSize, m.inputSize, 3] }],
  outputs: [{ name: OUTPUT, datatype: 'FP32', shape: [-1, m.labels.length] }],
});

/** A JSON body, or a RequestError naming what is wrong with it. */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new RequestError(400, `the body is not JSON (${(e as Error).message})`);
  }
}

/** Numbers of a tensor's `data`, flat or nested as its shape; a RequestError at the first that is not finite. */
function flatData(data: unknown, count: number): Float32Array {
  const out = new Float32Array(count);
  let at = 0;
  const walk = (v: unknown, depth: number): void => {
    if (depth > 8) throw new RequestError(400, 'inputs[0].data is nested deeper than its shape');
    if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1);
      return;
    }
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new RequestError(400, `inputs[0].data[${at}] is ${JSON.stringify(v)?.slice(0, 20)}, not a finite number`);
    if (at >= count) throw new RequestError(400, `inputs[0].data has more than the ${count} numbers its shape holds`);
    out[at++] = v;
  };
  walk(data, 0);
  if (at !== count) throw new RequestError(400, `inputs[0].data has ${at} numbers; its shape holds ${count}`);
  return out;
}

/** An infer request's images: their count and floats, checked against the model's input (`maxImages` at most). */
export function inferInput(body: unknown, m: Servable, maxImages: number): { n: number; x: Float32Array; id?: string } {
  const b = body as { inputs?: unknown; id?: unknown };
  if (!b || typeof b !== 'object' || !Array.isArray(b.inputs) || b.inputs.length !== 1)
    throw new RequestError(400, `the request needs "inputs": one tensor named "${INPUT}"`);
  const t = b.inputs[0] as { name?: unknown; shape?: unknown; datatype?: unknown; data?: unknown };
  const want = `[n, ${m.inputSize}, ${m.inputSize}, 3]`;
  if (t?.name !== INPUT) throw new RequestError(400, `inputs[0].name must be "${INPUT}"`);
  if (t.datatype !== 'FP32')
    throw new RequestError(400, `inputs[0].datatype must be "FP32", not ${JSON.stringify(t.datatype)}`);
  const s = t.shape;
  if (
    !Array.isArray(s) ||
    s.length !== 4 ||
    !s.every((d) => Number.isInteger(d)) ||
    s[1] !== m.inputSize ||
    s[2] !== m.inputSize ||
    s[3] !== 3
  )
    throw new RequestError(400, `inputs[0].shape must be ${want} (NHWC, preprocessed), not ${JSON.stringify(s)}`);
  const n = s[0] as number;
  if (n < 1 || n > maxImages) throw new RequestError(400, `inputs[0] holds ${n} images; from 1 to ${maxImages}`);
  const x = flatData(t.data, n * m.inputSize * m.inputSize * 3);
  return { n, x, ...(typeof b.id === 'string' ? { id: b.id } : {}) };
}

/** The infer response: the probabilities of each image as one [n, labels] tensor. */
export const inferOutput = (name: string, m: Servable, y: Float32Array, n: number, id?: string) => ({
  model_name: name,
  model_version: '1',
  ...(id === undefined ? {} : { id }),
  outputs: [{ name: OUTPUT, datatype: 'FP32', shape: [n, m.labels.length], data: Array.from(y) }],
});
