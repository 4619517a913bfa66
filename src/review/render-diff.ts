import type { CacheVerdict, Change, PlanDiff } from './diff.js';
import type { PlanCompute } from './compute.js';
import { fmtMacs } from './compute.js';
import { duration, fmtInt } from './phrases.js';
import { plural } from '../text/numbers.js';
import { printable } from '../printable.js';
import { markdownCode, markdownText } from '../escape.js';

// `tlr diff` as text for a terminal and as Markdown for a pull request. Both say the same things in
// the same order: the changes by section, then what they mean. The JSON form is the PlanDiff itself.

/** A finished run of one side's exact plan: what the diff shows beside the other's. */
export interface RunResult {
  readonly dir: string;
  readonly accuracy: number | null;
  readonly split: string;
  readonly loss: number | null;
  readonly seconds: number;
}

/** Which data a side was compiled against: the data now, its revision's through git, or a run's record; or none. */
export interface DataSeen {
  /** False when the side's data could not be had (not in git at its revision, and no run made there). */
  readonly compared: boolean;
  readonly says: string;
}

/** What one side of a diff is: a file, or a file at a git revision; its engines' verdicts. */
export interface Side {
  readonly label: string;
  readonly engines: readonly { readonly name: string; readonly runs: string }[];
  readonly result: RunResult | null;
  /** Seconds a run would take here, per engine; null when the engine is not calibrated here. */
  readonly estimates: readonly { readonly engine: string; readonly seconds: number | null }[];
  readonly data: DataSeen;
}

export interface DiffReport {
  readonly before: Side;
  readonly after: Side;
  readonly diff: PlanDiff;
}

const SECTION_ORDER = ['recipe', 'model', 'data', 'head', 'freezing', 'training', 'save'] as const;

const mark = (c: Change) => (c.before === null ? '+' : c.after === null ? '-' : '~');
const where = (c: Change) => `${c.stage ? `stage ${c.stage} ` : ''}${c.label}`;

/** The change from a to b in percent, as ` (+12%)`; nothing when a is 0. */
export const pct = (a: number, b: number) =>
  a === 0 ? '' : ` (${b >= a ? '+' : ''}${(((b - a) / a) * 100).toFixed(0)}%)`;
const signed = (n: number) => `${n >= 0 ? '+' : '−'}${fmtInt(Math.abs(n))}`;

/** Each consequence as a line of words (the same lines in both renderings). */
export function meaning(r: DiffReport): { topic: string; lines: string[] }[] {
  const d = r.diff;
  const training = d.training.flatMap((t) => {
    if (!t.before) return [`stage ${t.stage} is new: ${fmtInt(t.after!.trainable)} parameters train`];
    if (!t.after)
      return [`stage ${t.stage} is gone: its ${fmtInt(t.before.trainable)} trained parameters no longer train`];
    if (t.before.trainable === t.after.trainable && t.before.frozen === t.after.frozen) return [];
    const moved = t.startTraining
      ? `${fmtInt(t.startTraining)} backbone parameters start training`
      : t.stopTraining
        ? `${fmtInt(t.stopTraining)} backbone parameters stop training (frozen now)`
        : t.before.frozen === t.after.frozen
          ? t.after.blocks.some((b) => b !== 'head')
            ? 'the same backbone layers train; the head changed'
            : 'the backbone stays frozen; the head changed'
          : 'another network';
    return [
      `stage ${t.stage}: ${moved}; trainable ${fmtInt(t.before.trainable)} → ${fmtInt(t.after.trainable)} ` +
        `(${signed(t.after.trainable - t.before.trainable)}), frozen ${fmtInt(t.before.frozen)} → ` +
        `${fmtInt(t.after.frozen)}`,
    ];
  });
  const caches = d.caches.map(
    (c: CacheVerdict) =>
      `stage ${c.stage}: ` +
      `${c.kind === 'features' ? 'backbone features' : c.kind === 'prefix' ? 'frozen part' : 'no cache'}` +
      ` — ${c.why}`,
  );
  return [
    { topic: 'training', lines: training.length ? training : ['the same parameters train in every stage'] },
    { topic: 'caches', lines: caches },
    { topic: 'compute', lines: computeLines(d.compute.before, d.compute.after) },
    { topic: 'time', lines: timeLines(r) },
    { topic: 'engines', lines: engineLines(r) },
  ];
}

function computeLines(a: PlanCompute, b: PlanCompute): string[] {
  const lines = [];
  const parts = (s: PlanCompute['stages'][number]) =>
    `${s.once ? `${fmtMacs(s.once)}MAC once + ` : ''}${fmtMacs(s.perEpoch)}MAC an epoch × ${s.epochs}`;
  for (let i = 0; i < Math.max(a.stages.length, b.stages.length); i++) {
    const x = a.stages[i],
      y = b.stages[i];
    if (x?.total === y?.total && x?.once === y?.once) continue;
    const total = (s: typeof x) => (s ? `${fmtMacs(s.total)}MAC` : 'none');
    lines.push(
      `stage ${i + 1}: ${total(x)} → ${total(y)}${x && y ? pct(x.total, y.total) : ''} ` +
        `(${x ? parts(x) : '-'} → ${y ? parts(y) : '-'})`,
    );
  }
  lines.push(`whole run: ${fmtMacs(a.total)}MAC → ${fmtMacs(b.total)}MAC${pct(a.total, b.total)} (every epoch run)`);
  if (fmtMacs(a.forward) !== fmtMacs(b.forward))
    lines.push(`one prediction: ${fmtMacs(a.forward)}MAC → ${fmtMacs(b.forward)}MAC${pct(a.forward, b.forward)}`);
  return lines;
}

