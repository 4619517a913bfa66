import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Plan } from '../../contracts/plan.js';
import { writeReportHtml } from '../../report/report-html.js';
import { compareHtml } from '../../report/compare-html.js';
import { writeFileAtomic } from '../../files/atomic.js';
import { outputFileProblem, outputFolderProblem } from '../../data/model-folder.js';
import { dataFoldersOfModel } from '../../runtime/run-folder.js';
import { renderDiagnostics } from '../../compiler/render.js';
import { DEFAULT_ENGINE, engineNamed, runOn, settle } from '../../engines/index.js';
import { Events } from '../../runtime/events.js';
import { compileFile, UsageError, type Output } from '../io.js';
import { fixed, stageLr } from '../../text/numbers.js';
import { headLayerText } from '../../zoo/head-layers.js';
import type { RecipeProvenance } from '../../runtime/provenance.js';
import { stringify } from 'csv-stringify/sync';
import { markdown, table } from '../../text/table.js';
import { isSweepFolder, readSweep } from '../../runtime/sweep-folder.js';
import { sweepData, sweepTable } from '../../report/sweep-table.js';
import { writeSweepReport } from '../../report/sweep-html.js';
import { CSV_SAFE } from '../../escape.js';
import { readContract, readContractLines, type Contracts } from '../../contracts/read.js';

export interface CompareRow {
  run: string;
  id: string;
  finished: string;
  network: string;
  width: number | null;
  input: number;
  weights: string;
  frozen: string;
  stages: number;
  epochs: number;
  lr: string;
  batch: string;
  dataset: string;
  split: string;
  accuracy: number;
  macroF1: number;
  /** The mean per-class recall (null: a report from before tlr recorded it). */
  balancedAccuracy: number | null;
  /** Multi-label: the mean of the labels' average precisions (null: single-label); `accuracy` is then the subset's. */
  map: number | null;
  seconds: number;
  /**
   * Training images per second on stages that run the network on images, and on stages on cached features (null: none).
   */
  imagesPerSecond: number | null;
  cachedImagesPerSecond: number | null;
  backend: string;
  /** The head, and which recipe the run came from: its digest and git revision (`abc1234*`: changed since). */
  head: string;
  digest: string | null;
  revision: string | null;
  dir: string;
}

type Epoch = Contracts['metrics'];

/** Images per second over the epochs of the stages `cached` says (null when there are none). */
function throughput(plan: Plan, epochs: readonly Epoch[], images: number, cached: boolean): number | null {
  const mine = epochs.filter((e) => plan.stages[e.stage - 1]?.featureCache.use === cached);
  const seconds = mine.reduce((t, e) => t + e.seconds, 0);
  return mine.length && seconds > 0 ? (images * mine.length) / seconds : null;
}

/** Why `dir` is not a finished run (a file it lacks), or null. */
const unfinished = (dir: string): string | null => {
  const need = ['plan.json', 'report.json', 'metrics.jsonl'].filter((f) => !fs.existsSync(path.join(dir, f)));
  return need.length ? `${need.join(', ')} missing` : null;
};

/** The recipe a run came from, as its environment.json (or engine.json) recorded it. */
function provenance(dir: string): RecipeProvenance | null {
  for (const f of ['environment.json', 'engine.json'])
    try {
      const r = readContract(f === 'engine.json' ? 'engine' : 'environment', path.join(dir, f)).recipe;
      if (r) return r as RecipeProvenance;
    } catch {}
  return null;
}

