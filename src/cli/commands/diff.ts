import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { variantId } from '../../compiler/variants.js';
import { diffPlans } from '../../review/diff.js';
import { diffMarkdown, diffText, meaning, type DiffReport } from '../../review/render-diff.js';
import { prComment, type CommentEntry } from '../../review/pr-comment.js';
import { plural } from '../../text/numbers.js';
import { diffSweeps, type VariantPair, type VariantPlan } from '../../review/sweep-diff.js';
import {
  sweepDiffMarkdown,
  totals as sweepTotals,
  sweepDiffText,
  type SweepDiffReport,
  type SweepSide,
} from '../../review/render-sweep-diff.js';
import { fmtMacs, planCompute, sweepComputes } from '../../review/compute.js';
import { fmtInt } from '../../review/phrases.js';
import { sweepEstimates } from '../estimate-text.js';
import { compiledSide, side, type Compiled } from '../diff-side.js';
import { sweepShape } from '../sweep-text.js';
import { fromGit, gitTop, readSource, verifyRevision, type RecipeSource } from '../sources.js';
import { UsageError, type Output } from '../io.js';
import { TlrError } from '../../errors.js';

interface Flags {
  readonly git: boolean;
  readonly md: boolean;
  readonly json: boolean;
}

const variantsOf = (c: Compiled): VariantPlan[] =>
  c.sweep
    ? c.sweep.variants.map((v) => ({ id: v.variant.id, name: v.variant.name, plan: v.plan! }))
    : [{ id: variantId([]), name: 'the recipe', plan: c.plan }];

/** A side as a whole: its runs, grid, compute and time per engine (null unless every variant has one). */
function sweepSide(label: string, c: Compiled): SweepSide {
  const plans = variantsOf(c).map((v) => v.plan);
  return {
    label,
    runs: plans.length,
    shape: c.sweep ? sweepShape(c.sweep) : '',
    compute: sweepComputes(plans, false).reduce((t, c) => t + c.total, 0),
    estimates: sweepEstimates(plans),
    data: c.data,
  };
}

type Report = { readonly sweep: false; readonly r: DiffReport } | { readonly sweep: true; readonly r: SweepDiffReport };

function report(a: RecipeSource, b: RecipeSource, io: Output): Report {
  const ca = compiledSide(a, io),
    cb = compiledSide(b, io);
  if (ca.plan && cb.plan)
    return {
      sweep: false,
      r: {
        before: side(a.label, ca.plan, ca.data),
        after: side(b.label, cb.plan, cb.data),
        diff: diffPlans(ca.plan, cb.plan),
      },
    };
  const diff = diffSweeps(variantsOf(ca), variantsOf(cb));
  const reports = diff.changed.map(({ pairs: [p], diff: d }) => ({
    before: side(`${a.label} ${p!.before.id}`, p!.before.plan),
    after: side(`${b.label} ${p!.after.id}`, p!.after.plan),
    diff: d,
  }));
  return { sweep: true, r: { before: sweepSide(a.label, ca), after: sweepSide(b.label, cb), diff, reports } };
}

/** A sweep diff as data: variants by id and name, each changed group with its changes. */
const sweepJson = (r: SweepDiffReport) => {
  const v = (x: VariantPlan) => ({ id: x.id, name: x.name });
  const pair = (p: VariantPair) => ({ before: v(p.before), after: v(p.after) });
  return {
    kind: 'sweep',
    before: r.before,
    after: r.after,
    equal: r.diff.equal,
    added: r.diff.added.map(v),
    removed: r.diff.removed.map(v),
    unchanged: r.diff.unchanged.map(pair),
    changed: r.diff.changed.map((g) => ({ pairs: g.pairs.map(pair), ...g.diff })),
  };
};

const equalOf = (x: Report) => (x.sweep ? x.r.diff.equal : x.r.diff.equal);

