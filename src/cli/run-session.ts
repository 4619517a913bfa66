// One run's session: the engine and its settings chosen from the flags, the view (live, plain lines or NDJSON)
// and Ctrl-C. `tlr run` uses it once, a sweep once per variant.

import * as fs from 'node:fs';
import { Events, type RunEvent } from '../runtime/events.js';
import {
  DEFAULT_ENGINE,
  engineNamed,
  resumeOf,
  runOn,
  settle,
  type EngineDef,
  type EngineSettings,
  type FlagValues,
} from '../engines/index.js';
import type { RunResult } from '../engines/types.js';
import { TlrError } from '../errors.js';
import type { Plan } from '../contracts/plan.js';
import type { SweepProgress } from '../ui/components/sweep-progress.js';
import { ndjsonReporter, textReporter } from './reporters/text.js';
import { UsageError, type Output } from './io.js';

/** `tlr run`'s flags. */
export interface RunFlags {
  readonly json: boolean;
  readonly resume?: string;
  readonly engine?: string;
  /** The engines' own flags (--backend, --nproc, …), as given. */
  readonly engineFlags: FlagValues;
}

export interface Chosen {
  readonly engine: EngineDef;
  readonly settings: EngineSettings;
  /** What a resume changed from the run's recorded settings, for the user to see. */
  readonly notes: readonly string[];
}

/**
 * The engine and its settings. A resume stays on the run's engine (another one cannot read its
 * checkpoint) with the settings it recorded, except those the user changes on the command line.
 */
export async function chooseEngine(flags: RunFlags): Promise<Chosen> {
  if (!flags.resume) {
    const engine = engineNamed(flags.engine ?? DEFAULT_ENGINE);
    return { engine, settings: await settle(engine, flags.engineFlags), notes: [] };
  }
  if (!fs.existsSync(flags.resume)) throw new UsageError(`run folder ${flags.resume} does not exist`);
  const { engine, recorded } = resumeOf(flags.resume);
  if (flags.engine && flags.engine !== engine.name) {
    engineNamed(flags.engine);
    throw new UsageError(
      `${flags.resume} is a run of the ${engine.name} engine; only it can read its checkpoint: resume without ` +
        `--engine ${flags.engine}, or start a new run with --engine ${flags.engine}`,
    );
  }
  const settings = await settle(engine, flags.engineFlags, recorded ?? undefined);
  const notes = Object.keys({ ...recorded, ...settings })
    .filter((k) => recorded && recorded[k] !== settings[k])
    .map(
      (k) =>
        `resuming with ${k} ${settings[k] ?? '(default)'}, as the command line asks (the run used ` +
        `${recorded![k] ?? 'the default'})`,
    );
  const kept = Object.entries(settings).filter(
    ([k]) => recorded && recorded[k] === settings[k] && flags.engineFlags[k] === undefined,
  );
  if (kept.length)
    notes.push(`resuming on the ${engine.name} engine with the run's ${kept.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  return { engine, settings, notes };
}

/**
 * One run with its view (live, plain lines or NDJSON) and Ctrl-C handling. An expected failure is shown as an event
 * and thrown again for the caller; a usage error goes to main (exit status 2).
 */
export async function runWithView(
  chosen: Chosen,
  req: {
    plan?: Plan;
    recipeText: string;
    resume?: string;
    /** Stops the run after the current batch once it says so (a sweep's screen), as Ctrl-C does. */
    stopWhen?: (e: RunEvent) => boolean;
    /** A sweep's progress, shown above the live view. */
    sweep?: SweepProgress;
  },
  flags: RunFlags,
  io: Output,
): Promise<RunResult> {
  const events = new Events();
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(130);
    stopping = true;
    if (!ui) io.err('\nstopping after the current batch (Ctrl-C again to quit at once)');
  };
  // The live view only on a terminal; pipes, CI and --json get plain lines or NDJSON.
  const ui = !flags.json && useLiveView() ? await mountRunView(events, stop, req.sweep) : null;
  // A variant a sweep's screen stops is not an interrupted run to continue: the sweep compares it and goes on.
  let screened = false;
  const report = flags.json ? ndjsonReporter((l) => io.out(l)) : textReporter((l) => io.out(l));
  if (!ui)
    events.on((e) =>
      e.type === 'interrupted' && screened && !flags.json
        ? io.out(
            `screened after stage ${e.stage}, epoch ${e.epoch}: the sweep compares its validation accuracy with ` +
              "the other variants' (keep best), and it goes on only if it is among the best",
          )
        : report(e),
    );
  const { stopWhen } = req;
  if (stopWhen)
    events.on((e) => {
      if (stopWhen(e)) stopping = screened = true;
    });
  for (const message of chosen.notes) events.emit({ type: 'warning', message });
  const onSigint = () => stop();
  process.on('SIGINT', onSigint);
  try {
    return await runOn(chosen.engine, {
      plan: req.plan,
      recipeText: req.recipeText,
      events,
      resume: req.resume,
      stopped: () => stopping,
      settings: chosen.settings,
    });
  } catch (e) {
    if (e instanceof TlrError && !(e instanceof UsageError)) {
      events.emit({ type: 'error', message: e.message });
      if (flags.json) io.err(`tlr: ${e.message}`);
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    await ui?.close();
  }
}

/** Whether the live view can be shown: a terminal, not CI, not a dumb terminal. */
export const useLiveView = (): boolean =>
  !!process.stdout.isTTY && !process.env['CI'] && process.env['TERM'] !== 'dumb';

/** Mounts the Ink view of a run; Ink and React load only here. */
async function mountRunView(
  events: Events,
  onStop: () => void,
  sweep?: SweepProgress,
): Promise<{ close(): Promise<void> }> {
  const [{ render }, React, { RunView }] = await Promise.all([
    import('ink'),
    import('react'),
    import('../ui/run-view.js'),
  ]);
  const instance = render(React.createElement(RunView, { events, onStop, sweep }), {
    exitOnCtrlC: false,
    patchConsole: false,
  });
  return {
    async close() {
      await new Promise((r) => setTimeout(r, 30)); // let the last events render
      instance.unmount();
      await instance.waitUntilExit().catch(() => undefined);
    },
  };
}