function row(dir: string): CompareRow {
  const plan = readContract('plan', path.join(dir, 'plan.json'));
  const report = readContract('report', path.join(dir, 'report.json'));
  const epochs = readContractLines('metrics', path.join(dir, 'metrics.jsonl'));
  const prov = provenance(dir);
  const m = plan.model,
    w = m.weights,
    images = report.training?.images ?? plan.data.counts.train.reduce((a, b) => a + b, 0);
  const share = (s: Plan['stages'][number]) => Math.round((100 * s.frozen.params) / Math.max(1, m.params));
  const frozen = plan.stages.map((s) => `${share(s)}%`).join(' → ');
  return {
    run: plan.recipe.name,
    id: path.basename(dir),
    finished: epochs[epochs.length - 1]?.time ?? '',
    network: m.name,
    width: m.width,
    input: m.inputSize,
    weights: w.kind === 'imagenet' ? 'imagenet' : w.kind === 'none' ? 'none' : 'file',
    frozen,
    stages: plan.stages.length,
    epochs: epochs.length,
    lr: plan.stages
      .map((s) => `${stageLr(s.lr)}${s.lr.schedule.kind === 'constant' ? '' : ` ${s.lr.schedule.kind}`}`)
      .join(' → '),
    batch: [...new Set(plan.stages.map((s) => s.batch))].join(' → '),
    dataset: path.basename(plan.data.root),
    split: report.evaluation.split,
    accuracy: report.evaluation.accuracy,
    macroF1: report.evaluation.macroF1,
    balancedAccuracy: report.evaluation.balancedAccuracy ?? null,
    map: report.evaluation.map ?? null,
    seconds: report.seconds,
    imagesPerSecond: throughput(plan, epochs, images, false),
    cachedImagesPerSecond: throughput(plan, epochs, images, true),
    backend: report.backend ?? '',
    head: plan.head.layers.map(headLayerText).join(' → '),
    digest: prov?.digest.slice(0, 12) ?? null,
    revision: prov?.git ? `${prov.git.commit.slice(0, 7)}${prov.git.dirty ? '*' : ''}` : null,
    dir,
  };
}