const render = (x: Report, f: Flags) =>
  x.sweep
    ? f.json
      ? JSON.stringify(sweepJson(x.r), null, 2)
      : f.md
        ? sweepDiffMarkdown(x.r)
        : sweepDiffText(x.r)
    : f.json
      ? JSON.stringify({ before: x.r.before, after: x.r.after, ...x.r.diff }, null, 2)
      : f.md
        ? diffMarkdown(x.r)
        : diffText(x.r);

/** The --json entry of one changed file in --git mode. */
const jsonOf = (x: Report) => (x.sweep ? sweepJson(x.r) : { before: x.r.before, after: x.r.after, ...x.r.diff });

/** A changed recipe's line in the pull-request comment's summary: how much changed, and what it means first. */
function summaryLine(x: Report): string {
  if (x.sweep) return `a sweep; ${sweepTotals(x.r)[0]}`;
  const first = meaning(x.r).find((m) => m.lines.length);
  return `${plural(x.r.diff.changes.length, 'change')}${first ? `; ${first.topic}: ${first.lines[0]}` : ''}`;
}

/** A pull-request comment (--md): nothing at all when nothing that runs changed. */
function printComment(io: Output, entries: readonly CommentEntry[], command: string): void {
  const text = prComment(entries, command);
  if (text) io.out(text);
}

/** `tlr diff`: two recipes, or every recipe changed between two revisions. */
export function diffCommand(args: readonly string[], flags: Flags, io: Output): number {
  if (flags.md && flags.json) throw new UsageError('--md and --json do not go together');
  if (flags.git) return gitDiff(args, flags, io);
  if (args.length !== 2) throw new UsageError('tlr diff takes two recipes (OLD NEW), or --git BASE [HEAD]');
  if (args[0] === '-' && args[1] === '-') throw new UsageError('only one side of tlr diff can be stdin');
  const r = report(readSource(args[0]!), readSource(args[1]!), io);
  if (flags.md) {
    const entry = { file: args[1]!, summary: summaryLine(r), details: render(r, flags) };
    printComment(io, equalOf(r) ? [] : [entry], `tlr diff ${args.join(' ')}`);
  } else io.out(render(r, flags));
  return equalOf(r) ? 0 : 1;
}

interface Entry {
  /** `data`: the recipe is the same, but files in its data folders changed. */
  readonly status: 'added' | 'removed' | 'renamed' | 'modified' | 'data';
  readonly from?: string;
  readonly to?: string;
}

