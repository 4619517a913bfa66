import type { SweepRecord, SweepVariant } from '../runtime/sweep-folder.js';
import { duration } from '../review/phrases.js';
import { fmtInt } from '../text/numbers.js';
import { markdown, table } from '../text/table.js';

// A sweep's table, the article's layout: variants as rows, the varied values as columns, then test
// accuracy, macro F1, trainable parameters and time, the best marked. `by` pivots one varied value
// against another (network × freeze point), accuracy in the cells.

/**
 * The best finished variant: highest mAP (multi-label), then highest accuracy, then macro F1, then fewer trainable
 * parameters.
 */
export function bestVariant(record: SweepRecord): SweepVariant | null {
  const done = record.variants.filter((v) => v.status === 'finished' && v.evaluation);
  return (
    done.sort(
      (a, b) =>
        (b.evaluation!.map ?? 0) - (a.evaluation!.map ?? 0) ||
        b.evaluation!.accuracy - a.evaluation!.accuracy ||
        b.evaluation!.macroF1 - a.evaluation!.macroF1 ||
        a.trainableParams - b.trainableParams,
    )[0] ?? null
  );
}

/** Whether the sweep's variants are multi-label (their table then leads with mAP; accuracy is the subset accuracy). */
const isMultiLabel = (record: SweepRecord): boolean => record.variants.some((v) => v.evaluation?.map !== undefined);

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

/** The rows (header first) of the sweep's table. */
export function sweepRows(record: SweepRecord): string[][] {
  const best = bestVariant(record);
  const slots = record.groups.map((g) => g.slot);
  // With keep best: the validation accuracy each variant was judged by.
  const screen = record.keep ? [`val after ${record.keep.after}`] : [];
  const multi = isMultiLabel(record);
  return [
    [
      '',
      'variant',
      ...slots,
      'status',
      ...screen,
      ...(multi ? ['mAP'] : []),
      'accuracy',
      'macro F1',
      'trainable',
      'time',
    ],
    ...record.variants.map((v) => [
      v === best ? '*' : '',
      v.id,
      ...slots.map((s) => v.choices.find((c) => c.slot === s)?.value ?? ''),
      v.status,
      ...(record.keep ? [v.screen ? pct(v.screen.valAccuracy) : '-'] : []),
      ...(multi ? [typeof v.evaluation?.map === 'number' ? v.evaluation.map.toFixed(3) : '-'] : []),
      v.evaluation ? pct(v.evaluation.accuracy) : '-',
      v.evaluation ? v.evaluation.macroF1.toFixed(3) : '-',
      fmtInt(v.trainableParams),
      v.seconds === null ? '-' : duration(v.seconds),
    ]),
  ];
}

/**
 * The rows (header first) of the sweep's data, for compare.csv: numbers as numbers (accuracy a fraction, seconds,
 * parameters), not as the table shows them, and the best marked `true`.
 */
export function sweepData(record: SweepRecord): (string | number | boolean | null)[][] {
  const best = bestVariant(record);
  const slots = record.groups.map((g) => g.slot);
  const screen = record.keep ? [`val_accuracy_after_${record.keep.after}`] : [];
  const multi = isMultiLabel(record);
  return [
    [
      'best',
      'variant',
      ...slots,
      'status',
      ...screen,
      ...(multi ? ['map'] : []),
      'accuracy',
      'macro_f1',
      'trainable_params',
      'seconds',
    ],
    ...record.variants.map((v) => [
      v === best,
      v.id,
      ...slots.map((s) => v.choices.find((c) => c.slot === s)?.value ?? ''),
      v.status,
      ...(record.keep ? [v.screen?.valAccuracy ?? null] : []),
      ...(multi ? [v.evaluation?.map ?? null] : []),
      v.evaluation?.accuracy ?? null,
      v.evaluation?.macroF1 ?? null,
      v.trainableParams,
      v.seconds === null ? null : Math.round(v.seconds * 1000) / 1000,
    ]),
  ];
}

/** One varied value (rows) against another (columns), accuracy in the cells. */
export function sweepPivot(record: SweepRecord, rowSlot: string, colSlot: string): string[][] {
  const slots = record.groups.map((g) => g.slot);
  for (const s of [rowSlot, colSlot])
    if (!slots.includes(s)) throw new Error(`the sweep does not vary ${s}; it varies ${slots.join(', ')}`);
  const values = (s: string) => record.groups.find((g) => g.slot === s)!.alternatives;
  const value = (v: SweepVariant, s: string) => v.choices.find((c) => c.slot === s)!.value;
  const best = bestVariant(record);
  return [
    [`${rowSlot} \\ ${colSlot}`, ...values(colSlot)],
    ...values(rowSlot).map((r) => [
      r,
      ...values(colSlot).map((c) => {
        const cell = record.variants.filter((v) => value(v, rowSlot) === r && value(v, colSlot) === c);
        const done = cell.filter((v) => v.evaluation);
        if (!done.length) return '-';
        const acc = Math.max(...done.map((v) => v.evaluation!.accuracy));
        return `${pct(acc)}${done.includes(best!) ? ' *' : ''}${cell.length > 1 ? ` (best of ${cell.length})` : ''}`;
      }),
    ]),
  ];
}

/** How a tie on accuracy was broken, when the best variant has one: by macro F1, then fewer trainable parameters. */
function tieText(record: SweepRecord, best: SweepVariant): string {
  const tied = record.variants.filter(
    (v) => v !== best && v.status === 'finished' && v.evaluation?.accuracy === best.evaluation!.accuracy,
  );
  if (!tied.length) return '';
  const byF1 = tied.every((v) => v.evaluation!.macroF1 < best.evaluation!.macroF1);
  return (
    `; tied on accuracy with ${tied.map((v) => v.id).join(', ')}, chosen by ` +
    (byF1 ? 'its higher macro F1' : 'its macro F1, then its fewer trainable parameters')
  );
}

/** The table as text and Markdown, with a line naming the best variant. */
export function sweepTable(
  dir: string,
  record: SweepRecord,
  by?: readonly [string, string],
): { text: string; markdown: string; rows: string[][] } {
  const rows = by ? sweepPivot(record, by[0], by[1]) : sweepRows(record);
  const best = bestVariant(record);
  const line = best
    ? `best (*): ${best.id} (${best.name}), ${pct(best.evaluation!.accuracy)} on the ${best.evaluation!.split} split` +
      tieText(record, best)
    : 'no variant has finished yet';
  return {
    text: `sweep ${dir}: ${record.variants.length} variants\n\n${table(rows)}\n\n${line}`,
    markdown: `${markdown(rows)}\n${line}\n`,
    rows,
  };
}
