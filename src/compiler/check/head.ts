import { isNum, MULTI_LABEL, type Arg, type HeadLayer, type Num, type Statement } from '../ast.js';
import {
  ACTIVATIONS,
  type Activation,
  HEAD_KINDS,
  HEAD_LAYERS,
  type ArgReader,
  type HeadArg,
  type HeadLayerDef,
} from '../../zoo/head-layers.js';
import type { PlanHeadLayer } from '../../contracts/plan.js';
import type { Ctx } from './context.js';
import type { HeadLayerSpec } from './checked.js';
import { didYouMean, oneOf } from './suggest.js';

// Head layers come from the zoo's table (src/zoo/head-layers.ts): each row reads its own
// arguments through the reader below, which reports with the checker's codes.

export { ACTIVATIONS };

/** The checker's side of a row's argument reading: numbers through ctx, diagnostics with spans. */
function reader(ctx: Ctx, l: HeadLayer, usage: string, ast: ReadonlyMap<HeadArg, Arg>): ArgReader {
  const arg = (a: HeadArg) => ast.get(a)!;
  return {
    int: (a, what, min, max) => ctx.int(arg(a) as Num, what, min, max),
    real: (a, what, ok, range) => ctx.real(arg(a) as Num, what, ok, range),
    activation: (a) => {
      if ((ACTIVATIONS as readonly string[]).includes(a.text)) return a.text as Activation;
      ctx.report('TLR1202', arg(a).span, `unknown activation \`${a.text}\``, [
        ...didYouMean(a.text, ACTIVATIONS),
        `activations: ${oneOf([...ACTIVATIONS])}`,
      ]);
      return null;
    },
    wrong: (why) => {
      ctx.report('TLR1203', l.span, `${l.name.text}: ${why}`, [`write ${usage}`]);
      return null;
    },
  };
}

function layer(ctx: Ctx, l: HeadLayer): HeadLayerSpec | null {
  const kind = l.name.text;
  const def = (HEAD_LAYERS as Record<string, HeadLayerDef<PlanHeadLayer['kind']>>)[kind];
  if (!def) {
    ctx.report('TLR1201', l.name.span, `unknown head layer \`${kind}\``, [
      ...(kind === MULTI_LABEL
        ? ["`multi-label` comes after the head's layers: `head dense(64, relu) dense(N) multi-label`"]
        : []),
      ...didYouMean(kind, HEAD_KINDS),
      `a head is made of ${oneOf(HEAD_KINDS.map((k) => HEAD_LAYERS[k].usage))}`,
    ]);
    return null;
  }
  // A row sees each argument's text and whether it is a number; the reader maps it back to the
  // AST's argument for its value and span.
  const args = l.args.map((a): HeadArg => ({ text: a.text, number: isNum(a) }));
  const ast = new Map(args.map((h, i) => [h, l.args[i]!]));
  return def.read(args, reader(ctx, l, def.usage, ast));
}

/**
 * The head, or the default `dense(N)` when there is none. `classes` is null when the data could
 * not be read (the data error is reported elsewhere).
 */
export function checkHead(
  ctx: Ctx,
  s: Extract<Statement, { kind: 'head' }> | undefined,
  classes: readonly string[] | null,
  dataShown: string,
): HeadLayerSpec[] | null {
  if (!s?.layers.length) return classes ? [{ kind: 'dense', units: classes.length, activation: 'linear' }] : null;
  const specs = s.layers.map((l) => layer(ctx, l));
  if (specs.some((x) => x === null)) return null;
  const last = specs[specs.length - 1]!;
  const lastLayer = s.layers[s.layers.length - 1]!;
  if (last.kind !== 'dense') {
    ctx.report(
      'TLR1205',
      lastLayer.span,
      `the head ends with ${lastLayer.name.text}, but it must end with dense(N), one unit per class`,
      [`add dense(${classes?.length ?? 'N'}) at the end`],
    );
    return null;
  }
  if (classes && last.units !== classes.length) {
    const list = classes.length <= 12 ? `: ${classes.join(', ')}` : '';
    ctx.report(
      'TLR1204',
      lastLayer.span,
      `the head ends with dense(${last.units}), but ${dataShown} has ${classes.length} classes${list}`,
      [`write dense(${classes.length}${last.activation !== 'linear' ? `, ${last.activation}` : ''})`],
    );
    return null;
  }
  return specs as HeadLayerSpec[];
}
