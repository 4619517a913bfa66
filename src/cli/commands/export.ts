import * as fs from 'node:fs';
import * as path from 'node:path';
import { openModelFolder } from './predict.js';
import { exportOnnx, exportTfjs } from '../../engines/tfjs/export.js';
import { writeFileAtomic } from '../../files/atomic.js';
import { MODEL_MARKER } from '../../data/model-folder.js';
import { compileFile, UsageError, type Output } from '../io.js';
import { renderDiagnostics, summary } from '../../compiler/render.js';

/** `tlr export MODEL_DIR --format onnx|tfjs [--out PATH] [--softmax] [--force]`. */
export async function exportCommand(args: readonly string[], flags: { format?: string; out?: string; softmax: boolean; force: boolean; torchrun?: string; nproc?: string }, io: Output): Promise<number> {
  if (flags.torchrun !== undefined) return exportJob(args, flags.torchrun, flags.nproc, io);
  if (flags.nproc !== undefined) throw new UsageError('--nproc goes with --torchrun DIR (a job folder for the torch engine)');
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

/** `tlr export RECIPE --torchrun DIR [--nproc N]`: a job folder for the torch engine on a cluster. */
async function exportJob(args: readonly string[], dir: string, nprocText: string | undefined, io: Output): Promise<number> {
  if (args.length !== 1 || !args[0]!.endsWith('.tlr')) throw new UsageError('tlr export RECIPE.tlr --torchrun DIR writes a job folder for a recipe; give one .tlr file');
  const nproc = nprocText === undefined ? 1 : Number(nprocText);
  if (!Number.isInteger(nproc) || nproc < 1) throw new UsageError(`--nproc ${nprocText}: give a whole number of processes per machine`);
  const c = compileFile(args[0]!);
  if (c.diagnostics.length) io.err(`${renderDiagnostics(c.diagnostics, args[0]!, c.text, { color: false })}\n\n${args[0]}: ${summary(c.diagnostics)}\n`);
  if (!c.plan) return 1;
  const { torchUnsupported } = await import('../../engines/torch/job.js');
  const why = torchUnsupported(c.plan);
  if (why) throw new UsageError(why);
  const { writeJobFolder } = await import('../../engines/torch/job-folder.js');
  const out = path.resolve(dir);
  for (const w of await writeJobFolder(c.plan, c.text, out, { nproc })) io.err(`warning: ${w}`);
  io.out(`written: ${out} (launch.sh runs it: ${nproc} process${nproc > 1 ? 'es' : ''} here, or NNODES=… RDZV_ENDPOINT=host:port on each machine; slurm.sbatch is an example)`);
  return 0;
}
