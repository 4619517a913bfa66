import { CLAUSES } from '../compiler/clauses.js';
import type { Span } from '../compiler/source.js';
import { describe, family, type ModelInfo } from '../zoo/catalog.js';
import { fmtInt, plural } from '../review/phrases.js';
import { partImages, taskOf, type Plan } from '../contracts/plan.js';
import { inside, modelOf, toRange, viewAt, type Doc, type Pos, type Range } from './document.js';

// Hover: what a clause word, a network, a block or layer, or a data folder is, from the clause table, the zoo and the
// plan.

/**
 * Where a network's ImageNet weights are on this machine (cached, in $TLR_WEIGHTS_DIR, or to be
 * downloaded): the host that can look (the CLI) hands this in; the services never read the cache.
 */
export type WeightsWhere = (weights: NonNullable<ModelInfo['weights']>) => string;
let weightsWhere: WeightsWhere | null = null;
export const setWeightsWhere = (fn: WeightsWhere | null): void => {
  weightsWhere = fn;
};

/** A network as the recipe sets it up: its width and input size are the recipe's (`m`), not the defaults. */
function networkHover(name: string, m: ModelInfo): string {
  const f = family(name)!;
  const width = m.width !== null && f.widths ? ` width ${m.width}` : '';
  return [
    `**${name}${width}**: ${f.summary}`,
    '',
    `input ${m.inputSize}×${m.inputSize}${f.widths ? ` · widths ${f.widths.join(', ')}` : ''} · ` +
      `${plural(m.layers.length, 'layer')}, ${fmtInt(m.backboneParams)} parameters · features ${m.featureSize} ` +
      `from ${m.featureLayer}`,
    '',
    `blocks: ${m.blocks.map((b) => `${b.name} (${fmtInt(b.params)})`).join(', ')}`,
    '',
    m.weights
      ? `ImageNet weights: ${m.weights.url}${weightsWhere ? ` (${weightsWhere(m.weights)})` : ''}`
      : 'no published ImageNet weights tlr can read',
  ].join('\n');
}

function layerHover(m: ModelInfo, name: string): string | null {
  const b = m.blocks.find((x) => x.name === name || x.aliases.includes(name));
  if (b) {
    const first = m.layers[b.first]!,
      last = m.layers[b.last]!;
    return (
      `**${b.name}** of ${m.name}: layers ${b.first}–${b.last} (${first.name} … ${last.name}), ` +
      `${fmtInt(b.params)} parameters; output ${last.shape.join('×')}`
    );
  }
  const l = m.layers.find((x) => x.name === name);
  return l
    ? `**${l.name}** (${l.kind}) of ${m.name}: layer ${l.index} in ${l.block}, ${fmtInt(l.params)} parameters; ` +
        `output ${l.shape.join('×')}`
    : null;
}

function dataHover(plan: Plan | null): string | null {
  if (!plan) return null;
  const rows = plan.data.classes.map(
    (c, i) =>
      `| ${c} | ${plan.data.counts.train[i]} | ${plan.data.counts.validation[i]} | ` +
      `${plan.data.counts.test?.[i] ?? '-'} |`,
  );
  const multi = taskOf(plan) === 'multi-label';
  const n = (k: 'train' | 'validation' | 'test') => partImages(plan.data, k) ?? 0;
  const kinds = multi
    ? plural(plan.data.classes.length, 'label')
    : plural(plan.data.classes.length, 'class', 'classes');
  return [
    `**${plan.data.root}**: ${kinds}${multi ? ' (multi-label: counts are images with each label)' : ''}, ` +
      `${n('train')} training, ${n('validation')} validation, ${n('test')} test images`,
    '',
    `| ${multi ? 'label' : 'class'} | train | validation | test |`,
    '|---|---|---|---|',
    ...rows.slice(0, 30),
  ].join('\n');
}

const MULTI_LABEL_HOVER =
  '**multi-label**: the head gives one sigmoid per label, and an image may have any set of them. The data gives ' +
  'several labels per image: a CSV with a `labels` column (labels separated by `;`) or one 0/1 column per label; ' +
  '`split` keeps every label in every part.';

/** Markdown for what is under the cursor: a clause word, a network, a block or layer, a data folder. */
export function hover(doc: Doc, p: Pos): { contents: string; range: Range } | null {
  const v = viewAt(doc, p);
  const s = v?.ast.statements.find((x) => inside(x.span, p));
  if (!v || !s) return null;
  const on = (span: Span) => inside(span, p);
  if (on(s.keyword)) {
    const c = (CLAUSES as Record<string, { words: string; usage: string }>)[s.kind];
    return c ? { contents: `\`${c.usage}\``, range: toRange(s.keyword) } : null;
  }
  if (s.kind === 'head' && s.task && on(s.task.span))
    return { contents: MULTI_LABEL_HOVER, range: toRange(s.task.span) };
  if (s.kind === 'from' && on(s.model.span) && family(s.model.text))
    return {
      contents: networkHover(s.model.text, modelOf(v) ?? describe(s.model.text)),
      range: toRange(s.model.span),
    };
  const layer =
    s.kind === 'freeze' && s.target.kind === 'until'
      ? s.target.layer
      : s.kind === 'unfreeze' && s.target.kind === 'from'
        ? s.target.layer
        : null;
  const m = modelOf(v);
  if (layer && m && on(layer.span)) {
    const text = layerHover(m, layer.text);
    return text ? { contents: text, range: toRange(layer.span) } : null;
  }
  const data = s.kind === 'train' ? s.data : s.kind === 'validate' || s.kind === 'test' ? s.data : null;
  if (data && on(data.span)) {
    const text = dataHover(v.plan);
    return text ? { contents: text, range: toRange(data.span) } : null;
  }
  return null;
}
