import { DEFAULT_ENGINE, engines } from '../engines/index.js';
import type { Plan } from '../contracts/plan.js';

// What the engine table says about one plan: which engines can run it here, and why not.

/** Whether each engine can run the plan here: `yes`, or why not. */
export function engineVerdicts(plan: Plan): { name: string; runs: string }[] {
  return engines().map((e) => {
    const why = e.unsupported(plan);
    const missing = why ? null : e.missing();
    return { name: e.name, runs: why ? `no (${why})` : missing ? `not here (${missing})` : 'yes' };
  });
}

/** Which engines can run the plan here: the default, and for each other whether it can and how. */
export function enginesLine(plan: Plan): string {
  const usage = new Map(engines().map((e) => [e.name, e.usage]));
  const each = engineVerdicts(plan).map((v) =>
    v.name === DEFAULT_ENGINE
      ? `${v.name} (default)${v.runs === 'yes' ? '' : `: ${v.runs}`}`
      : v.runs === 'yes'
        ? `${v.name}: available here (${usage.get(v.name)}; tlr doctor tells more)`
        : `${v.name}: ${v.runs}`,
  );
  const notes = engines().flatMap((e) =>
    e.unsupported(plan) ? [] : (e.notes?.(plan) ?? []).map((n) => `\n${''.padEnd(11)}${e.name}: ${n}`),
  );
  return `\n${'engines'.padEnd(11)}${each.join(' · ')}${notes.join('')}`;
}
