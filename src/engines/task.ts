import { taskOf, type Plan } from '../contracts/plan.js';

// The tasks the engines train. A multi-label plan is checked, planned, compared and explained, but this version of
// the engines trains one label per image: a run of one stops before anything is written, saying so.

/** Why no engine of this version runs `plan` (a multi-label one), or null. */
export const taskUnsupported = (plan: Plan): string | null =>
  taskOf(plan) === 'multi-label'
    ? 'this version trains single-label plans only: a multi-label recipe is checked, planned, diffed and explained, ' +
      'but not yet trained (sigmoid losses, per-label thresholds and mAP are still to come)'
    : null;
