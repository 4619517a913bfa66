import type { Ctx } from './context.js';
import type { StageStatements } from './statements.js';
import { didYouMean } from './suggest.js';

// How a stage weighs and draws its classes, for imbalanced data: `class weights auto|none` (the loss) and
// `balance classes|none` (the sampler), and a warning when a stage corrects for the same imbalance twice.

/** `class weights auto|none`, or null (reported). */
export function classWeightsMode(ctx: Ctx, s: NonNullable<StageStatements['classWeights']>): 'auto' | 'none' | null {
  const m = s.mode;
  if (m.text === 'auto' || m.text === 'none') return m.text;
  ctx.report('TLR1605', m.span, `unknown class weights mode \`${m.text}\``, [
    ...didYouMean(m.text, ['auto', 'none']),
    '`class weights auto` weighs each class by its inverse frequency',
  ]);
  return null;
}

/** `balance classes|none`, as the sampler it asks for, or null (reported). */
export function samplerOf(ctx: Ctx, s: NonNullable<StageStatements['balance']>): 'shuffle' | 'balanced' | null {
  const m = s.mode;
  if (m.text === 'classes') return 'balanced';
  if (m.text === 'none') return 'shuffle';
  ctx.report('TLR1612', m.span, `unknown balance mode \`${m.text}\``, [
    ...didYouMean(m.text, ['classes', 'none']),
    '`balance classes` draws each class equally often in every epoch; `balance none` draws every image once',
  ]);
  return null;
}

/** `balance classes` with `class weights auto` in one stage: the rare classes corrected for twice (a warning). */
export function twiceBalanced(
  ctx: Ctx,
  st: StageStatements,
  sampler: string | null,
  classWeights: string | null,
): void {
  if (sampler !== 'balanced' || classWeights !== 'auto' || !(st.balance || st.classWeights)) return;
  const at = (st.classWeights ?? st.balance)!;
  ctx.report(
    'TLR1613',
    at.span,
    '`balance classes` already draws every class equally often; `class weights auto` weighs the rare classes up ' +
      'again, so they count for more than the common ones',
    ['keep one: `balance none` or `class weights none`'],
  );
}
