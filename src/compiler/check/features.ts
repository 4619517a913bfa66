import type { Ctx } from './context.js';
import type { Globals } from './statements.js';
import type { StageSpec } from './checked.js';
import { didYouMean } from './suggest.js';

// `features int8 | float`: the precision of the passes that compute a frozen part's output once and cache it (the
// head on a fixed extractor, a fine-tune's frozen prefix). int8 changes those features, so it is the recipe's to ask
// for; predict and eval choose int8 by flag instead (`tlr export --int8`).

export type FeaturePrecision = 'float' | 'int8';

const PRECISIONS: readonly FeaturePrecision[] = ['float', 'int8'];

/** The precision asked for (float when not written), or null (reported). */
export function checkFeatures(
  ctx: Ctx,
  g: Globals,
  stages: readonly StageSpec[] | null,
  augmented: boolean,
): FeaturePrecision | null {
  const s = g.features;
  if (!s) return 'float';
  const word = s.precision;
  if (!(PRECISIONS as readonly string[]).includes(word.text)) {
    ctx.report('TLR1616', word.span, `unknown feature precision \`${word.text}\``, [
      ...didYouMean(word.text, PRECISIONS),
      '`features int8` computes cached features with the int8 network; `features float` (the default) in float',
    ]);
    return null;
  }
  const precision = word.text as FeaturePrecision;
  // Features are cached only where a stage keeps a frozen part and nothing is augmented (compiler/plan.ts).
  if (precision === 'int8' && stages && (augmented || stages.every((st) => st.frozen === 0)))
    ctx.report(
      'TLR1617',
      word.span,
      augmented
        ? '`features int8` changes nothing here: augment is on, so no features are cached'
        : '`features int8` changes nothing here: every stage trains the whole network, so no features are cached',
      ['remove the line, or freeze part of the backbone (`freeze all`, `freeze until LAYER`) in a stage'],
    );
  return precision;
}
