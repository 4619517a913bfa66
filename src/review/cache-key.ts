import type { Plan, PlanStage } from '../contracts/plan.js';

// The identity of a stage's cache entries (backbone features, or the frozen part's output) as runs make them: two
// stages with the same key read the same entries, so a second run (or a sweep's next variant) does not compute them.

/** What a stage's cache entry is keyed by: the network and its weights, the layer it stops at, and the images. */
export function cacheKey(p: Plan, s: PlanStage): Record<string, unknown> {
  const m = p.model,
    d = p.data;
  return {
    network: [m.name, m.width, m.inputSize],
    weights: m.weights,
    preprocessing: [m.preprocessing.mean, m.preprocessing.std],
    layer: s.featureCache.use ? m.featureLayer : s.featureCache.prefix?.through,
    data: [d.root, d.format, d.train, d.validation, d.classes],
    split: [d.split, p.seed, d.counts.train, d.counts.validation],
  };
}

/** The stage before `s` that trained backbone layers, if any: then `s` starts from weights no earlier run had. */
export const trainedBefore = (p: Plan, s: PlanStage): PlanStage | undefined =>
  p.stages.slice(0, s.index - 1).find((x) => x.trainable.backboneParams > 0);

export const kindOf = (s: PlanStage): 'features' | 'prefix' | 'none' =>
  s.featureCache.use ? 'features' : s.featureCache.prefix ? 'prefix' : 'none';

/** The key of a stage's entries where a later run can reuse them (not after a stage that trained the backbone). */
export const reusableKey = (p: Plan, s: PlanStage): string | null =>
  kindOf(s) === 'none' || trainedBefore(p, s) ? null : JSON.stringify(cacheKey(p, s));
