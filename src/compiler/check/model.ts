import * as path from 'node:path';
import { describe, family, CatalogError, MODEL_NAMES, type ModelInfo } from '../../zoo/catalog.js';
import type { Globals } from './statements.js';
import type { Ctx } from './context.js';
import type { ResolvedWeights } from './checked.js';
import { didYouMean, oneOf } from './suggest.js';

/** `from`, `width`, `input`: the network's metadata, or null (reported). */
export function checkModel(ctx: Ctx, g: Globals, file: { start: { offset: number; line: number; column: number } }): ModelInfo | null {
  if (!g.from) {
    for (const s of [g.weights, g.width, g.input]) if (s) ctx.report('TLR1405', s.keyword, `\`${s.kind}\` describes the model, but the recipe has no \`from\``, ['add `from MODEL` first, e.g. `from mobilenet_v2`']);
    ctx.report('TLR1001', { start: file.start, end: file.start }, 'the recipe does not say which network to start from', [
      'add `from mobilenet_v2` (or another network: `tlr models` lists them)',
    ]);
    return null;
  }
  const name = g.from.model.text;
  const f = family(name);
  if (!f) {
    ctx.report('TLR1002', g.from.model.span, `there is no model named \`${name}\` in the zoo`, [...didYouMean(name, MODEL_NAMES), 'run `tlr models` to list the zoo']);
    return null;
  }
  let width: number | null = null;
  if (g.width) {
    const w = g.width.value;
    if (!f.widths) {
      ctx.report('TLR1003', w.span, `${name} has no width multiplier`, ['`width` applies to mobilenet_v1 and mobilenet_v2; remove it']);
      return null;
    }
    if (!f.widths.includes(w.value)) {
      ctx.report('TLR1003', w.span, `${name} comes in widths ${oneOf(f.widths.map(String))}, not ${w.text}`, [`pick one of ${oneOf(f.widths.map(String))}`]);
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
    ctx.report('TLR1004', g.input!.value.span, `input ${size} is too small for ${name}`, [`${name} is trained at ${f.inputSize}; use at least that much detail when you can`]);
    return null;
  }
}

const formatOf = (p: string): 'tfjs' | 'safetensors' | null =>
  p.toLowerCase().endsWith('.json') ? 'tfjs' : p.toLowerCase().endsWith('.safetensors') ? 'safetensors' : null;

/** `weights`: where the backbone's starting weights come from. */
export function checkWeights(ctx: Ctx, g: Globals, model: ModelInfo | null): ResolvedWeights | null {
  const s = g.weights?.source;
  if (!s || (s.kind === 'name' && s.name.text === 'imagenet')) {
    if (!model) return null;
    if (!model.weights) {
      const at = s?.kind === 'name' ? s.name.span : g.from!.model.span;
      ctx.report('TLR1007', at, `no ImageNet weights for ${model.name}${model.width !== null ? ` width ${model.width}` : ''} exist in a format tlr reads (TF.js or safetensors)`, [
        '`weights none` trains it from scratch; `weights ./model.safetensors` loads your own file', 'run `tlr models` to see which networks have ImageNet weights',
      ]);
      return null;
    }
    return { kind: 'imagenet', source: model.weights };
  }
  if (s.kind === 'none') return { kind: 'none' };
  if (s.kind === 'name') {
    ctx.report('TLR1005', s.name.span, `\`${s.name.text}\` is not a weights source`, [...didYouMean(s.name.text, ['imagenet', 'none']), 'write `weights imagenet`, `weights none`, a path (./w.safetensors, ./model.json, a tlr run\'s model folder) or an https:// URL']);
    return null;
  }
  const loc = s.location;
  if (loc.url) {
    const format = formatOf(new URL(loc.text, 'https://x').pathname);
    if (!/^https?:\/\//.test(loc.text) || !format) {
      ctx.report('TLR1005', loc.span, `cannot load weights from ${loc.text}`, ['a URL must be http(s) and end in model.json (TF.js) or .safetensors']);
      return null;
    }
    return { kind: 'url', url: loc.text, format };
  }
  const abs = ctx.resolve(loc.text);
  const kind = ctx.opts.exists(abs);
  if (!kind) {
    ctx.report('TLR1006', loc.span, `weights file ${ctx.show(abs)} does not exist`, [`paths are relative to the recipe's folder (${ctx.dir})`]);
    return null;
  }
  if (kind === 'dir') {
    if (ctx.opts.exists(path.join(abs, 'model.json')) !== 'file') {
      ctx.report('TLR1006', loc.span, `${ctx.show(abs)} is a folder without model.json`, ['give the model folder of a tlr run (it holds model.json), a model.json, or a .safetensors file']);
      return null;
    }
    return { kind: 'file', path: path.join(abs, 'model.json'), format: 'tlr' };
  }
  const format = formatOf(abs);
  if (!format) {
    ctx.report('TLR1005', loc.span, `cannot tell the format of ${ctx.show(abs)}`, ['tlr reads TF.js models (model.json beside its weight shards) and .safetensors files']);
    return null;
  }
  return { kind: 'file', path: abs, format };
}
