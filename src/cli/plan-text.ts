import * as path from 'node:path';
import { formatLr, stageLr } from '../text/format.js';
import { headLayerText } from '../zoo/head-layers.js';
import { tieBreakOf, type Plan, type PlanSplitSource, type PlanStage } from '../plan/types.js';
import { locateWeights } from '../runtime/weights/locate.js';
import { fmtInt, plural } from './io.js';
import { displayPath } from '../paths.js';
import { printable } from '../printable.js';

// `tlr plan` in words, in the manner of `terraform plan`: what will happen, where things come from.

const rel = displayPath;

const head = (p: Plan): string => p.head.layers.map(headLayerText).join(' → ');

const schedule = (s: PlanStage['lr']['schedule']): string =>
  (s.kind === 'step'
    ? `× ${s.factor} every ${plural(s.every, 'epoch')}`
    : s.kind === 'one-cycle'
      ? `one-cycle (up from ÷25 over ` +
        `${s.warmup !== undefined ? plural(s.warmup, 'epoch') : 'the first quarter'}, then down along a cosine)`
      : s.kind) +
  (s.warmup !== undefined && s.kind !== 'one-cycle' ? `, warm-up over ${plural(s.warmup, 'epoch')}` : '');

/** `lr LOW..HIGH`: each trained block's rate, then the head's. */
const blockRates = (s: PlanStage): string | null =>
  s.lr.blocks
    ? [...s.lr.blocks.map((b) => `${b.block} ${formatLr(b.lr)}`), `head ${formatLr(s.lr.initial)}`].join(' · ')
    : null;

function blocks(p: Plan, s: PlanStage): { frozen: string; trainable: string } {
  let i = 0;
  const frozen: string[] = [],
    trainable: string[] = [];
  for (const b of p.model.blocks) {
    const first = i,
      last = i + b.layers - 1;
    i += b.layers;
    if (last < s.frozen.layers) frozen.push(b.name);
    else if (first >= s.frozen.layers) trainable.push(b.name);
    else {
      frozen.push(`${b.name} (up to ${s.frozen.through})`);
      trainable.push(`${b.name} (from ${s.trainable.from})`);
    }
  }
  return { frozen: frozen.join(', ') || 'nothing', trainable: [...trainable, 'head'].join(', ') };
}

const cacheUse = (c: PlanStage['featureCache']): string =>
  c.use ? 'cached' : c.prefix ? 'frozen part cached' : 'not cached';

const UNPINNED = ', sha256 pinned in the lock file on first download';

/** What each data format is called in the plan's data row. */
const LAYOUTS: Record<Plan['data']['format'], string> = {
  folders: 'class folders',
  'split-folders': 'train/val/test folders',
  idx: 'IDX files',
  csv: 'CSV',
};

/** A stage's rate and schedule, as the plan's stage row says it. */
const stageRate = (s: PlanStage): string => {
  const rate = s.lr.auto ? 'auto (the learning-rate finder picks it when the stage starts)' : stageLr(s.lr);
  return `${rate} ${schedule(s.lr.schedule)}`;
};

function source(dir: string, s: PlanSplitSource | null, what: string): string {
  if (!s) return `${what}: none`;
  if (s.kind === 'split') return `${what}: ${s.percent}% of each class, set aside from the training data`;
  const part =
    s.format === 'idx' ? ` (IDX ${s.part} files)` : s.format === 'split-folders' ? ` (its ${s.part} folder)` : '';
  return `${what}: ${rel(dir, s.path)}${part}`;
}

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
  switch (w.kind) {
    case 'none':
      return ['none: random initialisation (training from scratch)'];
    case 'imagenet':
      return [`imagenet: ${w.url} (${w.format}${w.sha256 ? `, sha256 ${w.sha256.slice(0, 12)}…` : UNPINNED})`, where];
    case 'file':
      return [`${w.format === 'tlr' ? 'a tlr model' : w.format}: ${w.path}`, where];
    case 'url':
      return [`${w.format}: ${w.url}`, where];
  }
}

