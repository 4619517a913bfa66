import * as fs from 'node:fs';
import * as path from 'node:path';
import { openModelFolder } from './predict.js';
import { exportOnnx, exportTfjs } from '../../runtime/export.js';
import { writeFileAtomic } from '../../files/atomic.js';
import { MODEL_MARKER } from '../../data/model-folder.js';
import { UsageError, type Output } from '../io.js';

/** `tlr export MODEL_DIR --format onnx|tfjs [--out PATH] [--softmax] [--force]`. */
export async function exportCommand(args: readonly string[], flags: { format?: string; out?: string; softmax: boolean; force: boolean }, io: Output): Promise<number> {
  if (args.length !== 1) throw new UsageError('tlr export takes one model folder (RUN_DIR/model)');
  const format = flags.format ?? 'onnx';
  if (format !== 'onnx' && format !== 'tfjs') throw new UsageError(`--format takes onnx or tfjs, not ${format}`);
  const dir = path.resolve(args[0]!);
  const out = path.resolve(flags.out ?? (format === 'onnx' ? path.join(path.dirname(dir), 'model.onnx') : `${dir}-tfjs`));
  refuseOverwrite(out, format, flags.force);
  const m = await openModelFolder(dir);
  try {
    if (format === 'onnx') writeFileAtomic(out, exportOnnx(m, { softmax: flags.softmax }));
    else await exportTfjs(m, out, { softmax: flags.softmax });
  } finally {
    m.dispose();
  }
  io.out(`written: ${out}`);
  return 0;
}

/** An existing target is replaced only with --force, and a folder only when tlr wrote it. */
function refuseOverwrite(out: string, format: string, force: boolean): void {
  if (!fs.existsSync(out)) return;
  const isDir = fs.statSync(out).isDirectory();
  if (format === 'onnx' && isDir) throw new UsageError(`${out} is a folder; give --out a file name ending in .onnx`);
  if (format === 'tfjs' && isDir && fs.readdirSync(out).length && !fs.existsSync(path.join(out, MODEL_MARKER))) throw new UsageError(`${out} is a folder tlr did not write; choose another --out`);
  if (!force) throw new UsageError(`${out} exists; add --force to replace it`);
}
