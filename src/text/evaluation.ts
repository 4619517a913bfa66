import type { Evaluation } from '../runtime/events.js';
import { fixed } from './numbers.js';
import { printable } from '../printable.js';

// The evaluation as text: headline figures, per-class table, confusion matrix with class names.

const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : 'n/a');

/** An evaluation as text: headline figures, per-class table, confusion matrix with class names. */
export function evaluationText(ev: Evaluation, title: string = ev.split): string {
  if (ev.task === 'multi-label') return multiLabelText(ev, title);
  // Class names come from data folders and model files: escaped, whoever prints this.
  const names = ev.classes.map((c) => printable(c.name));
  const w = Math.max(5, ...names.map((n) => n.length));
  const cw = Math.max(
    4,
    ...ev.confusion.flat().map((v) => String(v).length),
    ...names.map((n) => Math.min(n.length, 8)),
  );
  const L = [
    `${title} (${ev.images} images): accuracy ${pct(ev.accuracy)}${
      ev.balancedAccuracy === undefined ? '' : ` · balanced accuracy ${pct(ev.balancedAccuracy)}`
    } · macro F1 ${fixed(ev.macroF1, 3)} · loss ${fixed(ev.loss, 4)}`,
    '',
  ];
  L.push(`${'class'.padEnd(w)}  precision  recall     f1  support`);
  ev.classes.forEach((c, i) => {
    L.push(
      `${names[i]!.padEnd(w)}  ${fixed(c.precision, 3).padStart(9)}  ${fixed(c.recall, 3).padStart(6)}  ` +
        `${fixed(c.f1, 3).padStart(5)}  ${String(c.support).padStart(7)}`,
    );
  });
  L.push('', `confusion matrix (rows: true class, columns: predicted)`);
  L.push(`${''.padEnd(w)}  ${names.map((n) => n.slice(0, 8).padStart(cw)).join(' ')}`);
  ev.confusion.forEach((row, i) => {
    L.push(`${names[i]!.padEnd(w)}  ${row.map((v) => String(v).padStart(cw)).join(' ')}`);
  });
  return L.join('\n');
}

/** Multi-label: mAP, micro and macro F1, subset accuracy; per label its threshold and average precision. */
function multiLabelText(ev: Evaluation, title: string): string {
  const names = ev.classes.map((c) => printable(c.name));
  const w = Math.max(5, ...names.map((n) => n.length));
  const L = [
    `${title} (${ev.images} images): mAP ${fixed(ev.map, 3)} · micro F1 ${fixed(ev.microF1, 3)}` +
      ` · macro F1 ${fixed(ev.macroF1, 3)} · subset accuracy ${pct(ev.accuracy)} · loss ${fixed(ev.loss, 4)}`,
    '',
    `${'label'.padEnd(w)}  threshold     AP  precision  recall     f1  support`,
  ];
  ev.classes.forEach((c, i) => {
    L.push(
      `${names[i]!.padEnd(w)}  ${fixed(c.threshold, 3).padStart(9)}  ${fixed(c.ap, 3).padStart(5)}` +
        `  ${fixed(c.precision, 3).padStart(9)}  ${fixed(c.recall, 3).padStart(6)}  ${fixed(c.f1, 3).padStart(5)}  ` +
        `${String(c.support).padStart(7)}`,
    );
  });
  L.push('', 'a label is predicted when its probability reaches its threshold (chosen on the validation part)');
  return L.join('\n');
}
