import { fmtMacs, networkKind, planCompute, planSeconds } from '../review/compute.js';
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
