import type { CheckName } from '../clauses.js';
import type { Grouped } from './statements.js';
import type { Ctx } from './context.js';
import { checkModel, checkWeights } from './model.js';
import { checkFreezing } from './freeze.js';
import { checkHead } from './head.js';
import { checkData } from './data.js';
import { fitsTask, taskAgrees } from './multi-label.js';
import { checkAugment, checkSeed, checkStages } from './training.js';
import { checkExport, checkSave } from './save.js';
import { checkFeatures } from './features.js';

// What the checker checks, in order: one row per part of the resolved recipe, each reading the
// clauses the clause table (../clauses.ts, `check` column) assigns to it and the parts checked
// before it. Every row runs even when an earlier one failed (it gets null), so one pass reports
// every problem. check() in ./index.ts is the loop over this table.

const FILE_START = { start: { offset: 0, line: 1, column: 1 } };

/** The parts of a checked recipe, each null when its check reported an error. */
export interface Parts extends Record<CheckName, unknown> {
  readonly recipe: string | null;
  readonly model: ReturnType<typeof checkModel>;
  readonly weights: ReturnType<typeof checkWeights>;
  readonly frozen: ReturnType<typeof checkFreezing>;
  readonly data: ReturnType<typeof checkData>;
  readonly head: {
    readonly layers: NonNullable<ReturnType<typeof checkHead>>;
    readonly task: 'single-label' | 'multi-label';
  } | null;
  readonly stages: ReturnType<typeof checkStages>;
  readonly augment: ReturnType<typeof checkAugment>;
  readonly features: ReturnType<typeof checkFeatures>;
  readonly save: ReturnType<typeof checkSave>;
  readonly seed: ReturnType<typeof checkSeed>;
  readonly exports: ReturnType<typeof checkExport>;
}

export type { CheckName };

type Row<K extends CheckName> = (ctx: Ctx, g: Grouped, done: Partial<Parts>) => Parts[K];

const pretrained = (g: Grouped) => g.globals.weights?.source.kind !== 'none';

/** The checks, in the order they run (a row reads only the rows above it). */
export const CHECKS: { readonly [K in CheckName]: Row<K> } = {
  recipe: (_ctx, g) => g.globals.recipe?.name.text ?? null,
  model: (ctx, g) => checkModel(ctx, g.globals, FILE_START),
  weights: (ctx, g, done) => checkWeights(ctx, g.globals, done.model ?? null),
  frozen: (ctx, g, done) => checkFreezing(ctx, done.model ?? null, g.stages, pretrained(g)),
  data: (ctx, g) => checkData(ctx, g.globals, g.stages),
  // The head's layers, and the task its data and its `multi-label` word agree on.
  head: (ctx, g, done) => {
    const on = g.stages[0]?.train?.data ?? undefined;
    const shown = on ? ctx.show(ctx.resolve(on.text)) : 'the data';
    const layers = checkHead(ctx, g.globals.head, done.data?.classes ?? null, shown);
    const agrees = taskAgrees(ctx, g.globals.head, done.data ?? null, on, shown);
    return layers && agrees
      ? { layers, task: g.globals.head?.task ? ('multi-label' as const) : ('single-label' as const) }
      : null;
  },
  stages: (ctx, g, done) =>
    checkStages(
      ctx,
      g.stages,
      done.frozen ?? null,
      done.model?.layers.length ?? null,
      pretrained(g),
      !!g.globals.augment,
    ),
  augment: (ctx, g) => checkAugment(ctx, g.globals),
  features: (ctx, g, done) => checkFeatures(ctx, g.globals, done.stages ?? null, !!done.augment?.length),
  save: (ctx, g, done) => {
    const task = done.head?.task ?? null;
    const fits = fitsTask(ctx, g, task);
    const saved = checkSave(ctx, g.globals, g.stages, task);
    return fits ? saved : null;
  },
  seed: (ctx, g) => checkSeed(ctx, g.globals),
  exports: (ctx, g) => checkExport(ctx, g.globals),
};

/** Runs every check in order; the parts, each null where its check failed. */
export function runChecks(ctx: Ctx, g: Grouped): Partial<Parts> {
  const done: Partial<Record<CheckName, unknown>> = {};
  for (const [name, row] of Object.entries(CHECKS) as [CheckName, Row<CheckName>][]) {
    done[name] = row(ctx, g, done as Partial<Parts>);
  }
  return done as Partial<Parts>;
}