/** What `tlr plan` prints for a plan. */
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
  row('head', `${head(p)} · ${fmtInt(p.head.params)} parameters, always trained`);
  L.push('');
  const d = p.data;
  row('data', `${rel(dir, d.root)} (${LAYOUTS[d.format]}) · ${plural(d.classes.length, 'class', 'classes')}`);
  row('', source(dir, d.validation, 'validation'), source(dir, d.test, 'test'));
  if (d.validation.kind === 'split' || d.test?.kind === 'split')
    row(
      '',
      `split ${d.split.train}/${d.split.validation}${d.split.test ? `/${d.split.test}` : ''}, stratified by ` +
        `class, seed ${p.seed}`,
    );
  const cw = Math.max(5, ...d.classes.map((c) => c.length));
  const counts = [d.counts.train, d.counts.validation, d.counts.test];
  const line = (name: string, cells: (number | string)[]) =>
    `${name.padEnd(cw)}  ${cells.map((c) => String(c).padStart(10)).join('  ')}`;
  row('', line('class', ['train', 'validation', 'test']));
  const shown = Math.min(d.classes.length, 20);
  d.classes.slice(0, shown).forEach((c, i) => {
    row(
      '',
      line(
        c,
        counts.map((x) => (x ? x[i]! : '-')),
      ),
    );
  });
  if (shown < d.classes.length) row('', `… and ${d.classes.length - shown} more classes`);
  row(
    '',
    line(
      'total',
      counts.map((x) => (x ? x.reduce((a, b) => a + b, 0) : '-')),
    ),
  );
  row(
    'augment',
    d.augment.length
      ? d.augment
          .map((a) =>
            a.kind === 'flip'
              ? `flip ${a.mode}`
              : a.kind === 'rotate'
                ? `rotate ±${a.degrees}°`
                : `${a.kind} ${a.amount}`,
          )
          .join(', ')
      : 'none',
  );
  for (const s of p.stages) {
    L.push('');
    const b = blocks(p, s);
    row(
      `stage ${s.index}`,
      `${plural(s.epochs, 'epoch')} · batch ${s.batch} · ${s.optimizer} · lr ${stageRate(s)}` +
        `${s.earlyStop ? ` · early stop on ${s.earlyStop.metric}, patience ${s.earlyStop.patience}` : ''}` +
        `${s.classWeights === 'auto' ? ' · class weights auto' : ''}`,
    );
    row(
      '',
      `starts from ${s.startFrom === 'weights' ? 'the loaded weights' : `the best weights of stage ${s.index - 1}`}`,
    );
    row(
      '',
      `frozen     ${b.frozen}: ${plural(s.frozen.layers, 'layer')}, ${fmtInt(s.frozen.params)} ` +
        `parameters (${s.frozen.by})`,
    );
    row('', `trainable  ${b.trainable}: ${fmtInt(s.trainable.backboneParams + s.trainable.headParams)} parameters`);
    const rates = blockRates(s);
    if (rates) row('', `rates      ${rates}`);
    if (s.trainable.backboneParams > 0)
      row(
        '',
        `batchnorm  ${
          (s.batchnorm ?? 'update') === 'keep'
            ? 'layers that train keep their ' + 'statistics (inference mode)'
            : 'layers that train normalise by each batch and update their statistics'
        }`,
      );
    row('', `features   ${cacheUse(s.featureCache)}: ${s.featureCache.reason}`);
  }
  L.push('');
  const tie = p.save.tieBreak ?? tieBreakOf(p.save.metric);
  row(
    'saves',
    `${
      p.save.which === 'best'
        ? `the best model by ${p.save.metric} (${p.save.mode}; a tie goes to the ` +
          `${tie.mode === 'min' ? 'lower' : 'higher'} ${tie.metric})`
        : 'the last model'
    }${p.save.to ? `, copied to ${rel(dir, p.save.to)}` : ''}`,
  );
  row(
    '',
    `run folder ${rel(dir, p.output.runsDir)}/<timestamp>/ (recipe, plan, metrics.jsonl, model, ` +
      `report.json, report.html)`,
  );
  return L.join('\n');
}
