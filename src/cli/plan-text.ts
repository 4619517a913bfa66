import * as path from 'node:path';
import {
  augmentText,
  batchnormText,
  blockRatesText,
  cacheText,
  headText,
  keepsText,
  LAYOUTS,
  sourceText,
  stageBlocks,
  stageRateText,
  startText,
  weightsText,
} from '../review/phrases.js';
import { partImages, type Plan, type PlanStage } from '../contracts/plan.js';
import { locateWeights } from '../runtime/weights/locate.js';
import { fmtInt, plural } from './io.js';
import { displayPath } from '../paths.js';
import { printable } from '../printable.js';

// `tlr plan` in words, in the manner of `terraform plan`: what will happen, where things come from.

const rel = displayPath;

const UNPINNED = ', sha256 pinned in the lock file on first download';

function weights(p: Plan): string[] {
  const w = p.model.weights;
  const at = locateWeights(w);
  const where =
    at.where === 'weights-dir'
      ? `found in $TLR_WEIGHTS_DIR: ${at.path}`
      : at.where === 'cache'
        ? `cached: ${at.path}`
        : at.where === 'download'
          ? `NEEDS A DOWNLOAD (not cached, not in $TLR_WEIGHTS_DIR): tlr run downloads it into ${at.into}; ` +
            `\`tlr fetch\` gets it now, for going offline`
          : at.where === 'missing'
            ? `MISSING: ${at.path}`
            : at.where === 'file'
              ? `file: ${at.path}`
              : '';
  const source = weightsText(p, UNPINNED);
  return w.kind === 'none' ? [source] : [source, where];
}

/** What `tlr plan` prints for a plan. */
/** Images per class and part, at most 20 classes shown, with the totals. */
function countsTable(d: Plan['data']): string[] {
  // Class and label names come from folder names and CSV cells: escaped before they are padded and printed.
  const names = d.classes.map((c) => printable(c));
  const cw = Math.max(5, ...names.map((c) => c.length));
  const counts = [d.counts.train, d.counts.validation, d.counts.test];
  const line = (name: string, cells: (number | string)[]) =>
    `${name.padEnd(cw)}  ${cells.map((c) => String(c).padStart(10)).join('  ')}`;
  const shown = Math.min(d.classes.length, 20);
  return [
    line(d.images ? 'label' : 'class', ['train', 'validation', 'test']),
    ...names.slice(0, shown).map((c, i) =>
      line(
        c,
        counts.map((x) => (x ? x[i]! : '-')),
      ),
    ),
    ...(shown < d.classes.length ? [`… and ${d.classes.length - shown} more classes`] : []),
    line(
      d.images ? 'images' : 'total',
      (['train', 'validation', 'test'] as const).map((k) => partImages(d, k) ?? '-'),
    ),
  ];
}

/** Whether what this stage caches is computed by the int8 network (`features int8`). */
const cachedInt8 = (p: Plan, s: PlanStage) => !!p.features && (s.featureCache.use || !!s.featureCache.prefix);

/** A stage's lines: its settings, where it starts, what is frozen and trained, rates, BatchNorm and caching. */
function stageLines(p: Plan, s: PlanStage): string[] {
  const b = stageBlocks(p, s);
  const rates = blockRatesText(s);
  return [
    `${plural(s.epochs, 'epoch')} · batch ${s.batch} · ${s.optimizer} · lr ${stageRateText(s)}` +
      `${s.earlyStop ? ` · early stop on ${s.earlyStop.metric}, patience ${s.earlyStop.patience}` : ''}` +
      `${s.classWeights === 'auto' ? ' · class weights auto' : ''}` +
      `${s.sampler === 'balanced' ? ' · balance classes' : ''}`,
    startText(s),
    `frozen     ${b.frozen.join(', ') || 'nothing'}: ${plural(s.frozen.layers, 'layer')}, ${fmtInt(s.frozen.params)} ` +
      `parameters (${s.frozen.by})`,
    `trainable  ${b.trainable.join(', ')}: ${fmtInt(s.trainable.backboneParams + s.trainable.headParams)} parameters`,
    ...(rates ? [`rates      ${rates}`] : []),
    ...(s.trainable.backboneParams > 0 ? [`batchnorm  ${batchnormText(s)}`] : []),
    `features   ${cacheText(s.featureCache)}${cachedInt8(p, s) ? ' in int8' : ''}: ${s.featureCache.reason}`,
  ];
}

export function planText(p: Plan): string {
  const dir = path.dirname(p.recipe.file);
  const L: string[] = [];
  const row = (label: string, ...lines: string[]) =>
    lines.forEach((l, i) => {
      L.push(`${(i ? '' : label).padEnd(11)}${l}`);
    });
  L.push(printable(`tlr plan · ${p.recipe.name} (${rel(process.cwd(), p.recipe.file)})`), '');
  const m = p.model;
  row(
    'model',
    `${m.name}${m.width !== null ? ` width ${m.width}` : ''} · input ${m.inputSize}×${m.inputSize} · ` +
      `${m.preprocessing.description}`,
  );
  row('weights', ...weights(p));
  row(
    'backbone',
    `${plural(m.layers, 'layer')}, ${fmtInt(m.params)} parameters; features from ${m.featureLayer} (${m.featureSize})`,
  );
  row('head', `${headText(p)} · ${fmtInt(p.head.params)} parameters, always trained`);
  L.push('');
  const d = p.data;
  const kinds = d.images ? plural(d.classes.length, 'label') : plural(d.classes.length, 'class', 'classes');
  row('data', `${rel(dir, d.root)} (${LAYOUTS[d.format]}) · ${kinds}`);
  const multi = !!d.images;
  row('', sourceText(dir, d.validation, 'validation', multi), sourceText(dir, d.test, 'test', multi));
  if (d.validation.kind === 'split' || d.test?.kind === 'split')
    row(
      '',
      `split ${d.split.train}/${d.split.validation}${d.split.test ? `/${d.split.test}` : ''}, stratified by ` +
        `${multi ? 'label (iterative stratification)' : 'class'}, seed ${p.seed}`,
    );
  if (multi) row('', 'multi-label: an image may have any of the labels; counts are images with each label');
  for (const l of countsTable(d)) row('', l);
  row('augment', augmentText(d.augment));
  for (const s of p.stages) {
    L.push('');
    const [first, ...rest] = stageLines(p, s);
    row(`stage ${s.index}`, first!);
    for (const l of rest) row('', l);
  }
  L.push('');
  row('saves', `${keepsText(p)}${p.save.to ? `, copied to ${rel(dir, p.save.to)}` : ''}`);
  row(
    '',
    `run folder ${rel(dir, p.output.runsDir)}/<timestamp>/ (recipe, plan, metrics.jsonl, model, ` +
      `report.json, report.html)`,
  );
  return L.join('\n');
}
