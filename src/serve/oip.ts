import type { Servable } from '../engines/types.js';

// The Open Inference Protocol (KServe v2) as `tlr serve` speaks it: model metadata, and infer requests of one FP32
// input tensor, images already preprocessed ([n, H, W, 3], NHWC, as `tlr export` documents), answered with one FP32
// output tensor of probabilities ([n, labels]). A request that is not that is a RequestError, answered 400.
// Tensors come as JSON numbers, or as raw bytes after the JSON (the binary tensor data extension, which Triton's and
// KServe's clients use by default): little-endian, row-major, `binary_data_size` bytes, the JSON's own length in the
// Inference-Header-Content-Length header. The output comes back the same way when the request asks for it.

/** The binary tensor data extension's header: the length of the JSON at the start of a body. */
export const HEADER_LENGTH = 'inference-header-content-length';

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

/**
 * Numbers of a tensor's `data`, flat or nested as its shape; a RequestError at the first that is not finite. A JSON
 * of `jsonBytes` holds at most jsonBytes / 2 numbers: a shape that claims more is refused before any allocation.
 */
function flatData(data: unknown, count: number, jsonBytes: number): Float32Array {
  if (data === undefined)
    throw new RequestError(400, 'inputs[0] has no "data" (nor "parameters": {"binary_data_size"})');
  if (count > jsonBytes / 2)
    throw new RequestError(400, `inputs[0].shape holds ${count} numbers; a body of ${jsonBytes} bytes cannot`);
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

/** What an infer request asks: its images (count and floats), its id, and whether the output goes back as bytes. */
export interface InferRequest {
  readonly n: number;
  readonly x: Float32Array;
  readonly id?: string;
  readonly binaryOutput: boolean;
}

/** An infer request's body, JSON alone or JSON then tensor bytes (`headerLength`: the header's value, if sent). */
export function inferRequest(
  body: Buffer,
  headerLength: string | undefined,
  m: Servable,
  maxImages: number,
): InferRequest {
  let json: Buffer = body,
    bytes: Buffer = Buffer.alloc(0);
  if (headerLength !== undefined) {
    const k = Number(headerLength);
    if (!/^\d+$/.test(headerLength.trim()) || k > body.length)
      throw new RequestError(
        400,
        `Inference-Header-Content-Length is ${JSON.stringify(headerLength.slice(0, 20))}, not a length within the ` +
          `body's ${body.length} bytes`,
      );
    json = body.subarray(0, k);
    bytes = body.subarray(k);
  }
  const b = parseJson(json) as { inputs?: unknown; id?: unknown; outputs?: unknown; parameters?: unknown };
  if (!b || typeof b !== 'object' || !Array.isArray(b.inputs) || b.inputs.length !== 1)
    throw new RequestError(400, `the request needs "inputs": one tensor named "${INPUT}"`);
  const n = imageCount(b.inputs[0], m, maxImages);
  const t = b.inputs[0] as { data?: unknown; parameters?: { binary_data_size?: unknown } };
  const count = n * m.inputSize * m.inputSize * 3;
  const size = t.parameters?.binary_data_size;
  const x = size === undefined ? flatData(t.data, count, json.length) : binaryData(size, bytes, count);
  if (size === undefined && bytes.length)
    throw new RequestError(400, `${bytes.length} bytes follow the JSON, but inputs[0] has no "binary_data_size"`);
  return { n, x, ...(typeof b.id === 'string' ? { id: b.id } : {}), binaryOutput: wantsBinary(b) };
}

/** The image count of the one input tensor, its name, datatype and shape checked against the model's input. */
function imageCount(input: unknown, m: Servable, maxImages: number): number {
  const t = input as { name?: unknown; shape?: unknown; datatype?: unknown };
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
  return n;
}

/** inputs[0]'s floats from the bytes after the JSON: exactly `count` little-endian FP32 values, all finite. */
function binaryData(size: unknown, bytes: Buffer, count: number): Float32Array {
  if (size !== count * 4)
    throw new RequestError(
      400,
      `inputs[0].parameters.binary_data_size is ${JSON.stringify(size)}; its shape holds ${count} FP32 values, ` +
        `${count * 4} bytes`,
    );
  if (bytes.length !== size)
    throw new RequestError(400, `inputs[0] has binary_data_size ${size}, but ${bytes.length} bytes follow the JSON`);
  const x = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    x[i] = bytes.readFloatLE(i * 4);
    if (!Number.isFinite(x[i]!))
      throw new RequestError(400, `inputs[0]'s binary value ${i} is ${x[i]}, not a finite number`);
  }
  return x;
}

/** Whether the output goes back as bytes: `binary_data_output`, or `binary_data` on the one output asked for. */
function wantsBinary(b: { outputs?: unknown; parameters?: unknown }): boolean {
  const all = (b.parameters as { binary_data_output?: unknown } | undefined)?.binary_data_output === true;
  if (b.outputs === undefined) return all;
  const outs = b.outputs as { name?: unknown; parameters?: { binary_data?: unknown } }[];
  if (!Array.isArray(outs) || outs.some((o) => o?.name !== OUTPUT))
    throw new RequestError(400, `"outputs" may ask only for "${OUTPUT}"`);
  return (
    outs.some((o) => o.parameters?.binary_data === true) ||
    (all && outs.every((o) => o.parameters?.binary_data !== false))
  );
}

/** The infer response: the probabilities of each image as one [n, labels] tensor, as JSON or as bytes after it. */
export function inferResponse(
  name: string,
  m: Servable,
  y: Float32Array,
  r: InferRequest,
): { json: object; bytes?: Buffer } {
  const tensor = { name: OUTPUT, datatype: 'FP32', shape: [r.n, m.labels.length] };
  const head = { model_name: name, model_version: '1', ...(r.id === undefined ? {} : { id: r.id }) };
  if (!r.binaryOutput) return { json: { ...head, outputs: [{ ...tensor, data: Array.from(y) }] } };
  const bytes = Buffer.alloc(y.length * 4);
  for (let i = 0; i < y.length; i++) bytes.writeFloatLE(y[i]!, i * 4);
  return { json: { ...head, outputs: [{ ...tensor, parameters: { binary_data_size: bytes.length } }] }, bytes };
}
