import { diffPlans, runKey, type PlanDiff } from './diff.js';
import type { Plan } from '../contracts/plan.js';

// `tlr diff` where either side is a sweep: the variants matched across the change, then what the
// change means for each. Variants are matched by id (a hash of their choices, so reordering or
// reformatting keeps them), then by plan (a recipe that became a sweep is the variant that runs
// what it ran). A plain recipe on one side left unmatched is paired with the variant closest to it:
// the reviewer sees the recipe's change as that variant's, and the rest as added.

/** One variant of a side (a plain recipe is one, with no choices). */
export interface VariantPlan {
  readonly id: string;
  readonly name: string;
  readonly plan: Plan;
}

export interface VariantPair {
  readonly before: VariantPlan;
  readonly after: VariantPlan;
}

export interface SweepDiff {
  /** The same variants with the same plans: nothing that runs changes. */
  readonly equal: boolean;
  readonly added: readonly VariantPlan[];
  readonly removed: readonly VariantPlan[];
  /** In both, with equal plans: their finished runs stay valid. */
  readonly unchanged: readonly VariantPair[];
  /** In both with different plans, grouped by the same changes (one edit of a shared line changes every variant). */
  readonly changed: readonly { readonly pairs: readonly VariantPair[]; readonly diff: PlanDiff }[];
}

/** The pairs of variants across the change: by id, then by plan, then a lone plain recipe by fewest changes. */
function match(a: readonly VariantPlan[], b: readonly VariantPlan[]): VariantPair[] {
  const pairs: VariantPair[] = [];
  const left = new Set(a),
    right = new Set(b);
  const take = (x: VariantPlan, y: VariantPlan) => {
    pairs.push({ before: x, after: y });
    left.delete(x);
    right.delete(y);
  };
  for (const x of a) {
    const y = b.find((v) => v.id === x.id);
    if (y) take(x, y);
  }
  for (const x of [...left]) {
    const y = [...right].find((v) => runKey(v.plan) === runKey(x.plan));
    if (y) take(x, y);
  }
  const lone = (s: readonly VariantPlan[], rest: Set<VariantPlan>) => s.length === 1 && rest.size === 1;
  if (lone(a, left) && right.size)
    take(
      a[0]!,
      closest(a[0]!, [...right], (x, y) => diffPlans(x, y)),
    );
  else if (lone(b, right) && left.size)
    take(
      closest(b[0]!, [...left], (y, x) => diffPlans(x, y)),
      b[0]!,
    );
  return pairs;
}

const closest = (x: VariantPlan, among: VariantPlan[], diff: (x: Plan, y: Plan) => PlanDiff): VariantPlan =>
  among.map((y) => ({ y, n: diff(x.plan, y.plan).changes.length })).reduce((best, c) => (c.n < best.n ? c : best)).y;

/** What changes between two sides' variants. */
export function diffSweeps(a: readonly VariantPlan[], b: readonly VariantPlan[]): SweepDiff {
  const pairs = match(a, b);
  const paired = (s: readonly VariantPlan[], k: 'before' | 'after') => s.filter((v) => !pairs.some((p) => p[k] === v));
  const unchanged: VariantPair[] = [];
  const groups = new Map<string, { pairs: VariantPair[]; diff: PlanDiff }>();
  for (const p of pairs) {
    const d = diffPlans(p.before.plan, p.after.plan);
    if (d.equal) {
      unchanged.push(p);
      continue;
    }
    const key = JSON.stringify(d.changes);
    const g = groups.get(key) ?? { pairs: [], diff: d };
    g.pairs.push(p);
    groups.set(key, g);
  }
  const added = paired(b, 'after'),
    removed = paired(a, 'before');
  return {
    equal: !added.length && !removed.length && !groups.size,
    added,
    removed,
    unchanged,
    changed: [...groups.values()],
  };
}
