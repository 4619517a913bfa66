import { fmtMacs, planCompute } from './compute.js';
import {
  cell,
  dataLines,
  mdSentence,
  diffBody,
  diffMarkdown,
  pct,
  type DataSeen,
  type DiffReport,
} from './render-diff.js';
import type { SweepDiff, VariantPair, VariantPlan } from './sweep-diff.js';
import { trainableParams } from '../contracts/plan.js';
import { duration, fmtInt } from './phrases.js';
import { printable } from '../printable.js';

// `tlr diff` of sweeps as text and as Markdown: the runs and the whole sweep's cost before and
// after, the variants added and removed, those that stay valid, and each group of changed variants
// said as `tlr diff` says one change (its first pair stands for the group).

/** One side as a whole: how many runs, its grid in words, its compute and time. */
export interface SweepSide {
  readonly label: string;
  readonly runs: number;
  /** The grid in words (`lr ×2, head ×2`); empty for a plain recipe. */
  readonly shape: string;
  /** Multiply-accumulates of every variant run to its end, what variants share (a feature cache) counted once. */
  readonly compute: number;
  /**
   * Seconds per engine for every variant, with nothing cached (`seconds`) and with the caches a run before made
   * (`warm`); null where the engine is not calibrated or cannot run one.
   */
  readonly estimates: readonly {
    readonly engine: string;
    readonly seconds: number | null;
    readonly warm: number | null;
  }[];
  readonly data: DataSeen;
}

export interface SweepDiffReport {
  readonly before: SweepSide;
  readonly after: SweepSide;
  readonly diff: SweepDiff;
  /** One per changed group, for its first pair. */
  readonly reports: readonly DiffReport[];
}

/** A variant in a few words: id, choices, what trains and what it costs. */
export const variantLine = (v: VariantPlan): string => {
  return `${v.id} (${v.name}): ${fmtInt(trainableParams(v.plan))} trainable, ${fmtMacs(planCompute(v.plan).total)}MAC`;
};

const pairText = (p: VariantPair) =>
  p.before.id === p.after.id ? `${p.after.id} (${p.after.name})` : `${p.before.name} → ${p.after.id} (${p.after.name})`;

const shapeOf = (s: SweepSide) => (s.shape ? `${s.runs} (${s.shape})` : `${s.runs} (a recipe)`);

/** The lines on the whole: runs, compute and time before → after. */
export function totals(r: SweepDiffReport): string[] {
  const time = r.after.estimates.map((e) => {
    const before = r.before.estimates.find((x) => x.engine === e.engine);
    if (e.seconds === null || !before || before.seconds === null)
      return `${e.engine}: not calibrated here, or it cannot run every variant`;
    const warm =
      e.warm !== null && before.warm !== null
        ? ` (with the caches filled: ${duration(before.warm)} → ${duration(e.warm)})`
        : '';
    return `${e.engine}: about ${duration(before.seconds)} → about ${duration(e.seconds)}${warm}`;
  });
  return [
    `runs: ${shapeOf(r.before)} → ${shapeOf(r.after)}`,
    `whole sweep: ${fmtMacs(r.before.compute)}MAC → ` +
      `${fmtMacs(r.after.compute)}MAC${pct(r.before.compute, r.after.compute)} ` +
      '(every variant run to its end; what variants share counted once)',
    ...time.map((t) => `time: ${t}`),
  ];
}

const count = (n: number) => `${n} variant${n === 1 ? '' : 's'}`;

/** The sweep diff for a terminal. */
export function sweepDiffText(r: SweepDiffReport): string {
  const d = r.diff;
  const data = dataLines(r, 'comments, layout or order');
  const L = [printable(`tlr diff · ${r.before.label} → ${r.after.label}`), ...data.seen.map(printable), ''];
  if (d.equal) return [...L, data.equal].join('\n');
  L.push(...totals(r).map(printable), '');
  const list = (title: string, vs: readonly VariantPlan[]) => {
    L.push(`${title}: ${vs.length ? count(vs.length) : 'none'}`);
    for (const v of vs) L.push(printable(`  ${variantLine(v)}`));
  };
  list('added', d.added);
  list('removed', d.removed);
  L.push(
    d.unchanged.length
      ? `unchanged: ${count(d.unchanged.length)} (${d.unchanged.map((p) => p.after.id).join(', ')}): the same ` +
          `plan, finished runs stay valid`
      : 'unchanged: none',
  );
  for (const [i, g] of d.changed.entries()) {
    const many = g.pairs.length > 1;
    L.push('', `changed: ${count(g.pairs.length)}${many ? ', alike' : ''}`);
    for (const p of g.pairs) L.push(printable(`  ${pairText(p)}`));
    if (many) L.push(`  as ${g.pairs[0]!.after.id} shows (the others change alike):`);
    L.push(...diffBody(r.reports[i]!).map((l) => (l ? `  ${l}` : l)));
  }
  return L.join('\n');
}

/** The sweep diff for a pull-request comment or a job summary. */
export function sweepDiffMarkdown(r: SweepDiffReport): string {
  const d = r.diff;
  const data = dataLines(r, 'comments, layout or order');
  const L = [`### tlr diff: \`${cell(r.before.label)}\` → \`${cell(r.after.label)}\``, ''];
  if (data.seen.length) L.push(...data.seen.map((l) => `- ${cell(l)}`), '');
  if (d.equal) return [...L, mdSentence(data.equal), ''].join('\n');
  L.push(...totals(r).map((t) => `- ${cell(t)}`), '');
  const list = (title: string, vs: readonly VariantPlan[]) => {
    if (!vs.length) return;
    L.push(`**${title}** (${count(vs.length)})`, '', ...vs.map((v) => `- ${cell(variantLine(v))}`), '');
  };
  list('Added', d.added);
  list('Removed', d.removed);
  if (d.unchanged.length)
    L.push(`**Unchanged** (${count(d.unchanged.length)}): ${d.unchanged.map((p) => p.after.id).join(', ')}`, '');
  for (const [i, g] of d.changed.entries()) {
    const title = g.pairs.length > 1 ? `Changed alike (${count(g.pairs.length)}, shown for the first)` : 'Changed';
    L.push(`**${title}**: ${g.pairs.map((p) => cell(pairText(p))).join('; ')}`, '');
    L.push(diffMarkdown(r.reports[i]!).replace(/^### /, '#### '));
  }
  return L.join('\n');
}
