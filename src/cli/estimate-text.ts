import { fmtMacs, networkKind, planCompute, planSeconds, sweepComputes, type PlanCompute } from '../review/compute.js';
import { engines } from '../engines/index.js';
import { duration } from '../review/phrases.js';
import { readCalibrations } from '../runtime/calibration.js';
import { engineVerdicts } from './plan-engines.js';
import type { Plan } from '../contracts/plan.js';

// A plan's compute, and the time it would take on each engine that can run it here: MACs from the
// zoo's graphs (src/review/compute.ts) over each engine's measured rate (tlr doctor --calibrate).

/** Seconds per engine that can run the plan here; null where it is not calibrated. */
export function estimates(plan: Plan): { engine: string; seconds: number | null }[] {
  const cal = readCalibrations();
  const c = planCompute(plan),
    kind = networkKind(plan);
  return engineVerdicts(plan)
    .filter((e) => e.runs === 'yes')
    .map((e) => {
      const r = cal[e.name]?.[kind];
      return { engine: e.name, seconds: r ? planSeconds(c, r) : null };
    });
}

/** A sweep's time on one engine: cold (no cache entry made yet), warm (every reusable one made), and per variant. */
export interface SweepTime {
  readonly engine: string;
  /** Seconds for the whole sweep, nothing cached; null where the engine is not calibrated or cannot run a variant. */
  readonly seconds: number | null;
  readonly warm: number | null;
  /** Each variant's share of the cold sweep, in order (the first fills the caches the others share). */
  readonly perVariant: readonly (number | null)[];
}

/**
 * A sweep's time per engine that can run every variant here. The variants run one after another: what they share
 * (backbone features, a frozen part's output) is computed once; the engine starts once, or once per variant where each
 * is its own process (`startsPerRun`).
 */
export function sweepEstimates(plans: readonly Plan[]): SweepTime[] {
  const cal = readCalibrations();
  const verdicts = plans.map((p) => engineVerdicts(p));
  const cold = sweepComputes(plans, false),
    warm = sweepComputes(plans, true);
  return engines()
    .filter((e) => verdicts.every((v) => v.find((x) => x.name === e.name)?.runs === 'yes'))
    .map((e) => {
      const rates = plans.map((p) => cal[e.name]?.[networkKind(p)] ?? null);
      if (rates.some((r) => r === null))
        return { engine: e.name, seconds: null, warm: null, perVariant: plans.map(() => null) };
      // Each variant's time, less the start where the engine started already (for an earlier variant).
      const each = (cs: readonly PlanCompute[]) =>
        cs.map((c, i) => planSeconds(c, rates[i]!) - (e.startsPerRun || i === 0 ? 0 : rates[i]!.startup));
      const perVariant = each(cold);
      const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
      return { engine: e.name, seconds: sum(perVariant), warm: sum(each(warm)), perVariant };
    });
}

const CACHE_WORDS = { features: 'the backbone once', prefix: 'the frozen part once', none: '' } as const;

/** The `compute` rows of `tlr plan`. */
export function computeText(plan: Plan): string {
  const c = planCompute(plan);
  const rows = c.stages.map((s) => {
    const once = s.once ? `${fmtMacs(s.once)}MAC for ${CACHE_WORDS[s.cache]} + ` : '';
    return (
      `stage ${s.index}: ${once}${fmtMacs(s.perEpoch)}MAC an epoch × ${s.epochs} (per image: frozen ` +
      `${fmtMacs(s.perImage.frozen)}MAC, trained ${fmtMacs(s.perImage.trained + s.perImage.head)}MAC forward, ` +
      `×3 with its backward pass)`
    );
  });
  const times = estimates(plan)
    .map((e) => (e.seconds === null ? `${e.engine} not calibrated here` : `${e.engine} about ${duration(e.seconds)}`))
    .join(' · ');
  rows.push(
    `whole run: ${fmtMacs(c.total)}MAC (every epoch run; one prediction ${fmtMacs(c.forward)}MAC)` +
      `${times ? `; ${times}` : ''}${times.includes('not calibrated') ? ' (tlr doctor --calibrate)' : ''}`,
  );
  return `\n${rows.map((r, i) => `${(i ? '' : 'compute').padEnd(11)}${r}`).join('\n')}`;
}
