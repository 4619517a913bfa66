import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from './tf.js';
import type { Plan } from '../../contracts/plan.js';
import { backendLabel, chooseBackend } from './backend.js';
import { memoryUnsupported } from './memory.js';
import type { Events } from '../../runtime/events.js';
import type { RunResult } from '../types.js';
import {
  assertSaveTarget,
  openRunFolder,
  type RunFolder,
  removeFailedRun,
  RunError,
  type EngineRecord,
} from '../../runtime/run-folder.js';
import { prepareRun, type RunContext } from './stages/context.js';
import { trainStage } from './stages/stage.js';
import { evaluateBest, saveCopy, writeExports, writeResults } from './stages/finish.js';

// The runtime: executes a validated plan, one named step after another. Everything it has to say
// goes out as events; it never prints.
//
//   plan ──openRunFolder──▶ run folder ──prepareRun──▶ context (splits, network, engines, cache)
//        ──trainStage × stages──▶ best weights ──evaluateBest──▶ evaluation
//        ──saveCopy, writeResults──▶ report
//
// Steps live in ./stages/: context.ts (data, network, inference engines, feature cache), stage.ts
// (sources, epochs, checkpoints), finish.ts; the run folder (new or resumed, state, cleanup) is
// every engine's, in src/runtime/run-folder.ts.

export { RunError };
export { TLR_VERSION } from '../../version.js';

export interface RunOptions {
  readonly plan: Plan;
  readonly recipeText: string;
  readonly events: Events;
  readonly backend?: string;
  /** A run folder to continue (its plan.json and checkpoint are used). */
  readonly resume?: string;
  /** Polled after every batch: true stops the run cleanly. */
  readonly stopped?: () => boolean;
  readonly env?: NodeJS.ProcessEnv;
  /** Recorded in the run folder (engine.json); by default the tfjs engine with `backend`. */
  readonly engine?: EngineRecord;
}

export type { RunResult };

/**
 * Runs a plan (or resumes the run in `opts.resume`) to its end or to a stop.
 *
 * @example
 *   const c = compile(text, { file });
 *   const r = await run({ plan: c.plan!, recipeText: text, events: new Events() });
 *   // r.runDir holds model/, metrics.jsonl, report.json, …
 */
export async function run(opts: RunOptions): Promise<RunResult> {
  const created: string[] = [];
  let ctx: RunContext | null = null,
    f: RunFolder | null = null;
  try {
    // A stage past wasm's heap would abort the process mid-step: refused before any folder is made.
    const tooLarge = opts.plan && (opts.backend ?? 'wasm') === 'wasm' ? memoryUnsupported(opts.plan) : null;
    if (tooLarge) throw new RunError(tooLarge);
    const engine = opts.engine ?? { engine: 'tfjs', settings: opts.backend ? { backend: opts.backend } : {} };
    f = openRunFolder({ ...opts, engine }, created);
    assertSaveTarget(f.plan);
    const backend = await chooseBackend(opts.backend);
    // A run's time starts once its engine is ready, as the torch engine's starts once Python has loaded PyTorch: the
    // backend starts once per process, so a sweep's first variant would otherwise carry the start for all of them.
    const started = Date.now();
    opts.events.emit({ type: 'plan', plan: f.plan, runDir: f.dir, backend: backendLabel(backend), resumed: f.resumed });
    ctx = await prepareRun(f.plan, {
      events: opts.events,
      env: opts.env ?? process.env,
      stopped: opts.stopped ?? (() => false),
      backend,
    });
    const checkpoint = path.join(f.checkpoint, 'model');
    if (f.resumed && fs.existsSync(path.join(checkpoint, 'model.json'))) ctx.loadInto(checkpoint);
    const fastBackend = tf.getBackend();
    for (let s = f.state.stage; s < f.plan.stages.length; s++) {
      if ((await trainStage(ctx, f, s, fastBackend)) === 'interrupted') {
        opts.events.emit({ type: 'interrupted', runDir: f.dir, stage: s + 1, epoch: f.state.epoch });
        return { runDir: f.dir, status: 'interrupted', evaluation: null };
      }
    }
    const e = await evaluateBest(ctx, f);
    await saveCopy(ctx, f);
    const exported = await writeExports(ctx, f);
    const seconds = await writeResults(ctx, f, e, started);
    const best = f.state.best!;
    opts.events.emit({
      type: 'finished',
      runDir: f.dir,
      modelDir: path.join(f.dir, 'model'),
      best: { metric: f.plan.save.metric, value: best.value, stage: best.stage + 1, epoch: best.epoch + 1 },
      evaluation: e.evaluation,
      seconds,
      exported,
    });
    return { runDir: f.dir, status: 'finished', evaluation: e.evaluation };
  } catch (e) {
    removeFailedRun(created);
    throw e;
  } finally {
    ctx?.unwatch();
    await ctx?.engines.close();
    ctx?.net.full.dispose();
    f?.release();
  }
}
