import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { Contracts } from '../../contracts/read.js';
import { readContract } from '../../contracts/read.js';
import { TlrError } from '../../errors.js';

// A model folder's int8 network (tlr export --int8 writes it): its files, what it was made from, and the check that
// it still belongs to the folder's float model before predict, eval or serve run it.

/** A model that cannot be quantized here (no run folder beside it, no ONNX Runtime), or whose int8 model is stale. */
export class Int8Error extends TlrError {}

/** The files an int8 model adds to a model folder. */
export const INT8_MODEL = 'int8.onnx';
export const INT8_RECORD = 'int8.json';

/** sha256 of a model folder's files other than its int8 model: what an int8 model was made from. */
export function modelDigest(dir: string): string {
  const h = createHash('sha256');
  for (const f of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, f);
    if (f === INT8_MODEL || f === INT8_RECORD || !fs.statSync(file).isFile()) continue;
    h.update(`${f}\0`).update(fs.readFileSync(file));
  }
  return h.digest('hex');
}

/**
 * The int8 network a model folder keeps, checked against the folder: an Int8Error says to make it when it is missing
 * and to make it again when the float model changed since.
 */
export function int8ModelOf(dir: string): { bytes: Uint8Array; record: Contracts['int8'] } {
  const file = path.join(dir, INT8_MODEL),
    rec = path.join(dir, INT8_RECORD);
  if (!fs.existsSync(file) || !fs.existsSync(rec))
    throw new Int8Error(`${dir} has no int8 model: make one with tlr export ${dir} --int8`);
  const record = readContract('int8', rec);
  if (record.source !== modelDigest(dir))
    throw new Int8Error(
      `${file} was made from another version of this model (its files changed since): make it again with tlr export ` +
        `${dir} --int8`,
    );
  return { bytes: fs.readFileSync(file), record };
}
