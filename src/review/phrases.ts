import { fmtInt, formatLr, plural, stageLr } from '../text/numbers.js';

export { fmtInt, plural };
import { headLayerText } from '../zoo/head-layers.js';
import { displayPath } from '../paths.js';
import { tieBreakOf, type Plan, type PlanAugment, type PlanSplitSource, type PlanStage } from '../contracts/plan.js';

// A plan's parts in words, as `tlr plan`, `tlr diff` and `tlr explain` all say them: one phrase
// per part, so a change reads the same wherever it is shown.

/** Seconds as people say a run's length: 40 s, 5.6 min, 3.7 h. */
export const duration = (s: number): string =>
  s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`;

export const headText = (p: Plan): string => p.head.layers.map(headLayerText).join(' → ');

export const scheduleText = (s: PlanStage['lr']['schedule']): string =>
  (s.kind === 'step'
    ? `× ${s.factor} every ${plural(s.every, 'epoch')}`
    : s.kind === 'one-cycle'
      ? `one-cycle (up from ÷25 over ` +
        `${s.warmup !== undefined ? plural(s.warmup, 'epoch') : 'the first quarter'}, then down along a cosine)`
      : s.kind) +
  (s.warmup !== undefined && s.kind !== 'one-cycle' ? `, warm-up over ${plural(s.warmup, 'epoch')}` : '');

/** `lr LOW..HIGH`: each trained block's rate, then the head's; null when every layer has one rate. */
export const blockRatesText = (s: PlanStage): string | null =>
  s.lr.blocks
    ? [...s.lr.blocks.map((b) => `${b.block} ${formatLr(b.lr)}`), `head ${formatLr(s.lr.initial)}`].join(' · ')
    : null;

/** Which blocks a stage freezes and which it trains (a block cut in two is named on both sides). */
export function stageBlocks(p: Plan, s: PlanStage): { frozen: string[]; trainable: string[] } {
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
  return { frozen, trainable: [...trainable, 'head'] };
}

export const cacheText = (c: PlanStage['featureCache']): string =>
  c.use ? 'cached' : c.prefix ? 'frozen part cached' : 'not cached';

/** What each data format is called. */
export const LAYOUTS: Record<Plan['data']['format'], string> = {
  folders: 'class folders',
  'split-folders': 'train/val/test folders',
  idx: 'IDX files',
  csv: 'CSV',
  shards: 'tar shards',
};

/** A stage's rate and schedule. */
export const stageRateText = (s: PlanStage): string => {
  const rate = s.lr.auto ? 'auto (the learning-rate finder picks it when the stage starts)' : stageLr(s.lr);
  return `${rate} ${scheduleText(s.lr.schedule)}`;
};

/** Where a part's images come from, paths relative to `dir`; after `what: ` where the part is named. */
export function sourceText(dir: string, s: PlanSplitSource | null, what = '', multiLabel = false): string {
  const named = (text: string) => (what ? `${what}: ${text}` : text);
  if (!s) return named('none');
  if (s.kind === 'split') {
    const of = multiLabel ? 'the images, every label in it' : 'each class';
    return named(`${s.percent}% of ${of}, set aside from the training data`);
  }
  const part =
    s.format === 'idx' ? ` (IDX ${s.part} files)` : s.format === 'split-folders' ? ` (its ${s.part} folder)` : '';
  return named(`${displayPath(dir, s.path)}${part}`);
}

export const augmentText = (as: readonly PlanAugment[]): string =>
  as.length
    ? as
        .map((a) =>
          a.kind === 'flip'
            ? `flip ${a.mode}`
            : a.kind === 'rotate'
              ? `rotate ±${a.degrees}°`
              : `${a.kind} ${a.amount}`,
        )
        .join(', ')
    : 'none';

export const batchnormText = (s: PlanStage): string =>
  (s.batchnorm ?? 'update') === 'keep'
    ? 'layers that train keep their statistics (inference mode)'
    : 'layers that train normalise by each batch and update their statistics';

export const startText = (s: PlanStage): string =>
  `starts from ${s.startFrom === 'weights' ? 'the loaded weights' : `the best weights of stage ${s.index - 1}`}`;

/** Which model a run keeps. */
export function keepsText(p: Plan): string {
  const tie = p.save.tieBreak ?? tieBreakOf(p.save.metric);
  return p.save.which === 'best'
    ? `the best model by ${p.save.metric} (${p.save.mode}; a tie goes to the ` +
        `${tie.mode === 'min' ? 'lower' : 'higher'} ${tie.metric})`
    : 'the last model';
}

/**
 * Where the weights come from, without where they are on this machine; `unpinned` follows the
 * format of ImageNet weights whose sha256 is not known yet (tlr plan says the lock file pins it).
 */
export function weightsText(p: Plan, unpinned = ''): string {
  const w = p.model.weights;
  switch (w.kind) {
    case 'none':
      return 'none: random initialisation (training from scratch)';
    case 'imagenet':
      return `imagenet: ${w.url} (${w.format}${w.sha256 ? `, sha256 ${w.sha256.slice(0, 12)}…` : unpinned})`;
    case 'file':
      return `${w.format === 'tlr' ? 'a tlr model' : w.format}: ${w.path}`;
    case 'url':
      return `${w.format}: ${w.url}`;
  }
}