/** Lines of NUL-separated output of a git command run at the repository's root. */
function gitList(args: readonly string[]): string[] {
  const r = spawnSync('git', args, { cwd: gitTop(), maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new UsageError(`git ${args[0]} failed: ${r.stderr.toString().trim()}`);
  return r.stdout.toString().split('\0').filter(Boolean);
}

/** The .tlr files changed between BASE and HEAD (or the work tree), renames paired, as git names them. */
function changedRecipes(base: string, head: string | undefined): Entry[] {
  const f = gitList(['diff', '--name-status', '-M', '-z', base, ...(head ? [head] : []), '--', '*.tlr']);
  const out: Entry[] = [];
  for (let i = 0; i < f.length; ) {
    const s = f[i++]!;
    if (s.startsWith('R')) out.push({ status: 'renamed', from: f[i++], to: f[i++] });
    else if (s === 'A') out.push({ status: 'added', to: f[i++] });
    else if (s === 'D') out.push({ status: 'removed', from: f[i++] });
    else out.push({ status: 'modified', from: f[i], to: f[i++] });
  }
  // Against the work tree, a recipe not yet added to git is new too (git diff does not list untracked files).
  if (!head)
    for (const p of gitList(['ls-files', '--others', '--exclude-standard', '-z', '--', '*.tlr']))
      out.push({ status: 'added', to: p });
  return out;
}

/**
 * The recipes that stay the same but whose data changed between BASE and HEAD (or the work tree, its untracked files
 * included): each unchanged recipe is compiled at HEAD to learn its data folders, then held against the changed paths.
 */
function dataChanged(base: string, head: string | undefined, listed: readonly Entry[]): Entry[] {
  const changed = [
    ...gitList(['diff', '--name-only', '-z', base, ...(head ? [head] : []), '--']),
    ...(head ? [] : gitList(['ls-files', '--others', '--exclude-standard', '-z'])),
  ].filter((p) => !p.endsWith('.tlr'));
  if (!changed.length) return [];
  const seen = new Set(listed.flatMap((e) => [e.from, e.to]));
  // ls-tree takes folders, not globs: list the whole tree and keep the recipes.
  const recipes = (head ? gitList(['ls-tree', '-r', '-z', '--name-only', head]) : gitList(['ls-files', '-z'])).filter(
    (p) => p.endsWith('.tlr'),
  );
  const top = fs.realpathSync(gitTop());
  return recipes
    .filter((p) => !seen.has(p))
    .filter((p) => {
      try {
        const roots = compiledSide(at(head, p), QUIET).roots.map((r) =>
          path.relative(top, r).split(path.sep).join('/'),
        );
        return changed.some((c) => roots.some((r) => c === r || c.startsWith(`${r}/`)));
      } catch (err) {
        if (err instanceof TlrError) return false;
        throw err;
      }
    })
    .map((p) => ({ status: 'data', from: p, to: p }));
}

/** Where a recipe compiled only to find its data prints (nothing). */
const QUIET: Output = { out: () => {}, err: () => {} };

/** The line above an entry's diff that says why it is listed, where its title does not. */
const HEADINGS: Partial<Record<Entry['status'], (e: Entry) => string>> = {
  renamed: (e) => `renamed ${e.from} → ${e.to}\n`,
  data: (e) => `${e.to}: the recipe is the same; files in its data changed\n`,
};

/** One side of an entry: BASE's file from git, HEAD's from git or the work tree. */
const at = (rev: string | undefined, p: string): RecipeSource =>
  rev ? fromGit(rev, p) : { ...readSource(path.join(gitTop(), p)), label: p };

/** An added or removed recipe in a few words: what it trains and what it costs (a sweep: its runs and compute). */
function summaryOf(src: RecipeSource, io: Output): string {
  const compiled = compiledSide(src, io);
  if (compiled.sweep) {
    const w = sweepSide(src.label, compiled);
    return `a sweep of ${w.runs} variants (${w.shape}), ${fmtMacs(w.compute)}MAC in all`;
  }
  const plan = compiled.plan;
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
  const md: CommentEntry[] = [];
  const listed = changedRecipes(base, head);
  for (const e of [...listed, ...dataChanged(base, head, listed)]) {
    try {
      if (e.status === 'added' || e.status === 'removed') {
        const src = e.status === 'added' ? at(head, e.to!) : fromGit(base, e.from!);
        const line = `${e.status} ${src.label}: ${summaryOf(src, io)}`;
        if (flags.json) json.push({ status: e.status, file: e.to ?? e.from, summary: line });
        else if (flags.md) md.push({ file: (e.to ?? e.from)!, summary: `${e.status}`, details: line });
        else io.out(`${line}\n`);
        status = Math.max(status, 1);
        continue;
      }
      const r = report(fromGit(base, e.from!), at(head, e.to!), io);
      if (!equalOf(r)) status = Math.max(status, 1);
      if (flags.json) json.push({ status: e.status, from: e.from, to: e.to, ...jsonOf(r) });
      else if (flags.md && !equalOf(r)) md.push({ file: e.to!, summary: summaryLine(r), details: render(r, flags) });
      else io.out(`${HEADINGS[e.status]?.(e) ?? ''}${render(r, flags)}\n`);
    } catch (err) {
      if (!(err instanceof TlrError)) throw err;
      io.err(`tlr: ${err.message}`);
      status = 2;
    }
  }
  if (flags.json) io.out(JSON.stringify(json, null, 2));
  else if (flags.md) printComment(io, md, `tlr diff --git ${args.join(' ')}`);
  else if (status === 0) io.out(`no recipe changed between ${base} and ${head ?? 'the work tree'}`);
  return status;
}
