import { PLAN_ASPECTS, planDir, STAGE_ASPECTS } from './aspects.js';
import { fmtMacs, planCompute } from './compute.js';
import type { Plan } from '../contracts/plan.js';

// A plan as one line per aspect, the form `git diff` compares when a repository sets tlr as the
// textconv of *.tlr files: a change of layout or comments changes no line, a changed setting
// changes its own line, and the compute lines say what it costs.

export function planListing(p: Plan): string {
  const lines = PLAN_ASPECTS.map((x) => `${x.section} · ${x.label}: ${x.read(p, planDir(p))}`);
  for (const s of p.stages)
    for (const x of STAGE_ASPECTS) lines.push(`stage ${s.index} ${x.section} · ${x.label}: ${x.read(p, s)}`);
  const c = planCompute(p);
  for (const s of c.stages)
    lines.push(`stage ${s.index} compute: ${fmtMacs(s.once)}MAC once, ${fmtMacs(s.perEpoch)}MAC an epoch`);
  lines.push(`compute: ${fmtMacs(c.total)}MAC for the run, ${fmtMacs(c.forward)}MAC a prediction`);
  return `${lines.join('\n')}\n`;
}
