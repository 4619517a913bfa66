import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  INT8_DEFAULTS,
  models,
  recipeExports,
  type FlagValues,
  type Int8Outcome,
  type RecipeExport,
} from '../../engines/index.js';
import { writeFileAtomic } from '../../files/atomic.js';
import { MODEL_MARKER, outputFileProblem, outputFolderProblem } from '../../data/model-folder.js';
import { dataFolders, dataFoldersOfModel } from '../../runtime/run-folder.js';
import { compileFile, UsageError, type Output } from '../io.js';
import { numberFlag } from '../number-flag.js';
import { renderDiagnostics, summary } from '../../compiler/render.js';
import type { Sweep } from '../../compiler/index.js';
import { stringify } from 'csv-stringify/sync';
import { CSV_SAFE } from '../../escape.js';

export interface ExportFlags {
  readonly format?: string;
  readonly out?: string;
  readonly softmax: boolean;
  readonly force: boolean;
  readonly int8: boolean;
  readonly gate?: string;
  readonly calibration?: string;
  /** Every flag value, for the recipe exports' own flags (--torchrun DIR, --nproc N). */
  readonly values: FlagValues;
}

/**
 * `tlr export MODEL_DIR --format onnx|tfjs [--out PATH] [--softmax] [--force]`, or a recipe export (--torchrun DIR).
 */
export async function exportCommand(args: readonly string[], flags: ExportFlags, io: Output): Promise<number> {
  const asked = recipeExports().find((x) => flags.values[x.flag] !== undefined);
  if (asked) return exportRecipe(args, asked, flags, io);
  const stray = recipeExports().flatMap((x) =>
    Object.keys(x.flags)
      .filter((n) => flags.values[n] !== undefined)
      .map((n) => `--${n} goes with --${x.flag}`),
  );
  if (stray.length) throw new UsageError(stray.join('; '));
  if (args.length !== 1) throw new UsageError('tlr export takes one model folder (RUN_DIR/model)');
  if (flags.int8) return exportInt8(path.resolve(args[0]!), flags, io);
  const alone = (['gate', 'calibration'] as const).filter((n) => flags[n] !== undefined);
  if (alone.length)
    throw new UsageError(`${alone.map((n) => `--${n}`).join(' and ')} go${alone.length > 1 ? '' : 'es'} with --int8`);
  const format = flags.format ?? 'onnx';
  if (format !== 'onnx' && format !== 'tfjs') throw new UsageError(`--format takes onnx or tfjs, not ${format}`);
  const dir = path.resolve(args[0]!);
  const out = path.resolve(
    flags.out ?? (format === 'onnx' ? path.join(path.dirname(dir), 'model.onnx') : `${dir}-tfjs`),
  );
  refuseOverwrite(out, format, flags.force, dataFoldersOfModel(dir));
  const service = await models();
  const m = await service.open(dir);
  try {
    if (format === 'onnx') writeFileAtomic(out, service.exportOnnx(m, { softmax: flags.softmax }));
    else await service.exportTfjs(m, out, { softmax: flags.softmax });
  } finally {
    m.dispose();
  }
  io.out(`written: ${out}`);
  return 0;
}

/**
 * `tlr export MODEL_DIR --int8`: quantized and measured first; written (MODEL_DIR/int8.onnx and int8.json, and the
 * export) only when the gate passes, or with --force, which the record keeps.
 */
async function exportInt8(dir: string, flags: ExportFlags, io: Output): Promise<number> {
  if (flags.format !== undefined && flags.format !== 'onnx')
    throw new UsageError(`--int8 writes ONNX; it does not go with --format ${flags.format}`);
  const gate = numberFlag('gate', flags.gate, INT8_DEFAULTS.gate, (n) => n >= 0 && n <= 100, 'points from 0 to 100');
  const calibration = numberFlag(
    'calibration',
    flags.calibration,
    INT8_DEFAULTS.calibration,
    (n) => Number.isInteger(n) && n >= 1 && n <= 100_000,
    'a whole number of images from 1 to 100000',
  );
  // int8.onnx and int8.json go into the model folder: only one tlr made (and may replace files in).
  if (!fs.existsSync(path.join(dir, MODEL_MARKER)))
    throw new UsageError(
      `${dir} has no ${MODEL_MARKER}: tlr writes an int8 model only into a model folder one of its runs made`,
    );
  const out = path.resolve(flags.out ?? path.join(path.dirname(dir), 'model.int8.onnx'));
  const data = dataFoldersOfModel(dir);
  refuseOverwrite(out, 'onnx', flags.force, data);
  const service = await models();
  const m = await service.open(dir);
  try {
    const r = await service.quantize(m, {
      gate,
      calibration,
      force: flags.force ? 'written with --force' : null,
      softmax: flags.softmax,
      onProgress: (msg) => io.err(`int8: ${msg}`),
    });
    for (const line of int8Lines(r.record)) io.err(line);
    if (r.refusal && !flags.force) {
      io.err(
        `int8 refused: ${r.refusal}; nothing was written (--gate POINTS allows a larger fall, --force writes it ` +
          'anyway)',
      );
      return 1;
    }
    writeFileAtomic(path.join(dir, 'int8.onnx'), r.model);
    writeFileAtomic(path.join(dir, 'int8.json'), `${JSON.stringify(r.record, null, 2)}\n`);
    writeFileAtomic(out, r.exported);
    if (r.refusal) io.err(`warning: written although the gate refused it: ${r.refusal}`);
  } finally {
    m.dispose();
  }
  io.out(`written: ${out} (and ${path.join(dir, 'int8.onnx')}, with its figures in int8.json)`);
  return 0;
}

