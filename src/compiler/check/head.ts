import { isNum, type Arg, type HeadLayer, type Statement } from '../ast.js';
import type { Ctx } from './context.js';
import type { HeadLayerSpec } from './checked.js';
import { didYouMean, oneOf } from './suggest.js';

export const ACTIVATIONS = ['linear', 'relu', 'relu6', 'gelu', 'elu', 'selu', 'swish', 'tanh', 'sigmoid', 'softmax'] as const;
const KINDS = ['dense', 'dropout', 'batchnorm'];
const USAGE: Record<string, string> = { dense: 'dense(UNITS) or dense(UNITS, ACTIVATION)', dropout: 'dropout(RATE) with 0 <= RATE < 1', batchnorm: 'batchnorm' };

function wrongArgs(ctx: Ctx, l: HeadLayer, why: string): null {
  ctx.report('TLR1203', l.span, `${l.name.text}: ${why}`, [`write ${USAGE[l.name.text]}`]);
  return null;
}

function layer(ctx: Ctx, l: HeadLayer): HeadLayerSpec | null {
  const kind = l.name.text;
  const [a, b] = l.args as [Arg | undefined, Arg | undefined];
  switch (kind) {
    case 'dense': {
      if (!a || !isNum(a) || l.args.length > 2 || (b && isNum(b))) return wrongArgs(ctx, l, 'takes a number of units and an optional activation');
      const units = ctx.int(a, 'the number of units', 1, 1 << 20);
      let activation = 'linear';
      if (b && !isNum(b)) {
        if (!(ACTIVATIONS as readonly string[]).includes(b.text)) {
          ctx.report('TLR1202', b.span, `unknown activation \`${b.text}\``, [...didYouMean(b.text, ACTIVATIONS), `activations: ${oneOf([...ACTIVATIONS])}`]);
          return null;
        }
        activation = b.text;
      }
      return units === null ? null : { kind: 'dense', units, activation };
    }
    case 'dropout': {
      if (!a || !isNum(a) || l.args.length !== 1) return wrongArgs(ctx, l, 'takes one rate');
      const rate = ctx.real(a, 'the dropout rate', (v) => v >= 0 && v < 1, '0 <= rate < 1');
      return rate === null ? null : { kind: 'dropout', rate };
    }
    case 'batchnorm':
      if (l.args.length) return wrongArgs(ctx, l, 'takes no arguments');
      return { kind: 'batchnorm' };
    default:
      ctx.report('TLR1201', l.name.span, `unknown head layer \`${kind}\``, [...didYouMean(kind, KINDS), `a head is made of ${oneOf(KINDS.map((k) => USAGE[k]!))}`]);
      return null;
  }
}

/**
 * The head, or the default `dense(N)` when there is none. `classes` is null when the data could
 * not be read (the data error is reported elsewhere).
 */
export function checkHead(ctx: Ctx, s: Extract<Statement, { kind: 'head' }> | undefined, classes: readonly string[] | null, dataShown: string): HeadLayerSpec[] | null {
  if (!s) return classes ? [{ kind: 'dense', units: classes.length, activation: 'linear' }] : null;
  const specs = s.layers.map((l) => layer(ctx, l));
  if (specs.some((x) => x === null)) return null;
  const last = specs[specs.length - 1]!;
  const lastLayer = s.layers[s.layers.length - 1]!;
  if (last.kind !== 'dense') {
    ctx.report('TLR1205', lastLayer.span, `the head ends with ${lastLayer.name.text}, but it must end with dense(N), one unit per class`, [`add dense(${classes?.length ?? 'N'}) at the end`]);
    return null;
  }
  if (classes && last.units !== classes.length) {
    const list = classes.length <= 12 ? `: ${classes.join(', ')}` : '';
    ctx.report('TLR1204', lastLayer.span, `the head ends with dense(${last.units}), but ${dataShown} has ${classes.length} classes${list}`, [
      `write dense(${classes.length}${last.activation !== 'linear' ? `, ${last.activation}` : ''})`,
    ]);
    return null;
  }
  return specs as HeadLayerSpec[];
}
