import type { Sweep } from '../compiler/index.js';
import type { Plan } from '../contracts/plan.js';
import { fmtMacs, sweepComputes } from '../review/compute.js';
import { duration } from '../review/phrases.js';
import { trainableParams } from '../runtime/sweep-folder.js';
import { fmtInt, plural } from '../text/numbers.js';
import { markdown, table } from '../text/table.js';
import { diffPlans } from '../review/diff.js';
import { meaning } from '../review/render-diff.js';
import { explain, explainMarkdown } from '../review/explain.js';
import { markdownText } from '../escape.js';
import { explainSectionHtml, explainShell } from '../report/explain-html.js';
import { htmlTable } from '../report/sweep-html.js';
import { esc } from '../report/svg.js';
import { side } from './diff-side.js';
import { estimates, sweepEstimates, type SweepTime } from './estimate-text.js';

// `tlr plan` of a sweep: how many runs, and per variant what it trains, its compute and its time
// on each engine that can run it here (once calibrated), before anything runs.

/** A sweep's lists: what each varies and its alternatives as written (sweep.json and --json hold them). */
export const sweepGroups = (sweep: Sweep) =>
  sweep.groups.map((g) => ({ slot: g.slot, alternatives: g.alternatives.map((a) => a.text) }));

/**
 * The grid in words: `from ×2, lr ×2`; lists varied together as one (`from + input ×3`); a sample says of how many
 * (`sampled 4 of 12: …`).
 */
export function sweepShape(sweep: Sweep): string {
  const joined = new Map(sweep.together.flatMap((t) => t.map((i) => [i, t] as const)));
  const axes = sweep.groups.flatMap((g, i) => {
    const t = joined.get(i);
    if (t && t[0] !== i) return [];
    const name = t ? t.map((j) => sweep.groups[j]!.slot).join(' + ') : g.slot;
    return [`${name} ×${g.alternatives.length}`];
  });
  return `${sweep.sample ? `sampled ${sweep.sample.n} of ${sweep.sample.of}: ` : ''}${axes.join(', ')}`;
}

/** The plans of a sweep that checks, for --json: one schema-valid plan per variant, with its stable id. */
export function sweepJson(sweep: Sweep): object {
  return {
    format: 'tlr-sweep-plan',
    version: 1,
    groups: sweepGroups(sweep),
    keep: sweep.keep,
    variants: sweep.variants.map(({ variant, plan }) => ({
      id: variant.id,
      name: variant.name,
      choices: variant.choices,
      plan,
    })),
  };
}

/**
 * One row per variant: its choices, trainable parameters, and its share of the sweep's compute and time per engine
 * (run in order, the first variant fills the caches the others read, so the rows add up to the whole).
 */
function variantRows(sweep: Sweep): { rows: string[][]; plans: Plan[]; times: SweepTime[] } {
  const plans = sweep.variants.map((v) => v.plan as Plan);
  const alone = plans.map((p) => estimates(p));
  const times = sweepEstimates(plans);
  const shares = sweepComputes(plans, false);
  const engines = [...new Set(alone.flatMap((t) => t.map((e) => e.engine)))];
  const slots = sweep.groups.map((g) => g.slot);
  const share = (e: string, i: number) => {
    const t = alone[i]!.find((x) => x.engine === e);
    const s = times.find((x) => x.engine === e)?.perVariant[i] ?? t?.seconds ?? null;
    return !t ? 'cannot run' : s === null ? 'not calibrated' : `about ${duration(s)}`;
  };
  const rows = [
    ['variant', ...slots, 'trainable', 'compute', ...engines.map((e) => `${e} time`)],
    ...sweep.variants.map(({ variant }, i) => [
      variant.id,
      ...slots.map((s) => variant.choices.find((c) => c.slot === s)!.value),
      fmtInt(trainableParams(plans[i]!)),
      `${fmtMacs(shares[i]!.total)}MAC`,
      ...engines.map((e) => share(e, i)),
    ]),
  ];
  return { rows, plans, times };
}

/** A sweep's time on each engine in words: cold, and warm when its caches would make a rerun faster. */
export const sweepTimeText = (t: SweepTime): string =>
  t.seconds === null
    ? `${t.engine} not calibrated here (tlr doctor --calibrate)`
    : `${t.engine} about ${duration(t.seconds)}${
        t.warm !== null && duration(t.warm) !== duration(t.seconds)
          ? ` (${duration(t.warm)} with its caches filled)`
          : ''
      }`;

/** The sweep as a table, one row per variant, and its totals. */
export function sweepText(file: string, sweep: Sweep): string {
  const { rows, plans, times } = variantRows(sweep);
  const total = sweepComputes(plans, false).reduce((t, c) => t + c.total, 0);
  const perEngine = times.map(sweepTimeText);
  const lists = sweepShape(sweep);
  const keep = sweep.keep
    ? `keep best ${sweep.keep.best} after ${sweep.keep.after} epochs: every variant trains ${sweep.keep.after} ` +
      `epochs, then only the ${sweep.keep.best} best by validation accuracy go on (the figures above are every ` +
      'variant run to its end: the most the sweep costs)\n'
    : '';
  return (
    `sweep ${file}: ${plural(sweep.variants.length, 'run')} (${lists}), one after another\n\n${table(rows)}\n` +
    `(compute and time: each variant's share, in order; the first fills the caches the others read)\n\n` +
    `whole sweep: ${fmtMacs(total)}MAC, what variants share counted once${
      perEngine.length ? `; ${perEngine.join(' · ')}` : ''
    }\n${keep}` +
    `tlr plan --json prints each variant's plan; tlr run runs them into runs/…/sweep-<time>/`
  );
}

