import type { Plan } from '../contracts/plan.js';

// What watch mode decides on each save: show the diagnostics and keep the running job; do nothing
// when the plan did not change; or stop the job cleanly (after its current batch) and start the
// new plan. The runner is injected, so the decisions are tested without training anything.

export interface Job {
  stop(): void;
  readonly done: Promise<unknown>;
}

export type WatchStatus =
  | { readonly kind: 'diagnostics'; readonly text: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'started'; readonly run: number; readonly changes: readonly string[] };

export interface WatchDeps {
  /**
   * Compiles the recipe as it is on disk now (`missing`: it was deleted or renamed away), with
   * the images its data lists (a new plan or a new listing starts a new run).
   */
  compile(): { plan: Plan | null; text: string; diagnostics: string; missing?: boolean; listing?: readonly string[] };
  start(plan: Plan, text: string, run: number): Job;
  status(s: WatchStatus): void;
}

/** Changed leaves between two plans, as `path: old → new` (a few, then a count). */
export function planChanges(a: unknown, b: unknown, max = 8): string[] {
  const flat = (v: unknown, p: string, out: Map<string, string>) => {
    if (v !== null && typeof v === 'object') {
      const entries = Array.isArray(v)
        ? v.map((x, i) => [`[${i}]`, x] as const)
        : Object.entries(v).map(([k, x]) => [p ? `.${k}` : k, x] as const);
      if (!entries.length) out.set(p, Array.isArray(v) ? '[]' : '{}');
      for (const [k, x] of entries) flat(x, `${p}${k}`, out);
    } else out.set(p, JSON.stringify(v));
    return out;
  };
  const x = flat(a, '', new Map()),
    y = flat(b, '', new Map());
  const keys = [...new Set([...x.keys(), ...y.keys()])].filter((k) => x.get(k) !== y.get(k));
  const lines = keys.slice(0, max).map((k) => `${k}: ${x.get(k) ?? '(none)'} → ${y.get(k) ?? '(none)'}`);
  return keys.length > max ? [...lines, `… and ${keys.length - max} more`] : lines;
}

const sameListing = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** What changed in the data's images: how many were added and removed, with a few names. */
export function listingChanges(a: readonly string[], b: readonly string[]): string[] {
  const was = new Set(a),
    now = new Set(b);
  const added = b.filter((x) => !was.has(x)),
    removed = a.filter((x) => !now.has(x));
  const some = (xs: string[]) => xs.slice(0, 3).join(', ') + (xs.length > 3 ? ', …' : '');
  return [
    ...(added.length ? [`images added: ${added.length} (${some(added)})`] : []),
    ...(removed.length ? [`images removed: ${removed.length} (${some(removed)})`] : []),
    ...(!added.length && !removed.length && a.length !== b.length ? ['images: the listing changed'] : []),
  ];
}

/** Watch mode's decisions on each save; the compiler and the runner are injected. */
export class WatchSession {
  private job: Job | null = null;
  private plan: Plan | null = null;
  private listing: readonly string[] = [];
  private runs = 0;
  private busy: Promise<void> = Promise.resolve();

  constructor(private readonly deps: WatchDeps) {}

  /** The plan of the job started last (null before the first valid recipe). */
  get currentPlan(): Plan | null {
    return this.plan;
  }

  /** Call on start and after every (debounced) change; changes are handled one at a time. */
  changed(): Promise<void> {
    this.busy = this.busy.then(() => this.handle());
    return this.busy;
  }

  private async handle(): Promise<void> {
    const c = this.deps.compile();
    if (c.missing) {
      this.deps.status({ kind: 'missing' });
      return;
    }
    if (!c.plan) {
      this.deps.status({ kind: 'diagnostics', text: c.diagnostics });
      return;
    }
    const listing = c.listing ?? [];
    const samePlan = this.plan && JSON.stringify(this.plan) === JSON.stringify(c.plan);
    if (samePlan && sameListing(this.listing, listing)) {
      this.deps.status({ kind: 'unchanged' });
      return;
    }
    const changes = this.plan ? [...planChanges(this.plan, c.plan), ...listingChanges(this.listing, listing)] : [];
    await this.stop();
    this.plan = c.plan;
    this.listing = listing;
    this.runs += 1;
    this.job = this.deps.start(c.plan, c.text, this.runs);
    this.deps.status({ kind: 'started', run: this.runs, changes });
  }

  /** Stops the running job (after its current batch) and waits for it. */
  async stop(): Promise<void> {
    const j = this.job;
    this.job = null;
    if (j) {
      j.stop();
      await j.done.catch(() => undefined);
    }
  }
}
