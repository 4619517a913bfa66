import { isNum, isRange, lrText, type Augmentation, type Name, type Num, type Range, type Statement } from '../ast.js';
import type { Ctx } from './context.js';
import { classWeightsMode, samplerOf, twiceBalanced } from './balance.js';
import type { Globals, StageStatements } from './statements.js';
import type { AugmentSpec, Metric, ScheduleSpec, StageSpec } from './checked.js';
import { didYouMean, oneOf } from './suggest.js';

/**
 * A first stage's learning rate when the recipe writes none: 3e-3 when it trains only the head (the
 * best fixed rate, or close to it, on the three data sets of docs/language.md "Finding a learning rate"), else
 * 1e-3 (Adam's usual rate for a whole network). A later stage's default is the previous one's / 10.
 */
export const DEFAULT_HEAD_LR = 3e-3;
export const DEFAULT_LR = 1e-3;
/**
 * A first stage that trains a network from random weights (`weights none`) and writes no `lr`:
 * 3e-3 one-cycle (docs/performance.md "Defaults, measured": better than 1e-3 constant on 7 of 8 network and data set
 * pairs).
 */
export const DEFAULT_SCRATCH_LR = 3e-3;
export const DEFAULT_SCRATCH_SCHEDULE: ScheduleSpec = { kind: 'one-cycle' };
/** `train on ./data` (no count) for a head on cached features: docs/performance.md "Defaults, measured". */
export const DEFAULT_HEAD_EPOCHS = 20;

/**
 * BatchNorm layers that train, when a recipe does not say: docs/language.md "BatchNorm while fine-tuning" has the
 * measurements.
 */
export const DEFAULT_BATCHNORM: 'keep' | 'update' = 'update';

/** The smallest learning rate a stage may get by inheritance (a written one only has to be > 0). */
const MIN_LR = 1e-12;

export const OPTIMIZERS = ['adam', 'sgd', 'rmsprop'] as const;
export const SCHEDULES = ['constant', 'cosine', 'step', 'one-cycle'] as const;
export const METRICS: readonly Metric[] = ['val_accuracy', 'val_loss', 'accuracy', 'loss', 'val_map'];
/** Other names a recipe may write for a metric: `map` is the validation part's mAP (there is no training mAP). */
export const METRIC_ALIASES: Readonly<Record<string, Metric>> = { map: 'val_map' };
export const AUGMENTATIONS = ['flip', 'rotate', 'zoom', 'brightness', 'contrast', 'shift'] as const;

/** A metric name, or null (reported). */
export function metric(ctx: Ctx, n: Name): Metric | null {
  if ((METRICS as readonly string[]).includes(n.text)) return n.text as Metric;
  if (Object.hasOwn(METRIC_ALIASES, n.text)) return METRIC_ALIASES[n.text]!;
  ctx.report('TLR1603', n.span, `unknown metric \`${n.text}\``, [
    ...didYouMean(n.text, [...METRICS, ...Object.keys(METRIC_ALIASES)]),
    `metrics: ${oneOf([...METRICS])}`,
  ]);
  return null;
}

/** The schedule an `lr` clause writes (a warm-up alone is the constant schedule with one), or null (reported). */
function schedule(ctx: Ctx, s: Extract<Statement, { kind: 'lr' }>, epochs: number | null): ScheduleSpec | null {
  const sch = s.schedule,
    v = lrText(s.value);
  const name = sch?.name.text ?? 'constant';
  if (sch && !(SCHEDULES as readonly string[]).includes(name)) {
    ctx.report('TLR1602', sch.name.span, `unknown learning-rate schedule \`${name}\``, [
      ...didYouMean(name, SCHEDULES),
      'schedules: constant, cosine, step FACTOR every N (epochs), one-cycle',
    ]);
    return null;
  }
  const warmup = s.warmup ? warmupEpochs(ctx, s.warmup, epochs) : undefined;
  if (warmup === null) return null;
  const w = warmup === undefined ? {} : { warmup };
  if (name !== 'step') {
    if (sch && (sch.args.length || sch.every)) {
      ctx.report('TLR1203', s.span, `\`${name}\` takes no arguments`, [`write \`lr ${v} ${name}\``]);
      return null;
    }
    return { kind: name as 'constant' | 'cosine' | 'one-cycle', ...w };
  }
  if (sch!.args.length !== 1 || !sch!.every) {
    ctx.report('TLR1203', s.span, '`step` takes a factor and a period', [
      `write \`lr ${v} step 0.1 every 5\`: the rate is multiplied by 0.1 every 5 epochs`,
    ]);
    return null;
  }
  const factor = ctx.real(sch!.args[0]!, 'the step factor', (x) => x > 0 && x <= 1, '0 < factor <= 1');
  const every = ctx.int(sch!.every, 'the step period', 1);
  return factor === null || every === null ? null : { kind: 'step', factor, every, ...w };
}

