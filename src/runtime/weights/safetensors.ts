import { WeightsError, f16, size, type RawTensor } from './tensors.js';

// The safetensors format: 8 bytes little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}, then the raw data.

/** The tensors of a .safetensors file (F32, F16, BF16, F64, I64; as float32) by name; `file` names it in errors. */
export function readSafetensors(buf: Uint8Array, file: string): Map<string, RawTensor> {
  if (buf.length < 8) throw new WeightsError(`${file} is not a safetensors file: it is only ${buf.length} bytes`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > buf.length - 8 || n > 100 * 1024 * 1024) throw new WeightsError(`${file} is not a safetensors file, or it is truncated: its header says ${n} bytes`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n)));
  } catch {
    throw new WeightsError(`${file} is not a safetensors file: its header is not JSON`);
  }
  const base = 8 + n;
  const out = new Map<string, RawTensor>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [b, e] = t.data_offsets;
    if (base + e > buf.length) throw new WeightsError(`${file} is truncated: ${name} ends at byte ${base + e}, the file has ${buf.length}`);
    const count = size(t.shape);
    const bytes = buf.subarray(base + b, base + e);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const data = new Float32Array(count);
    const width = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8 }[t.dtype];
    if (!width) throw new WeightsError(`${file}: ${name} has dtype ${t.dtype}; tlr reads F32, F16, BF16, F64 and I64`);
    if (bytes.length !== count * width) throw new WeightsError(`${file}: ${name} holds ${bytes.length} bytes, but shape [${t.shape}] of ${t.dtype} needs ${count * width}`);
    for (let i = 0; i < count; i++) {
      switch (t.dtype) {
        case 'F32': data[i] = dv.getFloat32(i * 4, true); break;
        case 'F16': data[i] = f16(dv.getUint16(i * 2, true)); break;
        case 'BF16': data[i] = new Float32Array(new Uint32Array([dv.getUint16(i * 2, true) << 16]).buffer)[0]!; break;
        case 'F64': data[i] = dv.getFloat64(i * 8, true); break;
        case 'I64': data[i] = Number(dv.getBigInt64(i * 8, true)); break;
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
