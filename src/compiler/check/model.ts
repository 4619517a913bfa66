import { describe, family, CatalogError, MODEL_NAMES, type ModelInfo } from '../../zoo/catalog.js';
import type { Globals } from './statements.js';
import type { Ctx } from './context.js';
import type { PlanWeights } from '../../contracts/plan.js';
import { isProblem, parseWeights } from '../../zoo/weights-spec.js';
import { didYouMean, oneOf } from './suggest.js';

/** `from`, `width`, `input`: the network's metadata, or null (reported). */
export function checkModel(
  ctx: Ctx,
  g: Globals,
  file: { start: { offset: number; line: number; column: number } },
): ModelInfo | null {
  if (!g.from) {
    for (const s of [g.weights, g.width, g.input])
      if (s)
        ctx.report('TLR1405', s.keyword, `\`${s.kind}\` describes the model, but the recipe has no \`from\``, [
          'add `from MODEL` first, e.g. `from mobilenet_v2`',
        ]);
    ctx.report(
      'TLR1001',
      { start: file.start, end: file.start },
      'the recipe does not say which network to start from',
      ['add `from mobilenet_v2` (or another network: `tlr models` lists them)'],
    );
    return null;
  }
  const name = g.from.model.text;
  const f = family(name);
  if (!f) {
    ctx.report('TLR1002', g.from.model.span, `there is no model named \`${name}\` in the zoo`, [
      ...didYouMean(name, MODEL_NAMES),
      'run `tlr models` to list the zoo',
    ]);
    return null;
  }
  let width: number | null = null;
  if (g.width) {
    const w = g.width.value;
    if (!f.widths) {
      ctx.report('TLR1003', w.span, `${name} has no width multiplier`, [
        '`width` applies to mobilenet_v1 and mobilenet_v2; remove it',
      ]);
      return null;
    }
    if (!f.widths.includes(w.value)) {
      ctx.report('TLR1003', w.span, `${name} comes in widths ${oneOf(f.widths.map(String))}, not ${w.text}`, [
        `pick one of ${oneOf(f.widths.map(String))}`,
      ]);
      return null;
    }
    width = w.value;
  }
  let size: number | null = null;
  if (g.input) {
    size = ctx.int(g.input.value, 'the input size', 16, 1024);
    if (size === null) return null;
  }
  try {
    return describe(name, width, size);
  } catch (e) {
    if (!(e instanceof CatalogError)) throw e;
    ctx.report('TLR1004', g.input!.value.span, `input ${size} is too small for ${name}`, [
      `${name} is trained at ${f.inputSize}; use at least that much detail when you can`,
    ]);
    return null;
  }
}

/** `weights`: where the backbone's starting weights come from (one rule with the runtime: zoo/weights-spec.ts). */
export function checkWeights(ctx: Ctx, g: Globals, model: ModelInfo | null): PlanWeights | null {
  const s = g.weights?.source;
  if (s?.kind === 'name' && s.name.text !== 'imagenet') {
    ctx.report('TLR1005', s.name.span, `\`${s.name.text}\` is not a weights source`, [
      ...didYouMean(s.name.text, ['imagenet', 'none']),
      "write `weights imagenet`, `weights none`, a path (./w.safetensors, ./model.json, a tlr run's model " +
        'folder) or an https:// URL',
    ]);
    return null;
  }
  const text = !s || s.kind === 'name' ? 'imagenet' : s.kind === 'none' ? 'none' : s.location.text;
  if (text === 'imagenet' && !model) return null;
  const r = parseWeights(text, model!, {
    resolve: (p) => ctx.resolve(p),
    exists: (p) => ctx.opts.exists(p),
    show: (p) => ctx.show(p),
  });
  if (!isProblem(r)) return r;
  const span = s?.kind === 'location' ? s.location.span : s?.kind === 'name' ? s.name.span : g.from!.model.span;
  ctx.report(r.code, span, r.message, r.hints);
  return null;
}
