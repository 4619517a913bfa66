import { PLAN_ASPECTS, planDir, STAGE_ASPECTS, type Section } from './aspects.js';
import { planCompute, type PlanCompute } from './compute.js';
import { stageBlocks } from './phrases.js';
import type { Plan, PlanStage } from '../contracts/plan.js';
import { cacheKey, kindOf, trainedBefore } from './cache-key.js';

// What a change to a recipe means: the plans compared aspect by aspect (src/review/aspects.ts),
// then the consequences only tlr can work out, because it knows the network and the data:
// parameters that start or stop training, caches that stay valid or not, and the compute.

export interface Change {
  readonly section: Section;
  readonly label: string;
  /** The stage the aspect belongs to (1-based), for stage aspects. */
  readonly stage?: number;
  /** null: the stage is not in that plan. */
  readonly before: string | null;
  readonly after: string | null;
}

export interface Training {
  readonly stage: number;
  readonly before: { readonly trainable: number; readonly frozen: number; readonly blocks: readonly string[] } | null;
  readonly after: { readonly trainable: number; readonly frozen: number; readonly blocks: readonly string[] } | null;
  /** Parameters of the backbone that this change makes train (positive) or freezes (negative), same network only. */
  readonly startTraining: number;
  readonly stopTraining: number;
}

export type CacheState = 'valid' | 'invalidated' | 'new' | 'per-run' | 'none' | 'dropped';

export interface CacheVerdict {
  readonly stage: number;
  readonly kind: 'features' | 'prefix' | 'none';
  readonly state: CacheState;
  readonly why: string;
}

export interface PlanDiff {
  /** The plans are the same apart from the recipe's file name: nothing that runs changes. */
  readonly equal: boolean;
  readonly changes: readonly Change[];
  readonly training: readonly Training[];
  readonly caches: readonly CacheVerdict[];
  readonly compute: { readonly before: PlanCompute; readonly after: PlanCompute };
}

/** The plan without where its recipe file is: two copies of one recipe in two places plan the same run. */
export const runKey = (p: Plan): string => JSON.stringify({ ...p, recipe: { name: p.recipe.name } });

function aspectChanges(a: Plan, b: Plan): Change[] {
  const out: Change[] = [];
  for (const x of PLAN_ASPECTS) {
    const before = x.read(a, planDir(a)),
      after = x.read(b, planDir(b));
    if (before !== after) out.push({ section: x.section, label: x.label, before, after });
  }
  const n = Math.max(a.stages.length, b.stages.length);
  for (let i = 0; i < n; i++) {
    const sa = a.stages[i],
      sb = b.stages[i];
    for (const x of STAGE_ASPECTS) {
      const before = sa ? x.read(a, sa) : null,
        after = sb ? x.read(b, sb) : null;
      if (before !== after) out.push({ section: x.section, label: x.label, stage: i + 1, before, after });
    }
  }
  return out;
}

/** The JSON paths at which two values differ (for a change no aspect names: never silent). */
function paths(a: unknown, b: unknown, at = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) =>
      paths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], at ? `${at}.${k}` : k),
    );
  }
  return [at];
}

function training(a: Plan, b: Plan): Training[] {
  const same = a.model.name === b.model.name && a.model.width === b.model.width;
  const side = (p: Plan, s: PlanStage | undefined) =>
    s && {
      trainable: s.trainable.backboneParams + s.trainable.headParams,
      frozen: s.frozen.params,
      blocks: stageBlocks(p, s).trainable,
    };
  return Array.from({ length: Math.max(a.stages.length, b.stages.length) }, (_, i) => {
    const sa = a.stages[i],
      sb = b.stages[i];
    const moved = same && sa && sb ? sa.frozen.params - sb.frozen.params : 0;
    return {
      stage: i + 1,
      before: side(a, sa) ?? null,
      after: side(b, sb) ?? null,
      startTraining: Math.max(0, moved),
      stopTraining: Math.max(0, -moved),
    };
  });
}

const KEY_WORDS: Record<string, string> = {
  network: 'the network or its input size',
  weights: 'the weights',
  preprocessing: 'the preprocessing',
  layer: 'the layer it is cut at',
  data: 'the data',
  split: 'which images are in training and validation',
};

/** Whether each stage of `b` finds its cache entries already made by runs of `a`. */
function caches(a: Plan, b: Plan): CacheVerdict[] {
  const reusable = (p: Plan) =>
    p.stages.filter((s) => kindOf(s) !== 'none' && !trainedBefore(p, s)).map((s) => ({ s, key: cacheKey(p, s) }));
  const old = reusable(a);
  return b.stages.map((s): CacheVerdict => {
    const kind = kindOf(s),
      stage = s.index,
      was = a.stages[s.index - 1];
    if (kind === 'none')
      return was && kindOf(was) !== 'none'
        ? { stage, kind, state: 'dropped', why: `no longer cached: ${s.featureCache.reason}` }
        : { stage, kind, state: 'none', why: s.featureCache.reason };
    const t = trainedBefore(b, s);
    if (t)
      return {
        stage,
        kind,
        state: 'per-run',
        why: `computed in every run from the weights stage ${t.index} trained; never reused between runs`,
      };
    const key = cacheKey(b, s);
    if (old.some((o) => JSON.stringify(o.key) === JSON.stringify(key)))
      return { stage, kind, state: 'valid', why: 'still valid: runs of the old recipe made the same entries' };
    const same = old.find((o) => kindOf(o.s) === kind) ?? old[0];
    if (!same) return { stage, kind, state: 'new', why: 'a new cache: the first run computes it' };
    const changed = Object.keys(key).filter((k) => JSON.stringify(key[k]) !== JSON.stringify(same.key[k]));
    return {
      stage,
      kind,
      state: 'invalidated',
      why: `recomputed: ${changed.map((k) => KEY_WORDS[k]).join(', ')} changed`,
    };
  });
}

/** What changed between two plans, aspect by aspect; a difference no aspect names is listed by its JSON paths. */
export function planChanges(a: Plan, b: Plan): Change[] {
  const all = aspectChanges(a, b);
  const changes = all.filter(
    (c) => c.label !== 'features, why' || !all.some((x) => x.stage === c.stage && x.label === 'features'),
  );
  if (runKey(a) !== runKey(b) && !changes.length) {
    const at = paths(JSON.parse(runKey(a)), JSON.parse(runKey(b)));
    changes.push({ section: 'recipe', label: 'plan', before: null, after: `differs at ${at.join(', ')}` });
  }
  return changes;
}

/** Two plans compared: what changed, and what it means. */
export function diffPlans(a: Plan, b: Plan): PlanDiff {
  const equal = runKey(a) === runKey(b);
  const changes = planChanges(a, b);
  return {
    equal,
    changes,
    training: training(a, b),
    caches: caches(a, b),
    compute: { before: planCompute(a), after: planCompute(b) },
  };
}