const epochsText = (n: number) => `${n} epoch${n === 1 ? '' : 's'}`;

/** `train N epochs`, or with no count the default for a head on cached features (else reported). */
function epochCount(ctx: Ctx, train: Extract<Statement, { kind: 'train' }>, cachedHead: boolean): number | null {
  if (train.epochs) return ctx.int(train.epochs, 'epochs', 1, 100000);
  if (cachedHead) return DEFAULT_HEAD_EPOCHS;
  ctx.report(
    'TLR1611',
    train.keyword,
    'how many epochs? Only a stage that trains the head alone on cached features has a default',
    [
      `write \`train 10 epochs${train.data ? ` on ${train.data.text}` : ''}\``,
      `a head on a frozen backbone with nothing augmented trains ${DEFAULT_HEAD_EPOCHS} epochs by default`,
    ],
  );
  return null;
}

/** The stage before's schedule, for a stage whose `lr` writes none; its warm-up must fit this stage too. */
function inherited(
  ctx: Ctx,
  st: StageStatements,
  sched: ScheduleSpec | undefined,
  epochs: number | null,
): ScheduleSpec | null {
  if (!sched) return { kind: 'constant' };
  if (sched.warmup === undefined || epochs === null || sched.warmup < epochs) return sched;
  ctx.report(
    'TLR1610',
    st.then!.keyword,
    `this stage keeps the stage before's warm-up of ${epochsText(sched.warmup)}, but trains ${epochs}: the rate ` +
      `would never reach its value`,
    [
      `write the stage's \`lr\` with its own schedule, for example \`lr … ` +
        `${sched.kind === 'step' ? `step ${sched.factor} every ${sched.every}` : sched.kind}\` (no warm-up)`,
    ],
  );
  return null;
}

/** `warmup N`: epochs (a fraction is fine), shorter than the stage. */
function warmupEpochs(ctx: Ctx, n: Num, epochs: number | null): number | null {
  const w = ctx.real(n, 'the warm-up', (x) => x > 0, '> 0 epochs');
  if (w === null || epochs === null || w < epochs) return w;
  ctx.report(
    'TLR1610',
    n.span,
    `a warm-up of ${epochsText(w)} in a stage of ${epochs}: the rate would never reach its value`,
    [`write \`warmup ${epochs > 1 ? Math.max(1, Math.floor(epochs / 4)) : 0.25}\` (epochs), or train longer`],
  );
  return null;
}

/** A range's two rates, the low end first; null (reported) unless 0 < low < high < 10. */
function range(ctx: Ctx, r: Range): { low: number; high: number } | null {
  const within = (x: number) => x > 0 && x < 10;
  const low = ctx.real(r.low, 'the learning rate', within, '0 < lr < 10'),
    high = ctx.real(r.high, 'the learning rate', within, '0 < lr < 10');
  if (low === null || high === null) return null;
  if (low < high) return { low, high };
  ctx.report(
    'TLR1608',
    r.span,
    `\`lr ${r.low.text}..${r.high.text}\`: a range goes from the lowest trained block's rate up to the head's`,
    [`write \`lr ${r.high.text}..${r.low.text}\``, 'or one rate for every layer: `lr 0.001`'],
  );
  return null;
}

type Rate = Pick<StageSpec, 'lr' | 'lrAuto' | 'lrLow' | 'schedule'>;

/**
 * A stage's rate and schedule: as written (a rate, a range, or `auto`), else the default (the
 * stage before's / 10 with its schedule; for a first stage, by what it trains); null when reported.
 */
