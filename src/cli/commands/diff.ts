import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compile } from '../../compiler/index.js';
import { diffPlans, runKey } from '../../review/diff.js';
import { diffMarkdown, diffText, type DiffReport, type RunResult, type Side } from '../../review/render-diff.js';
import { planCompute } from '../../review/compute.js';
import { estimates } from '../estimate-text.js';
import { engineVerdicts } from '../plan-engines.js';
import { fromGit, gitTop, problemsText, readSource, verifyRevision, type RecipeSource } from '../sources.js';
import { useColor, UsageError, type Output } from '../io.js';
import { TlrError } from '../../errors.js';
import { fmtMacs } from '../../review/compute.js';
import { fmtInt } from '../../review/phrases.js';
import type { Plan } from '../../plan/types.js';

export const DIFF_HELP = `usage: tlr diff OLD NEW [--md | --json]
       tlr diff --git BASE [HEAD] [--md | --json]

Compares what two recipes would run, not their text: the plans, grouped by model, data, head,
freezing, training and save, each as before → after, then what the change means: parameters that
start or stop training, whether cached features stay valid, the compute per epoch and per run (and
a time estimate per engine once \`tlr doctor --calibrate\` has measured this machine), which engines
can run it, and the latest finished runs of both plans when there are some.
OLD and NEW are files, \`-\` (stdin) or git objects as \`git show\` takes them (REV:PATH; PATH from
the repository's root, or from here when it starts with ./).
  --git BASE [HEAD]  every .tlr file changed between two revisions (HEAD: the work tree),
                     added, removed and renamed ones too
  --md               Markdown (a pull-request comment, $GITHUB_STEP_SUMMARY)
  --json             the comparison as data
Exit status: 0 when the plans are equal (a change of comments or layout only), 1 when they differ,
2 on a usage error or a recipe that does not check.`;

interface Flags {
  readonly git: boolean;
  readonly md: boolean;
  readonly json: boolean;
}

/** A side compiled; diagnostics printed and a usage error when it does not check. */
function planOf(src: RecipeSource, io: Output): Plan {
  const c = compile(src.text, { file: path.resolve(src.file) });
  if (c.plan) return c.plan;
  io.err(problemsText(src, c.diagnostics, useColor(process.stderr)));
  throw new UsageError(`${src.label} does not check; tlr diff compares recipes that do`);
}

/** The latest finished run of exactly this plan in its runs folder, if any. */
function latestRun(plan: Plan): RunResult | null {
  const root = plan.output.runsDir;
  let names: string[];
  try {
    names = fs.readdirSync(root).sort().reverse();
  } catch {
    return null;
  }
  for (const n of names) {
    const dir = path.join(root, n);
    try {
      const p = JSON.parse(fs.readFileSync(path.join(dir, 'plan.json'), 'utf8')) as Plan;
      if (runKey(p) !== runKey(plan)) continue;
      const r = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8'));
      return {
        dir,
        accuracy: r.evaluation?.accuracy ?? null,
        split: r.evaluation?.split ?? 'test',
        loss: r.evaluation?.loss ?? null,
        seconds: r.seconds ?? 0,
      };
    } catch {}
  }
  return null;
}

/** One side of a diff: a plan with its engines, its latest run and its time estimates. */
export function side(label: string, plan: Plan): Side {
  return { label, engines: engineVerdicts(plan), result: latestRun(plan), estimates: estimates(plan) };
}

function report(a: RecipeSource, b: RecipeSource, io: Output): DiffReport {
  const pa = planOf(a, io),
    pb = planOf(b, io);
  return { before: side(a.label, pa), after: side(b.label, pb), diff: diffPlans(pa, pb) };
}

const render = (r: DiffReport, f: Flags) =>
  f.json
    ? JSON.stringify({ before: r.before, after: r.after, ...r.diff }, null, 2)
    : f.md
      ? diffMarkdown(r)
      : diffText(r);

