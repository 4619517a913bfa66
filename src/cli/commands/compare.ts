import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Plan } from '../../plan/types.js';
import { writeReportHtml } from '../../runtime/results/report-html.js';
import { writeFileAtomic } from '../../files/atomic.js';
import { renderDiagnostics } from '../../compiler/render.js';
import { run } from '../../runtime/run.js';
import { Events } from '../../runtime/events.js';
import { compileFile, UsageError, type Output } from '../io.js';
import { fixed } from '../../text/format.js';



export interface CompareRow {
  run: string; network: string; weights: string; frozen: string; stages: number; epochs: number; dataset: string;
  split: string; accuracy: number; macroF1: number; seconds: number; imagesPerSecond: number | null; backend: string; dir: string;
}

function row(dir: string): CompareRow {
  const need = ['plan.json', 'report.json', 'metrics.jsonl'].filter((f) => !fs.existsSync(path.join(dir, f)));
  if (need.length) throw new UsageError(`${dir} is not a finished tlr run: ${need.join(', ')} missing`);
  const plan = JSON.parse(fs.readFileSync(path.join(dir, 'plan.json'), 'utf8')) as Plan;
  const report = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8'));
  const epochs = fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').filter(Boolean).length;
  const m = plan.model, w = m.weights;
  const frozen = plan.stages.map((s) => `${Math.round((100 * s.frozen.params) / Math.max(1, m.params))}%`).join(' → ');
  return {
    run: plan.recipe.name, network: `${m.name}${m.width !== null ? ` ${m.width}` : ''} @${m.inputSize}`,
    weights: w.kind === 'imagenet' ? 'imagenet' : w.kind === 'none' ? 'none' : 'file',
    frozen, stages: plan.stages.length, epochs, dataset: path.basename(plan.data.root), split: report.evaluation.split,
    accuracy: report.evaluation.accuracy, macroF1: report.evaluation.macroF1, seconds: report.seconds,
    imagesPerSecond: report.training?.imagesPerSecond ?? null, backend: report.backend ?? '', dir,
  };
}

const minutes = (s: number) => (s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`);
const HEAD = ['run', 'network', 'weights', 'frozen', 'stages', 'epochs', 'data', 'accuracy', 'macro F1', 'time', 'img/s', 'backend'];
const cells = (r: CompareRow) => [r.run, r.network, r.weights, r.frozen, String(r.stages), String(r.epochs), r.dataset, `${fixed((r.accuracy ?? NaN) * 100, 2)}% ${r.split === 'test' ? '' : '(val)'}`.trim(), fixed(r.macroF1, 3), minutes(r.seconds), r.imagesPerSecond ? r.imagesPerSecond.toFixed(0) : '-', r.backend];

/** Rows as aligned text columns. */
export function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd()).join('\n');
}
const markdown = (rows: string[][]) => [`| ${rows[0]!.join(' | ')} |`, `|${rows[0]!.map(() => '---').join('|')}|`, ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`)].join('\n') + '\n';
const csv = (rows: string[][]) => rows.map((r) => r.map((c) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join('\n') + '\n';

/** Networks (with their weights) against data sets: accuracy in each cell. */
export function pivot(rows: CompareRow[]): string[][] {
  const datasets = [...new Set(rows.map((r) => r.dataset))];
  const nets = [...new Set(rows.map((r) => `${r.network} (${r.weights})`))];
  return [['network', ...datasets], ...nets.map((n) => [n, ...datasets.map((d) => {
    const hits = rows.filter((r) => `${r.network} (${r.weights})` === n && r.dataset === d);
    return hits.length ? `${(Math.max(...hits.map((h) => h.accuracy)) * 100).toFixed(2)}%` : '-';
  })])];
}

/** Runs a recipe for the table (its progress is not shown); its run folder, or a usage error saying why not. */
async function runRecipe(file: string, io: Output): Promise<string> {
  const c = compileFile(file);
  if (!c.plan) {
    io.err(renderDiagnostics(c.diagnostics, file, c.text, { color: false }));
    throw new UsageError(`${file} has errors; fix it and compare again`);
  }
  const r = await run({ plan: c.plan, recipeText: c.text, events: new Events() });
  if (r.status !== 'finished') throw new UsageError(`running ${file} was interrupted; compare its run folder once it has finished (tlr run --resume ${r.runDir})`);
  return r.runDir;
}

/** `tlr compare`: a table of runs (recipes are run first), printed and written as compare.md and compare.csv. */
export async function compareCommand(args: readonly string[], flags: { by?: string; out?: string; json: boolean }, io: Output): Promise<number> {
  if (!args.length) throw new UsageError('tlr compare needs run folders or recipes');
  if (flags.by && flags.by !== 'dataset') throw new UsageError(`--by takes dataset, not ${flags.by}`);
  const dirs: string[] = [];
  for (const a of args) {
    if (a.endsWith('.tlr')) dirs.push(await runRecipe(a, io));
    else dirs.push(path.resolve(a));
  }
  const rows = dirs.map(row);
  if (flags.json) {
    io.out(JSON.stringify(rows, null, 2));
    return 0;
  }
  const t = flags.by ? pivot(rows) : [HEAD, ...rows.map(cells)];
  io.out(table(t));
  const out = path.resolve(flags.out ?? '.');
  writeFileAtomic(path.join(out, 'compare.md'), markdown(t));
  writeFileAtomic(path.join(out, 'compare.csv'), csv(flags.by ? t : [[...HEAD, 'run folder'], ...rows.map((r) => [...cells(r), r.dir])]));
  io.out(`\nwritten: ${path.join(out, 'compare.md')}, ${path.join(out, 'compare.csv')}`);
  return 0;
}

/** `tlr report RUN_DIR`: writes the run's report.html again. */
export async function reportCommand(args: readonly string[], _flags: object, io: Output): Promise<number> {
  if (args.length !== 1) throw new UsageError('tlr report takes one run folder');
  const dir = path.resolve(args[0]!);
  if (!fs.existsSync(path.join(dir, 'report.json'))) throw new UsageError(`${args[0]} is not a finished tlr run (it has no report.json)`);
  io.out(`written: ${await writeReportHtml(dir)}`);
  return 0;
}
