import * as fs from 'node:fs';
import * as path from 'node:path';
import { WeightsError, f16, size, type WeightMap } from './tensors.js';

// TF.js layers format: model.json (topology + weightsManifest) beside binary shards. Weights are
// laid out one after another across the groups' shards, in manifest order.

export interface ManifestEntry {
  readonly name: string;
  readonly shape: number[];
  readonly dtype?: string;
  readonly quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}
export interface ModelJson {
  readonly modelTopology?: unknown;
  readonly weightsManifest: { paths: string[]; weights: ManifestEntry[] }[];
}

function readModelText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (e as Error).message;
    throw new WeightsError(`cannot read ${file}: ${why}`);
  }
}

/** A TF.js model.json, checked for the fields tlr reads; `file` names it in errors. */
export function parseModelJson(text: string, file: string): ModelJson {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new WeightsError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  return checkModelJson(j, file);
}

/** A model.json already parsed, checked for the fields tlr reads. */
export function checkModelJson(value: unknown, file: string): ModelJson {
  const j = value as ModelJson;
  if (!j || typeof j !== 'object' || !Array.isArray(j.weightsManifest))
    throw new WeightsError(`${file} is not a TF.js layers model: it has no weightsManifest`);
  j.weightsManifest.forEach((g, i) => {
    checkGroup(g, i, file);
  });
  return j;
}

/** Weight tensors above this many elements are refused before anything is allocated. */
const MAX_ELEMENTS = 2 ** 31;

/** A manifest group: shard paths that stay inside the model's folder, weights with sane shapes. */
function checkGroup(g: unknown, i: number, file: string): void {
  const bad = (what: string) => new WeightsError(`${file}: weightsManifest[${i}] ${what}`);
  const group = g as { paths?: unknown; weights?: unknown };
  if (!group || !Array.isArray(group.paths) || !Array.isArray(group.weights))
    throw bad('needs "paths" and "weights" arrays');
  for (const p of group.paths) {
    if (typeof p !== 'string' || !p) throw bad('has a shard path that is not a file name');
    // Relative, inside the model's folder: no absolute paths, URLs, drive letters or "..".
    if (path.isAbsolute(p) || /^[a-z][a-z0-9+.-]*:/i.test(p) || p.split(/[\\/]/).includes('..') || p.includes('\0'))
      throw bad(
        `names the shard ${JSON.stringify(p)}, which is outside the model's folder; tlr reads shards only ` +
          `from beside model.json`,
      );
  }
  for (const w of group.weights as ManifestEntry[]) {
    if (!w || typeof w.name !== 'string') throw bad('has a weight without a name');
    if (!Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && d >= 0) || size(w.shape) > MAX_ELEMENTS)
      throw bad(`gives ${w.name} the shape ${JSON.stringify(w.shape)}, which is not a list of sizes tlr can hold`);
  }
}

const width = (w: ManifestEntry): number => {
  const q = w.quantization?.dtype;
  if (q) return q === 'uint8' ? 1 : 2;
  if (!w.dtype || w.dtype === 'float32' || w.dtype === 'int32') return 4;
  throw new WeightsError(`weight ${w.name} has dtype ${w.dtype}; tlr reads float32, int32 and quantized weights`);
};

/** Decodes the manifest's weights from the shards' bytes (in manifest order). */
export function decodeWeights(json: ModelJson, shards: Uint8Array[], file: string): WeightMap {
  const total = shards.reduce((t, s) => t + s.length, 0);
  const all = new Uint8Array(total);
  let p = 0;
  for (const s of shards) {
    all.set(s, p);
    p += s.length;
  }
  const dv = new DataView(all.buffer);
  const out: WeightMap = new Map();
  let offset = 0;
  for (const w of json.weightsManifest.flatMap((g) => g.weights)) {
    const n = size(w.shape),
      bytes = n * width(w);
    if (offset + bytes > total)
      throw new WeightsError(
        `the weight shards of ${file} are truncated: ${w.name} needs bytes ${offset}..${offset + bytes}, the ` +
          `shards hold ${total}`,
      );
    const data = new Float32Array(n);
    const q = w.quantization;
    for (let i = 0; i < n; i++) {
      const at = offset + i * width(w);
      if (!q) data[i] = w.dtype === 'int32' ? dv.getInt32(at, true) : dv.getFloat32(at, true);
      else if (q.dtype === 'float16') data[i] = f16(dv.getUint16(at, true));
      else data[i] = (q.dtype === 'uint8' ? dv.getUint8(at) : dv.getUint16(at, true)) * (q.scale ?? 1) + (q.min ?? 0);
    }
    out.set(w.name, { shape: w.shape, data });
    offset += bytes;
  }
  if (offset !== total)
    throw new WeightsError(`the weight shards of ${file} hold ${total} bytes, but its manifest describes ${offset}`);
  return out;
}

/** Shard paths of a model.json, in order, relative to its folder. */
export const shardPaths = (json: ModelJson): string[] => json.weightsManifest.flatMap((g) => g.paths);

/** Reads a model.json (or takes it as a caller already read it: `parsed`) and its shards from disk. */
export function readTfjsModel(file: string, parsed?: unknown): { json: ModelJson; weights: WeightMap } {
  const json = parsed === undefined ? parseModelJson(readModelText(file), file) : checkModelJson(parsed, file);
  const shards = shardPaths(json).map((p) => {
    const f = path.join(path.dirname(file), p);
    if (!fs.existsSync(f))
      throw new WeightsError(`${file} names the weight shard ${p}, which is missing from ${path.dirname(file)}`);
    return new Uint8Array(fs.readFileSync(f));
  });
  return { json, weights: decodeWeights(json, shards, file) };
}