/** The figures the gate decided on, as lines. */
function int8Lines(r: Int8Outcome['record']): string[] {
  const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
  return [
    ...r.parts.map(
      (p) =>
        `int8: ${p.part} (${p.images} images): ${r.metric} ${pct(p.fp32)} in float, ${pct(p.int8)} in int8 ` +
        `(${((p.int8 - p.fp32) * 100).toFixed(2)} points)`,
    ),
    `int8: speed: ${r.speed.int8.toFixed(1)} images/s against ${r.speed.fp32.toFixed(1)} in float ` +
      `(${r.speed.ratio.toFixed(2)}x; batch ${r.speed.batch}, ${r.speed.threads} threads, ` +
      `median of ${r.speed.repeats})`,
  ];
}

/**
 * Where an export may go: the rules of `save … to` for every output (never a link, a device or
 * FIFO, never in or around the data folder of the model's run), and an existing target is replaced
 * only with --force, a folder only when tlr wrote it.
 */
function refuseOverwrite(out: string, format: string, force: boolean, data: readonly string[]): void {
  const problem =
    format === 'onnx'
      ? outputFileProblem(out, { data, replace: force })
      : outputFolderProblem(out, { data, marker: MODEL_MARKER });
  if (problem) throw new UsageError(`cannot export to ${out}: ${problem}`);
  if (format === 'tfjs' && fs.existsSync(out) && fs.readdirSync(out).length && !force)
    throw new UsageError(`cannot export to ${out}: it exists; add --force to replace it`);
}

/** `tlr export RECIPE --torchrun DIR [--nproc N]`: the recipe written out for the engine that runs it elsewhere. */
async function exportRecipe(args: readonly string[], x: RecipeExport, flags: ExportFlags, io: Output): Promise<number> {
  const given = ['format', 'out', 'softmax', 'force', 'int8', 'gate', 'calibration'].filter(
    (n) => flags.values[n] !== undefined && flags.values[n] !== false,
  );
  if (given.length)
    throw new UsageError(
      `${given.map((n) => `--${n}`).join(', ')} ${given.length > 1 ? 'do' : 'does'} not go with --${x.flag} (it ` +
        `writes a folder of its own)`,
    );
  if (args.length !== 1 || !args[0]!.endsWith('.tlr'))
    throw new UsageError(`tlr export RECIPE.tlr --${x.flag} DIR writes a folder for a recipe; give one .tlr file`);
  const out = path.resolve(String(flags.values[x.flag]));
  const c = compileFile(args[0]!, { sweeps: true });
  if (c.diagnostics.length)
    io.err(
      `${renderDiagnostics(c.diagnostics, args[0]!, c.text, { color: false })}\n\n${args[0]}: ` +
        `${summary(c.diagnostics)}\n`,
    );
  if (c.sweep) return exportSweep(c.sweep, x, out, flags, io);
  if (!c.plan) return 1;
  const problem = outputFolderProblem(out, { data: dataFolders(c.plan), marker: x.marker });
  if (problem) throw new UsageError(`--${x.flag} ${flags.values[x.flag]}: cannot write the job there: ${problem}`);
  for (const w of await x.write(c.plan, c.text, out, flags.values)) io.err(`warning: ${w}`);
  io.out(x.written(out, flags.values));
  return 0;
}

/** The file that marks a folder of a sweep's jobs as tlr's. */
const SWEEP_JOBS_MARKER = '.tlr-sweep-jobs';

/**
 * A sweep exported: one folder per variant (named by its id), variants.tsv, and the engine's array script. Early
 * stopping (`keep best`) needs the variants side by side, so an array runs each to the end (said as a warning).
 */
async function exportSweep(sweep: Sweep, x: RecipeExport, out: string, flags: ExportFlags, io: Output) {
  const variants = sweep.variants.flatMap((v) => (v.plan ? [{ ...v.variant, plan: v.plan }] : []));
  if (variants.length !== sweep.variants.length) return 1;
  const data = [...new Set(variants.flatMap((v) => dataFolders(v.plan)))];
  const problem = outputFolderProblem(out, { data, marker: SWEEP_JOBS_MARKER });
  if (problem) throw new UsageError(`--${x.flag} ${flags.values[x.flag]}: cannot write the jobs there: ${problem}`);
  fs.mkdirSync(out, { recursive: true });
  writeFileAtomic(path.join(out, SWEEP_JOBS_MARKER), 'tlr export of a sweep\n');
  for (const v of variants)
    for (const w of await x.write(v.plan, v.text, path.join(out, v.id), flags.values)) io.err(`warning: ${v.id}: ${w}`);
  // A variant's name is recipe text: quoted where it holds a tab, a quote or a newline, never a live formula.
  const rows = variants.map((v, i) => [i, v.id, v.name]);
  writeFileAtomic(
    path.join(out, 'variants.tsv'),
    stringify([['index', 'id', 'variant'], ...rows], { delimiter: '\t', ...CSV_SAFE }),
  );
  const script = x.sweepScript?.(variants, flags.values);
  if (script) fs.writeFileSync(path.join(out, script[0]), script[1], { mode: 0o755 });
  if (sweep.keep)
    io.err(
      `warning: keep best ${sweep.keep.best} after ${sweep.keep.after} epochs is not applied to exported jobs: ` +
        'each variant trains to the end (tlr run applies it, running the variants in turn)',
    );
  io.out(
    `written: ${out} (${variants.length} job folders, one per variant, listed in variants.tsv` +
      `${script ? `; sbatch ${path.join(out, script[0])} runs them as an array` : ''})`,
  );
  return 0;
}