function stageRate(
  ctx: Ctx,
  st: StageStatements,
  i: number,
  prev: StageSpec | undefined,
  epochs: number | null,
  headOnly: boolean,
  fromRandom: boolean,
): Rate | null {
  const value = st.lr?.value;
  const word = value && !isRange(value) && !isNum(value) ? value : null;
  if (word && word.text !== 'auto') {
    ctx.report('TLR1606', word.span, `\`lr ${word.text}\`: a learning rate is a number, or \`auto\``, [
      ...didYouMean(word.text, ['auto']),
      '`lr 0.001`, or `lr auto` to run the learning-rate finder when the stage starts (tlr lr-find shows what it sees)',
    ]);
    return null;
  }
  // `lr auto`: the finder picks it when the stage starts; a later stage that writes no rate does the same.
  const lrAuto = word ? word.text === 'auto' : !st.lr && !!prev?.lrAuto;
  const scratch = fromRandom && !st.lr;
  // A range's upper end is the head's rate (the stage's `lr`); the blocks below get less.
  const lrRange = value && isRange(value) ? range(ctx, value) : null;
  if (value && isRange(value) && !lrRange) return null;
  if (lrRange && headOnly)
    ctx.report(
      'TLR1609',
      value!.span,
      `this stage trains only the head, which gets the range's upper rate, ${lrRange.high}`,
      [`write \`lr ${(value as Range).high.text}\`, or unfreeze blocks for the lower rates to reach`],
    );
  const lr = lrRange
    ? lrRange.high
    : value && !isRange(value) && isNum(value)
      ? ctx.real(value, 'the learning rate', (v) => v > 0 && v < 10, '0 < lr < 10')
      : prev
        ? +(prev.lr / 10).toPrecision(12)
        : headOnly
          ? DEFAULT_HEAD_LR
          : scratch
            ? DEFAULT_SCRATCH_LR
            : DEFAULT_LR;
  // A derived rate is checked like a written one: many `then` stages divide it down to nothing.
  if (!st.lr && prev && lr !== null && lr < MIN_LR) {
    ctx.report(
      'TLR1501',
      st.then!.keyword,
      `stage ${i + 1}'s learning rate would be ${lr.toExponential(1)} (the stage before's divided by 10), too ` +
        `small to train anything`,
      [`write \`lr …\` in this stage (at least ${MIN_LR})`],
    );
    return null;
  }
  const sched =
    st.lr?.schedule || st.lr?.warmup
      ? schedule(ctx, st.lr, epochs)
      : scratch
        ? DEFAULT_SCRATCH_SCHEDULE
        : inherited(ctx, st, prev?.schedule, epochs);
  return lr === null || sched === null
    ? null
    : { lr, lrAuto, lrLow: lrRange && !headOnly ? lrRange.low : null, schedule: sched };
}

/** `keep|update batchnorm statistics`: the mode, or null (reported) when the two words are not those. */
function batchnormMode(ctx: Ctx, s: NonNullable<StageStatements['batchnorm']>): 'keep' | 'update' | null {
  const [a, b] = s.words;
  if (a?.text === 'batchnorm' && b?.text === 'statistics') return s.mode;
  ctx.report(
    'TLR1607',
    { start: a!.span.start, end: b!.span.end },
    `\`${s.mode} ${a?.text} ${b?.text}\`: write \`${s.mode} batchnorm statistics\``,
    [
      '`keep batchnorm statistics`: BatchNorm layers that train stay in inference mode (their statistics ' +
        'are kept); `update batchnorm statistics`: they normalise by each batch and update their statistics',
    ],
  );
  return null;
}