/** `tlr diff`: two recipes, or every recipe changed between two revisions. */
export function diffCommand(args: readonly string[], flags: Flags, io: Output): number {
  if (flags.md && flags.json) throw new UsageError('--md and --json do not go together');
  if (flags.git) return gitDiff(args, flags, io);
  if (args.length !== 2) throw new UsageError('tlr diff takes two recipes (OLD NEW), or --git BASE [HEAD]');
  if (args[0] === '-' && args[1] === '-') throw new UsageError('only one side of tlr diff can be stdin');
  const r = report(readSource(args[0]!), readSource(args[1]!), io);
  io.out(render(r, flags));
  return r.diff.equal ? 0 : 1;
}

interface Entry {
  readonly status: 'added' | 'removed' | 'renamed' | 'modified';
  readonly from?: string;
  readonly to?: string;
}

/** The .tlr files changed between BASE and HEAD (or the work tree), renames paired, as git names them. */
function changedRecipes(base: string, head: string | undefined): Entry[] {
  const args = ['diff', '--name-status', '-M', '-z', base, ...(head ? [head] : []), '--', '*.tlr'];
  const r = spawnSync('git', args, { cwd: gitTop() });
  if (r.status !== 0) throw new UsageError(`git diff failed: ${r.stderr.toString().trim()}`);
  const f = r.stdout.toString().split('\0').filter(Boolean);
  const out: Entry[] = [];
  for (let i = 0; i < f.length; ) {
    const s = f[i++]!;
    if (s.startsWith('R')) out.push({ status: 'renamed', from: f[i++], to: f[i++] });
    else if (s === 'A') out.push({ status: 'added', to: f[i++] });
    else if (s === 'D') out.push({ status: 'removed', from: f[i++] });
    else out.push({ status: 'modified', from: f[i], to: f[i++] });
  }
  return out;
}

/** One side of an entry: BASE's file from git, HEAD's from git or the work tree. */
const at = (rev: string | undefined, p: string): RecipeSource =>
  rev ? fromGit(rev, p) : { ...readSource(path.join(gitTop(), p)), label: p };

/** An added or removed recipe in a few words: what it trains and what it costs. */
function summaryOf(src: RecipeSource, io: Output): string {
  const plan = planOf(src, io);
  const c = planCompute(plan);
  const trains = plan.stages.map((s) => fmtInt(s.trainable.backboneParams + s.trainable.headParams)).join(' → ');
  return `${plan.model.name}, ${plan.stages.length} stage(s) training ${trains} parameters, ${fmtMacs(c.total)}MAC`;
}

function gitDiff(args: readonly string[], flags: Flags, io: Output): number {
  if (args.length < 1 || args.length > 2) throw new UsageError('tlr diff --git takes BASE and, optionally, HEAD');
  const [base, head] = args as [string, string | undefined];
  gitTop();
  verifyRevision(base);
  if (head) verifyRevision(head);
  let status = 0;
  const json: object[] = [];
  const md: string[] = [];
  for (const e of changedRecipes(base, head)) {
    try {
      if (e.status === 'added' || e.status === 'removed') {
        const src = e.status === 'added' ? at(head, e.to!) : fromGit(base, e.from!);
        const line = `${e.status} ${src.label}: ${summaryOf(src, io)}`;
        if (flags.json) json.push({ status: e.status, file: e.to ?? e.from, summary: line });
        else if (flags.md) md.push(`### tlr diff: \`${e.to ?? e.from}\` ${e.status}\n\n${line}\n`);
        else io.out(`${line}\n`);
        status = Math.max(status, 1);
        continue;
      }
      const r = report(fromGit(base, e.from!), at(head, e.to!), io);
      if (!r.diff.equal) status = Math.max(status, 1);
      if (flags.json)
        json.push({ status: e.status, from: e.from, to: e.to, before: r.before, after: r.after, ...r.diff });
      else if (flags.md) md.push(diffMarkdown(r));
      else io.out(`${e.status === 'renamed' ? `renamed ${e.from} → ${e.to}\n` : ''}${diffText(r)}\n`);
    } catch (err) {
      if (!(err instanceof TlrError)) throw err;
      io.err(`tlr: ${err.message}`);
      status = 2;
    }
  }
  if (flags.json) io.out(JSON.stringify(json, null, 2));
  else if (flags.md) io.out(md.length ? md.join('\n') : 'No recipe changed.\n');
  else if (status === 0) io.out(`no recipe changed between ${base} and ${head ?? 'the work tree'}`);
  return status;
}
