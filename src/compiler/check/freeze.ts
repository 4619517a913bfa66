import { isWeightedOp } from '../../zoo/ops/index.js';
import type { ModelInfo } from '../../zoo/catalog.js';
import type { Name, Num, Statement } from '../ast.js';
import type { Ctx } from './context.js';
import type { StageStatements } from './statements.js';
import { didYouMean } from './suggest.js';

// Frozen sets are always a prefix of the backbone's layers (input side), so a stage's state is one
// number: how many layers are frozen. `freeze` sets it; `unfreeze` can only lower it.

interface Target {
  index: number;
  label: string;
}

/** Index range of a block or a layer name. */
function find(model: ModelInfo, name: Name): { first: number; last: number } | null {
  const b = model.blocks.find((b) => b.name === name.text || b.aliases.includes(name.text));
  if (b) return { first: b.first, last: b.last };
  const l = model.layers.find((l) => l.name === name.text);
  return l ? { first: l.index, last: l.index } : null;
}

function unknown(ctx: Ctx, model: ModelInfo, name: Name, verb: 'freeze' | 'unfreeze'): void {
  const candidates = [...model.blocks.flatMap((b) => [b.name, ...b.aliases]), ...model.layers.map((l) => l.name)];
  ctx.report(
    verb === 'freeze' ? 'TLR1101' : 'TLR1102',
    name.span,
    `${model.name} has no block or layer named \`${name.text}\``,
    [
      ...didYouMean(name.text, candidates),
      `its blocks are ${model.blocks.map((b) => b.name).join(', ')}; \`tlr models ${model.name}\` lists every layer`,
    ],
  );
}

/** Index just past the n-th weighted layer (n >= 1), or null. */
function afterWeighted(model: ModelInfo, n: number): number | null {
  let seen = 0;
  for (const l of model.layers) if (isWeightedOp(l.kind) && ++seen === n) return l.index + 1;
  return null;
}

function count(ctx: Ctx, model: ModelInfo, n: Num): number | null {
  const total = model.layers.filter((l) => isWeightedOp(l.kind)).length;
  const v = ctx.int(n, 'the number of layers', 1);
  if (v === null) return null;
  if (v > total) {
    ctx.report('TLR1105', n.span, `${model.name} has ${total} layers with weights, not ${v}`, [
      `\`freeze all\` freezes all ${total}; \`tlr models ${model.name}\` numbers them`,
    ]);
    return null;
  }
  return v;
}

function freezeTarget(ctx: Ctx, model: ModelInfo, s: Extract<Statement, { kind: 'freeze' }>): Target | null {
  const t = s.target;
  switch (t.kind) {
    case 'all':
      return { index: model.layers.length, label: 'freeze all' };
    case 'none':
      return { index: 0, label: 'freeze none' };
    case 'until': {
      const r = find(model, t.layer);
      if (!r) {
        unknown(ctx, model, t.layer, 'freeze');
        return null;
      }
      return { index: r.last + 1, label: `freeze until ${t.layer.text}` };
    }
    case 'first': {
      const n = count(ctx, model, t.count);
      return n === null ? null : { index: afterWeighted(model, n)!, label: `freeze first ${n} layers` };
    }
  }
}

function unfreezeTarget(ctx: Ctx, model: ModelInfo, s: Extract<Statement, { kind: 'unfreeze' }>): Target | null {
  const t = s.target;
  switch (t.kind) {
    case 'all':
      return { index: 0, label: 'unfreeze all' };
    case 'from': {
      const r = find(model, t.layer);
      if (!r) {
        unknown(ctx, model, t.layer, 'unfreeze');
        return null;
      }
      return { index: r.first, label: `unfreeze from ${t.layer.text}` };
    }
    case 'last': {
      const total = model.layers.filter((l) => isWeightedOp(l.kind)).length;
      const n = count(ctx, model, t.count);
      return n === null
        ? null
        : { index: n === total ? 0 : afterWeighted(model, total - n)!, label: `unfreeze last ${n} layers` };
    }
  }
}

/** The frozen count of each stage. `pretrained` decides stage one's default. */
export function checkFreezing(
  ctx: Ctx,
  model: ModelInfo | null,
  stages: readonly StageStatements[],
  pretrained: boolean,
): { frozen: number; by: string }[] | null {
  const out: { frozen: number; by: string }[] = [];
  let ok = true;
  let prev = {
    frozen: model ? (pretrained ? model.layers.length : 0) : 0,
    by: pretrained ? 'freeze all (the default with pretrained weights)' : 'freeze none (the default with weights none)',
  };
  for (const [i, st] of stages.entries()) {
    const s = st.freeze ?? st.unfreeze;
    if (s && s.kind === 'freeze' && !pretrained && s.target.kind !== 'none') {
      ctx.report('TLR1104', s.keyword, 'this freezes layers that start from random weights (`weights none`)', [
        'frozen random layers never learn; remove the `freeze`, or start from `weights imagenet`',
      ]);
    }
    if (!model || !s) {
      out.push(i === 0 ? prev : { ...prev, by: `as in stage ${i}` });
      continue;
    }
    const t = s.kind === 'freeze' ? freezeTarget(ctx, model, s) : unfreezeTarget(ctx, model, s);
    if (!t) {
      ok = false;
      out.push(prev);
      continue;
    }
    let frozen = t.index;
    if (s.kind === 'unfreeze') {
      if (t.index >= prev.frozen && !(t.index === 0 && prev.frozen === 0)) {
        const at = s.target.kind === 'from' ? s.target.layer.span : s.span;
        ctx.report(
          'TLR1103',
          at,
          i === 0
            ? `nothing before this is frozen, so \`${t.label}\` changes nothing`
            : `stage ${i} already trains these layers (it froze only ${prev.frozen} of ${model.layers.length}), ` +
                `so \`${t.label}\` changes nothing`,
          ['to train more layers, unfreeze from an earlier block; to train fewer, use `freeze until LAYER`'],
        );
      } else if (t.index === 0 && prev.frozen === 0) {
        ctx.report('TLR1103', s.span, 'every layer already trains, so `unfreeze all` changes nothing');
      }
      frozen = Math.min(prev.frozen, t.index);
    }
    prev = { frozen, by: t.label };
    out.push(prev);
  }
  return ok ? out : null;
}