/** `tlr explain` of a sweep as data: what the Markdown and the HTML page both say. */
interface SweepExplained {
  readonly summary: string;
  readonly rows: string[][];
  /** Per alternative of each axis: the change from the first variant, in `tlr diff`'s words. */
  readonly axes: readonly { readonly title: string; readonly lines: readonly string[] }[];
  readonly first: { readonly id: string; readonly name: string; readonly explained: ReturnType<typeof explain> };
}

/**
 * `tlr explain` of a sweep, for a reviewer: the variants as a table (the grid), then what each list varies, said as
 * `tlr diff` says a change (parameters that start or stop training, caches, compute, time) from the first variant to
 * the one that differs from it in that list alone, then the first variant explained in full.
 */
function explainSweep(sweep: Sweep): SweepExplained {
  const { rows } = variantRows(sweep);
  const first = sweep.variants[0]!;
  const summary =
    `${plural(sweep.variants.length, 'run')} (${sweepShape(sweep)}), one for each choice of one alternative per list` +
    (sweep.together.length ? ' (lists varied together choose side by side)' : '') +
    (sweep.sample ? `, ${sweep.sample.n} of the ${sweep.sample.of} sampled by id` : '') +
    (sweep.keep
      ? `; every variant trains ${sweep.keep.after} epochs, then the ${sweep.keep.best} best by validation ` +
        `accuracy go on.`
      : '.');
  const axes: { title: string; lines: string[] }[] = [];
  // Lists varied together change together; a sample may lack the variant that differs in one list alone.
  const axisOf = sweep.groups.map((_, g) => sweep.together.find((t) => t.includes(g)) ?? [g]);
  for (const [g, group] of sweep.groups.entries()) {
    const axis = axisOf[g]!;
    if (axis[0] !== g) continue;
    const at = group.alternatives.findIndex((a) => a.text === first.variant.choices[g]!.value);
    for (let k = 0; k < group.alternatives.length; k++) {
      if (k === at) continue;
      const want = (i: number) =>
        axis.includes(i) ? sweep.groups[i]!.alternatives[k]!.text : first.variant.choices[i]!.value;
      const other = sweep.variants.find((v) => v.variant.choices.every((c, i) => c.value === want(i)));
      const slot = axis.map((i) => sweep.groups[i]!.slot).join(' + ');
      const from = axis.map((i) => first.variant.choices[i]!.value).join(' + '),
        to = axis.map((i) => sweep.groups[i]!.alternatives[k]!.text).join(' + ');
      if (!other) {
        axes.push({
          title: `${slot}: ${from} → ${to}`,
          lines: ['not in this sample: no variant differs from the first in this alone'],
        });
        continue;
      }
      const report = {
        before: side(first.variant.id, first.plan!),
        after: side(other.variant.id, other.plan!),
        diff: diffPlans(first.plan!, other.plan!),
      };
      axes.push({
        title: `${slot}: ${from} → ${to} (${first.variant.id} → ${other.variant.id})`,
        lines: meaning(report).flatMap((m) => m.lines.map((l) => `${m.topic}: ${l}`)),
      });
    }
  }
  return {
    summary,
    rows,
    axes,
    first: {
      id: first.variant.id,
      name: first.variant.name,
      explained: explain(first.plan!, estimates(first.plan!)),
    },
  };
}

/** `tlr explain` of a sweep as Markdown. */
export function sweepExplainMarkdown(label: string, sweep: Sweep): string {
  const e = explainSweep(sweep);
  const out = [
    `# Sweep: ${markdownText(label)}`,
    '',
    markdownText(e.summary),
    '',
    markdown(e.rows),
    '## What each list varies',
    '',
  ];
  for (const a of e.axes)
    out.push(`### ${markdownText(a.title)}`, '', ...a.lines.map((l) => `- ${markdownText(l)}`), '');
  out.push(`## The first variant, ${e.first.id} (${markdownText(e.first.name)})`, '');
  out.push(explainMarkdown(e.first.explained, label).replace(/^(#+) /gm, '##$1 '));
  return out.join('\n');
}

/** `tlr explain --html` of a sweep: the same as one self-contained page. */
export function sweepExplainPage(label: string, sweep: Sweep): string {
  const e = explainSweep(sweep);
  const axes = e.axes
    .map((a) => `<h3>${esc(a.title)}</h3><ul>${a.lines.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`)
    .join('');
  return explainShell(
    `Sweep: ${label}`,
    `<div class="tlr-explain"><h1>Sweep: ${esc(label)}</h1><p>${esc(e.summary)}</p>${htmlTable(e.rows)}</div>` +
      `<h2>What each list varies</h2>${axes}` +
      `<h2>The first variant, ${esc(e.first.id)} (${esc(e.first.name)})</h2>` +
      explainSectionHtml(e.first.explained, label, 3),
  );
}