/** Each stage's settings; a later stage inherits all but `lr`, which defaults to the previous / 10. */
export function checkStages(
  ctx: Ctx,
  stages: readonly StageStatements[],
  frozen: readonly { frozen: number; by: string }[] | null,
  backboneLayers: number | null = null,
  pretrained = true,
  augmented = false,
): StageSpec[] | null {
  const out: StageSpec[] = [];
  let ok = true;
  for (const [i, st] of stages.entries()) {
    const prev = out[i - 1];
    const headOnly = !!frozen?.[i] && backboneLayers !== null && frozen[i]!.frozen >= backboneLayers;
    const epochs = st.train ? epochCount(ctx, st.train, headOnly && !augmented) : null;
    const batch = st.batch ? ctx.int(st.batch.value, 'batch', 1, 65536) : (prev?.batch ?? 32);
    let optimizer: string | null = prev?.optimizer ?? 'adam';
    if (st.optimizer) {
      const n = st.optimizer.name;
      optimizer = (OPTIMIZERS as readonly string[]).includes(n.text) ? n.text : null;
      if (!optimizer)
        ctx.report('TLR1601', n.span, `unknown optimizer \`${n.text}\``, [
          ...didYouMean(n.text, OPTIMIZERS),
          `optimizers: ${oneOf([...OPTIMIZERS])}`,
        ]);
    }
    const rate = stageRate(ctx, st, i, prev, epochs, headOnly, i === 0 && !pretrained && frozen?.[0]?.frozen === 0);
    if (!rate) ok = false;
    let earlyStop = prev?.earlyStop ?? null;
    if (st.earlyStop) {
      const m = st.earlyStop.metric ? metric(ctx, st.earlyStop.metric) : 'val_loss';
      const p = st.earlyStop.patience ? ctx.int(st.earlyStop.patience, 'patience', 1) : 3;
      earlyStop = m && p ? { metric: m, patience: p } : null;
      if (!earlyStop) ok = false;
    }
    const batchnorm = st.batchnorm ? batchnormMode(ctx, st.batchnorm) : (prev?.batchnorm ?? DEFAULT_BATCHNORM);
    if (!batchnorm) ok = false;
    const classWeights = st.classWeights ? classWeightsMode(ctx, st.classWeights) : (prev?.classWeights ?? 'none');
    if (!classWeights) ok = false;
    const sampler = st.balance ? samplerOf(ctx, st.balance) : (prev?.sampler ?? 'shuffle');
    if (!sampler) ok = false;
    twiceBalanced(ctx, st, sampler, classWeights);
    if (
      epochs === null ||
      batch === null ||
      optimizer === null ||
      !rate ||
      !frozen ||
      !batchnorm ||
      !classWeights ||
      !sampler
    ) {
      ok = false;
      continue;
    }
    out.push({
      epochs,
      batch,
      optimizer,
      ...rate,
      batchnorm,
      earlyStop,
      classWeights,
      sampler,
      frozen: frozen[i]!.frozen,
      frozenBy: frozen[i]!.by,
    });
  }
  return ok && out.length === stages.length ? out : null;
}

function augmentation(ctx: Ctx, a: Augmentation): AugmentSpec | null {
  const kind = a.name.text;
  const [x] = a.args;
  const amount = (what: string, max: number): number | null => {
    if (a.args.length !== 1 || !x || !isNum(x)) {
      ctx.report('TLR1203', a.span, `${kind} takes one number`, [`for example \`${kind} ${max === 180 ? 15 : 0.1}\``]);
      return null;
    }
    return ctx.real(x, what, (v) => v > 0 && v <= max, `0 < ${kind} <= ${max}`);
  };
  switch (kind) {
    case 'flip': {
      if (!x) return { kind: 'flip', mode: 'horizontal' };
      const mode =
        !isNum(x) && a.args.length === 1 && ['horizontal', 'vertical', 'both'].includes(x.text) ? x.text : null;
      if (!mode) {
        ctx.report('TLR1203', a.span, 'flip takes horizontal (the default), vertical or both', [
          'for example `flip` or `flip both`',
        ]);
        return null;
      }
      return { kind: 'flip', mode: mode as 'horizontal' | 'vertical' | 'both' };
    }
    case 'rotate': {
      const v = amount('the rotation in degrees', 180);
      return v === null ? null : { kind, degrees: v };
    }
    case 'zoom':
    case 'brightness':
    case 'contrast':
    case 'shift': {
      const v = amount(`the ${kind}`, 1);
      return v === null ? null : { kind, amount: v };
    }
    default:
      ctx.report('TLR1604', a.name.span, `unknown augmentation \`${kind}\``, [
        ...didYouMean(kind, AUGMENTATIONS),
        `augmentations: ${oneOf([...AUGMENTATIONS])}`,
      ]);
      return null;
  }
}

/** `augment …`: each augmentation with its range checked, or null (reported). */
export function checkAugment(ctx: Ctx, g: Globals): AugmentSpec[] | null {
  if (!g.augment) return [];
  const specs = g.augment.items.map((a) => augmentation(ctx, a));
  const seen = new Set<string>();
  for (const [i, a] of g.augment.items.entries()) {
    if (seen.has(a.name.text))
      ctx.report('TLR1401', a.name.span, `\`${a.name.text}\` is listed twice in augment`, ['keep one']);
    seen.add(a.name.text);
    if (!specs[i]) return null;
  }
  return seen.size === specs.length ? (specs as AugmentSpec[]) : null;
}

/** `seed N`, or the default 42. */
export function checkSeed(ctx: Ctx, g: Globals): number | null {
  return g.seed ? ctx.int(g.seed.value, 'seed', 0, 2 ** 31 - 1) : 42;
}