const minutes = (s: number) => (s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`);
const rate = (v: number | null) => (v === null ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const HEAD = [
  'run',
  'id',
  'network',
  'width',
  'input',
  'weights',
  'frozen',
  'head',
  'stages',
  'epochs',
  'lr',
  'batch',
  'data',
  'accuracy',
  'balanced',
  'mAP',
  'macro F1',
  'time',
  'img/s',
  'cached img/s',
  'backend',
  'recipe',
];
const cells = (r: CompareRow) => [
  r.run,
  r.id,
  r.network,
  r.width === null ? '-' : String(r.width),
  String(r.input),
  r.weights,
  r.frozen,
  r.head,
  String(r.stages),
  String(r.epochs),
  r.lr,
  r.batch,
  r.dataset,
  `${fixed((r.accuracy ?? NaN) * 100, 2)}% ${r.split === 'test' ? '' : '(val)'}`.trim(),
  r.balancedAccuracy === null ? '-' : `${fixed(r.balancedAccuracy * 100, 2)}%`,
  r.map === null ? '-' : fixed(r.map, 3),
  fixed(r.macroF1, 3),
  minutes(r.seconds),
  rate(r.imagesPerSecond),
  rate(r.cachedImagesPerSecond),
  r.backend,
  `${r.digest ?? '-'}${r.revision ? ` @${r.revision}` : ''}`,
];

/** The CSV: numbers as numbers (accuracy as a fraction, seconds, images per second), for spreadsheets and scripts. */
const csvOf = (rows: readonly CompareRow[]): string =>
  stringify(
    rows.map((r) => ({
      run: r.run,
      id: r.id,
      finished: r.finished,
      network: r.network,
      width: r.width ?? '',
      input: r.input,
      weights: r.weights,
      frozen: r.frozen,
      stages: r.stages,
      epochs: r.epochs,
      lr: r.lr,
      batch: r.batch,
      data: r.dataset,
      split: r.split,
      accuracy: r.accuracy,
      balanced_accuracy: r.balancedAccuracy ?? '',
      map: r.map ?? '',
      macro_f1: r.macroF1,
      seconds: +r.seconds.toFixed(2),
      images_per_second: r.imagesPerSecond === null ? '' : +r.imagesPerSecond.toFixed(2),
      cached_images_per_second: r.cachedImagesPerSecond === null ? '' : +r.cachedImagesPerSecond.toFixed(2),
      backend: r.backend,
      head: r.head,
      recipe_digest: r.digest ?? '',
      revision: r.revision ?? '',
      run_folder: r.dir,
    })),
    { header: true, ...CSV_SAFE },
  );

const csv = (rows: string[][]) => stringify(rows, CSV_SAFE);
const csvData = (rows: (string | number | boolean | null)[][]) => stringify(rows, CSV_SAFE);

/** Mean and sample standard deviation. */
const meanSd = (xs: readonly number[]): [number, number] => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return [mean, xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1)) : 0];
};

/**
 * Recipes against data sets: accuracy in each cell. Runs pool only when they ran the very same recipe
 * (its digest; older runs without one, by name and network): repeats show as mean ± sd (n).
 */
export function pivot(rows: CompareRow[]): string[][] {
  const net = (r: CompareRow) => `${r.network}${r.width !== null ? ` ${r.width}` : ''} @${r.input} (${r.weights})`;
  const key = (r: CompareRow) => r.digest ?? `${r.run}|${net(r)}`;
  const label = (r: CompareRow) => `${r.run}: ${net(r)}${r.digest ? ` [${r.digest.slice(0, 8)}]` : ''}`;
  const datasets = [...new Set(rows.map((r) => r.dataset))];
  const recipes = [...new Map(rows.map((r) => [key(r), r])).values()];
  return [
    ['recipe', ...datasets],
    ...recipes.map((first) => [
      label(first),
      ...datasets.map((d) => {
        const hits = rows.filter((r) => key(r) === key(first) && r.dataset === d).map((r) => r.accuracy * 100);
        if (!hits.length) return '-';
        if (hits.length === 1) return `${hits[0]!.toFixed(2)}%`;
        const [mean, sd] = meanSd(hits);
        return `${mean.toFixed(2)}% ± ${sd.toFixed(2)} (n=${hits.length})`;
      }),
    ]),
  ];
}

/** `tlr compare`: a table of runs (recipes are run first), printed and written as compare.md and compare.csv. */
/** Runs a recipe for the table (its progress is not shown); its run folder, or a usage error saying why not. */
async function runRecipe(file: string, io: Output): Promise<string> {
  const c = compileFile(file);
  if (!c.plan) {
    io.err(renderDiagnostics(c.diagnostics, file, c.text, { color: false }));
    throw new UsageError(`${file} has errors; fix it and compare again`);
  }
  const engine = engineNamed(DEFAULT_ENGINE);
  const r = await runOn(engine, {
    plan: c.plan,
    recipeText: c.text,
    events: new Events(),
    settings: await settle(engine, {}),
  });
  if (r.status !== 'finished')
    throw new UsageError(
      `running ${file} was interrupted; compare its run folder once it has finished (tlr run --resume ${r.runDir})`,
    );
  return r.runDir;
}

export async function compareCommand(
  args: readonly string[],
  flags: { by?: string; out?: string; json: boolean },
  io: Output,
): Promise<number> {
  if (!args.length) throw new UsageError('tlr compare needs run folders or recipes');
  if (args.length === 1 && isSweepFolder(args[0]!)) return compareSweep(args[0]!, flags, io);
  if (flags.by && flags.by !== 'dataset') throw new UsageError(`--by takes dataset, not ${flags.by}`);
  const dirs: string[] = [];
  for (const a of args) {
    if (a.endsWith('.tlr')) dirs.push(await runRecipe(a, io));
    else dirs.push(path.resolve(a));
  }
  const finished = dirs.filter((d) => {
    const why = unfinished(d);
    if (why) io.err(`tlr: warning: skipping ${d}: not a finished tlr run (${why})`);
    return !why;
  });
  if (!finished.length) throw new UsageError('none of these is a finished tlr run; nothing to compare');
  const rows = finished.map(row);
  if (flags.json) {
    io.out(JSON.stringify(rows, null, 2));
    return 0;
  }
  const t = flags.by ? pivot(rows) : [HEAD, ...rows.map(cells)];
  io.out(table(t));
  // By default beside the runs (runs/<recipe>/<time>/ → runs/), which git ignores: never untracked files at the
  // root of the repository the command was typed in.
  const out = path.resolve(flags.out ?? path.dirname(path.dirname(rows[0]!.dir)));
  refuseOutput(
    out,
    rows.map((r) => r.dir),
  );
  writeFileAtomic(path.join(out, 'compare.md'), markdown(t));
  writeFileAtomic(path.join(out, 'compare.csv'), flags.by ? csv(t) : csvOf(rows));
  writeFileAtomic(
    path.join(out, 'compare.html'),
    compareHtml(
      rows.map((r) => r.dir),
      rows.map((r) => `${r.run} ${r.id}`),
      t,
    ),
  );
  io.out(
    `\nwritten: ${path.join(out, 'compare.md')}, ${path.join(out, 'compare.csv')}, ${path.join(out, 'compare.html')}`,
  );
  return 0;
}

/**
 * compare.md, .csv and .html go into `out` (a folder they share with what is there) and replace
 * their own earlier copies; never a link, device or FIFO, never in or around a compared run's data.
 */
function refuseOutput(out: string, runs: readonly string[]): void {
  const data = runs.flatMap((d) => dataFoldersOfModel(path.join(d, 'model')));
  const files = ['compare.md', 'compare.csv', 'compare.html'];
  const problem =
    outputFolderProblem(out, { data, marker: '', shared: true }) ??
    files.map((f) => outputFileProblem(path.join(out, f), { data, replace: true })).find(Boolean);
  if (problem) throw new UsageError(`cannot write the comparison into ${out}: ${problem}`);
}

/** `tlr report RUN_DIR`: writes the run's report.html again. */
export async function reportCommand(args: readonly string[], _flags: object, io: Output): Promise<number> {
  if (args.length !== 1) throw new UsageError('tlr report takes one run folder');
  const dir = path.resolve(args[0]!);
  if (isSweepFolder(dir)) {
    io.out(`written: ${writeSweepReport(dir, readSweep(dir))}`);
    return 0;
  }
  if (!fs.existsSync(path.join(dir, 'report.json')))
    throw new UsageError(`${args[0]} is not a finished tlr run (it has no report.json)`);
  io.out(`written: ${await writeReportHtml(dir)}`);
  return 0;
}

/**
 * `tlr compare SWEEP_DIR`: the sweep's table (variants as rows, the varied values as columns), or with `--by A,B` one
 * varied value against another; written as compare.md and compare.csv in the sweep folder (or --out).
 */
function compareSweep(dir: string, flags: { by?: string; out?: string; json: boolean }, io: Output): number {
  const record = readSweep(dir);
  if (flags.json) {
    io.out(
      JSON.stringify(
        record.variants.map(({ plan: _plan, ...v }) => v),
        null,
        2,
      ),
    );
    return 0;
  }
  const by = flags.by?.split(',');
  const slots = record.groups.map((g) => g.slot);
  if (by && (by.length !== 2 || by.some((s) => !slots.includes(s))))
    throw new UsageError(
      `--by takes two varied values, ROWS,COLUMNS, from this sweep's: ${slots.join(', ')} (not ${flags.by})`,
    );
  const t = sweepTable(dir, record, by as [string, string] | undefined);
  io.out(t.text);
  const out = path.resolve(flags.out ?? dir);
  refuseOutput(
    out,
    record.variants.flatMap((v) => (v.runDir ? [path.resolve(dir, v.runDir)] : [])),
  );
  writeFileAtomic(path.join(out, 'compare.md'), t.markdown);
  // The CSV holds the data (numbers as numbers); a pivot's cells are its table's.
  writeFileAtomic(path.join(out, 'compare.csv'), by ? csv(t.rows) : csvData(sweepData(record)));
  io.out(`\nwritten: ${path.join(out, 'compare.md')}, ${path.join(out, 'compare.csv')}`);
  return 0;
}