function timeLines(r: DiffReport): string[] {
  const lines = r.after.estimates.map((e) => {
    const before = r.before.estimates.find((x) => x.engine === e.engine)?.seconds ?? null;
    if (e.seconds === null || before === null) return `${e.engine}: not calibrated here (run: tlr doctor --calibrate)`;
    return `${e.engine}: about ${duration(before)} → about ${duration(e.seconds)}`;
  });
  const a = r.before.result,
    b = r.after.result;
  if (a && b) {
    const acc = (x: RunResult) => (x.accuracy === null ? 'n/a' : `${(x.accuracy * 100).toFixed(2)}%`);
    lines.push(
      `measured: latest runs ${acc(a)} → ${acc(b)} accuracy (${b.split}), ` +
        `loss ${a.loss?.toFixed(4) ?? 'n/a'} → ${b.loss?.toFixed(4) ?? 'n/a'}, ${duration(a.seconds)} → ` +
        `${duration(b.seconds)}`,
    );
  }
  return lines;
}

function engineLines(r: DiffReport): string[] {
  return r.after.engines.flatMap((e) => {
    const was = r.before.engines.find((x) => x.name === e.name)?.runs;
    return was === e.runs ? [] : [`${e.name}: ${was ?? 'absent'} → ${e.runs}`];
  });
}

/**
 * Which data each side was compiled against, when either is not simply the data as it is now (a side from git); and
 * what an empty diff may claim: "comments and layout only" only once the data was compared too.
 */
export function dataLines(
  sides: { readonly before: { data: DataSeen }; readonly after: { data: DataSeen } },
  what = 'comments and layout',
): {
  readonly seen: string[];
  readonly equal: string;
} {
  const { before: a, after: b } = sides;
  const now = (d: DataSeen) => d.compared && d.says === 'as it is now';
  const seen = now(a.data) && now(b.data) ? [] : [`data before: ${a.data.says}`, `data after: ${b.data.says}`];
  const compared = a.data.compared && b.data.compared;
  return {
    seen,
    equal: compared
      ? `no change in what runs (${what} only)`
      : `no change in what the recipe says (${what} only); the data was ${a.data.compared ? b.data.says : a.data.says}`,
  };
}

/** The diff for a terminal: `~ label: before → after` by section, then what it means. */
export function diffText(r: DiffReport): string {
  const data = dataLines(r);
  const L = [printable(`tlr diff · ${r.before.label} → ${r.after.label}`), ...data.seen.map(printable), ''];
  return (r.diff.equal ? [...L, data.equal] : [...L, ...diffBody(r)]).join('\n');
}

/** A diff's changes by section and what they mean, without its title (a sweep diff shows one per changed group). */
export function diffBody(r: DiffReport): string[] {
  const L: string[] = [];
  for (const section of SECTION_ORDER) {
    const cs = r.diff.changes.filter((c) => c.section === section);
    if (!cs.length) continue;
    L.push(section);
    for (const c of cs) L.push(printable(`  ${mark(c)} ${where(c)}: ${c.before ?? '(none)'} → ${c.after ?? '(none)'}`));
    L.push('');
  }
  L.push('what it means');
  for (const m of meaning(r))
    for (const [i, l] of m.lines.entries()) L.push(`  ${(i ? '' : m.topic).padEnd(10)}${printable(l)}`);
  const n = (s: string) => r.diff.changes.filter((c) => mark(c) === s).length;
  L.push('', `${plural(r.diff.changes.length, 'change')}: ${n('~')} changed, ${n('+')} added, ${n('-')} removed`);
  return L;
}

/** A line of words as a Markdown sentence: capitalised, escaped, with its full stop. */
export const mdSentence = (s: string): string => `${markdownText(s[0]!.toUpperCase() + s.slice(1))}.`;

/** Markdown cells: pipes and newlines escaped, control characters shown as escapes. */
export const cell = (s: string | null) => (s === null ? '—' : markdownText(s));

/** The diff for a pull-request comment or a job summary: a table of changes and a list of consequences. */
export function diffMarkdown(r: DiffReport): string {
  const data = dataLines(r);
  const L = [`### tlr diff: ${markdownCode(r.before.label)} → ${markdownCode(r.after.label)}`, ''];
  if (data.seen.length) L.push(...data.seen.map((l) => `- ${markdownText(l)}`), '');
  if (r.diff.equal) return [...L, mdSentence(data.equal), ''].join('\n');
  L.push('| | section | what | before | after |', '|---|---|---|---|---|');
  for (const section of SECTION_ORDER)
    for (const c of r.diff.changes.filter((x) => x.section === section))
      L.push(`| ${mark(c)} | ${section} | ${cell(where(c))} | ${cell(c.before)} | ${cell(c.after)} |`);
  L.push('', '**What it means**', '');
  for (const m of meaning(r)) for (const l of m.lines) L.push(`- **${m.topic}**: ${cell(l)}`);
  L.push('');
  return L.join('\n');
}
