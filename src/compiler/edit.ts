import { parse } from './parse.js';
import { toAst } from './to-ast.js';
import { format, type Formatted } from './format.js';
import { hasErrors } from './diagnostics.js';
import type { Statement } from './ast.js';

// Edits of a recipe that keep everything else as written (comments included), then its canonical
// layout: `tlr lr-find --write` sets a stage's learning rate with it.

/**
 * The recipe with stage `stage`'s (0-based) learning rate set to `value` (a number as the
 * language writes it): the stage's `lr` value is replaced (its schedule kept), or an `lr` line is
 * added after its `train`; then `format` lays it out.
 */
export function setStageLr(text: string, stage: number, value: string): Formatted {
  const parsed = parse(text);
  if (hasErrors(parsed.diagnostics)) return { ok: false, diagnostics: parsed.diagnostics };
  let k = 0,
    lr: Extract<Statement, { kind: 'lr' }> | null = null,
    train: Statement | null = null;
  for (const s of toAst(parsed).statements) {
    if (s.kind === 'then') {
      k++;
      continue;
    }
    if (k !== stage) continue;
    if (s.kind === 'lr') lr = s;
    if (s.kind === 'train') train = s;
  }
  const at = lr ? lr.value.span : null;
  const edited = at
    ? text.slice(0, at.start.offset) + value + text.slice(at.end.offset)
    : train
      ? `${text.slice(0, train.span.end.offset)}\n  lr ${value}${text.slice(train.span.end.offset)}`
      : null;
  if (edited === null) throw new Error(`the recipe has no stage ${stage + 1}`);
  return format(edited);
}
