import { WeightsError, f16, size, type RawTensor } from './tensors.js';

// The safetensors format: 8 bytes little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}, then the raw data.

/** One header entry, field by field: dtype a string, shape whole sizes, offsets inside the data. */
function checkEntry(file: string, name: string, t: unknown, base: number, total: number): void {
  const e = t as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  const bad = (what: string) => new WeightsError(`${file}: the header entry for ${name} ${what}`);
  if (!e || typeof e !== 'object') throw bad('is not an object');
  if (typeof e.dtype !== 'string') throw bad('has no dtype');
  if (
    !Array.isArray(e.shape) ||
    !e.shape.every((d) => Number.isInteger(d) && d >= 0) ||
    size(e.shape as number[]) > 2 ** 31
  )
    throw bad(`has the shape ${JSON.stringify(e.shape)}, not a list of sizes tlr can hold`);
  const o = e.data_offsets;
  if (!Array.isArray(o) || o.length !== 2 || !o.every((v) => Number.isInteger(v) && v >= 0) || o[0] > o[1])
    throw bad(`has data_offsets ${JSON.stringify(o)}, not [begin, end]`);
  if (base + o[1] > total)
    throw new WeightsError(`${file} is truncated: ${name} ends at byte ${base + o[1]}, the file has ${total}`);
}

/** The tensors of a .safetensors file (F32, F16, BF16, F64, I64; as float32) by name; `file` names it in errors. */
export function readSafetensors(buf: Uint8Array, file: string): Map<string, RawTensor> {
  if (buf.length < 8) throw new WeightsError(`${file} is not a safetensors file: it is only ${buf.length} bytes`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const big = view.getBigUint64(0, true);
  // Sizes are checked before anything is allocated: a header length of 2^40 is a damaged file.
  if (big > BigInt(buf.length - 8) || big > 100n * 1024n * 1024n)
    throw new WeightsError(
      `${file} is not a safetensors file, or it is truncated: its header says ${big} bytes, the file has ${buf.length}`,
    );
  const n = Number(big);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n)));
  } catch {
    throw new WeightsError(`${file} is not a safetensors file: its header is not JSON`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header))
    throw new WeightsError(`${file} is not a safetensors file: its header is not a JSON object`);
  const base = 8 + n;
  const out = new Map<string, RawTensor>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    checkEntry(file, name, t, base, buf.length);
    const [b, e] = t.data_offsets;
    const count = size(t.shape);
    const bytes = buf.subarray(base + b, base + e);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const data = new Float32Array(count);
    const width = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8 }[t.dtype];
    if (!width) throw new WeightsError(`${file}: ${name} has dtype ${t.dtype}; tlr reads F32, F16, BF16, F64 and I64`);
    if (bytes.length !== count * width)
      throw new WeightsError(
        `${file}: ${name} holds ${bytes.length} bytes, but shape [${t.shape}] of ${t.dtype} needs ${count * width}`,
      );
    for (let i = 0; i < count; i++) {
      switch (t.dtype) {
        case 'F32':
          data[i] = dv.getFloat32(i * 4, true);
          break;
        case 'F16':
          data[i] = f16(dv.getUint16(i * 2, true));
          break;
        case 'BF16':
          data[i] = new Float32Array(new Uint32Array([dv.getUint16(i * 2, true) << 16]).buffer)[0]!;
          break;
        case 'F64':
          data[i] = dv.getFloat64(i * 8, true);
          break;
        case 'I64':
          data[i] = Number(dv.getBigInt64(i * 8, true));
          break;
      }
    }
    out.set(name, { shape: t.shape, data });
  }
  return out;
}

/** Writes F32 tensors as safetensors (used to save and in tests). */
export function writeSafetensors(tensors: Map<string, RawTensor>): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.length * 4] };
    offset += t.data.length * 4;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let p = 8 + head.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), p);
    p += t.data.byteLength;
  }
  return out;
}
