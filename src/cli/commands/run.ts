import * as fs from 'node:fs';
import { renderDiagnostics, summary } from '../../compiler/render.js';
import { Events } from '../../runtime/events.js';
import {
  DEFAULT_ENGINE,
  engineNamed,
  resumeOf,
  runOn,
  settle,
  type EngineDef,
  type EngineSettings,
  type FlagValues,
} from '../../engines/index.js';
import { TlrError } from '../../errors.js';
import type { Plan } from '../../plan/types.js';
import { ndjsonReporter, textReporter } from '../reporters/text.js';
import { compileFile, useColor, UsageError, type Output } from '../io.js';

/** `tlr run`: compiles and runs a recipe (or resumes a run folder) with the live view, plain lines or NDJSON. */
export interface RunFlags {
  readonly json: boolean;
  readonly resume?: string;
  readonly engine?: string;
  /** The engines' own flags (--backend, --nproc, …), as given. */
  readonly engineFlags: FlagValues;
}

interface Chosen {
  readonly engine: EngineDef;
  readonly settings: EngineSettings;
  /** What a resume changed from the run's recorded settings, for the user to see. */
  readonly notes: readonly string[];
}

/**
 * The engine and its settings. A resume stays on the run's engine (another one cannot read its
 * checkpoint) with the settings it recorded, except those the user changes on the command line.
 */
async function chooseEngine(flags: RunFlags): Promise<Chosen> {
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

/** The recipe's plan and text, or null when it does not check (its diagnostics are printed). */
function compileRecipe(files: readonly string[], flags: RunFlags, io: Output): { plan?: Plan; text: string } | null {
  if (flags.resume) {
    if (files.length) throw new UsageError('give either a recipe or --resume RUN_DIR, not both');
    return { text: '' };
  }
  if (files.length !== 1) throw new UsageError('tlr run takes one recipe file');
  const file = files[0]!;
  const c = compileFile(file);
  if (c.diagnostics.length)
    io.err(
      `${renderDiagnostics(c.diagnostics, file, c.text, { color: useColor(process.stderr) })}\n\n${file}: ` +
        `${summary(c.diagnostics)}\n`,
    );
  return c.plan ? { plan: c.plan, text: c.text } : null;
}

export async function runCommand(files: readonly string[], flags: RunFlags, io: Output): Promise<number> {
  const recipe = compileRecipe(files, flags, io);
  if (!recipe) return 1;
  // A bad flag or environment variable stops here, as a usage error, before the live view starts.
  const chosen = await chooseEngine(flags);
  const events = new Events();
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(130);
    stopping = true;
    if (!ui) io.err('\nstopping after the current batch (Ctrl-C again to quit at once)');
  };
  // The live view only on a terminal; pipes, CI and --json get plain lines or NDJSON.
  const ui = !flags.json && useLiveView() ? await mountRunView(events, stop) : null;
  if (!ui) events.on(flags.json ? ndjsonReporter((l) => io.out(l)) : textReporter((l) => io.out(l)));
  for (const message of chosen.notes) events.emit({ type: 'warning', message });
  const onSigint = () => stop();
  process.on('SIGINT', onSigint);
  try {
    const r = await runOn(chosen.engine, {
      plan: recipe.plan,
      recipeText: recipe.text,
      events,
      resume: flags.resume,
      stopped: () => stopping,
      settings: chosen.settings,
    });
    return r.status === 'finished' ? 0 : 130;
  } catch (e) {
    // An expected failure is an event the views show; a usage error goes to main (exit status 2).
    if (e instanceof TlrError && !(e instanceof UsageError)) {
      events.emit({ type: 'error', message: e.message });
      if (flags.json) io.err(`tlr: ${e.message}`);
      return e.exitCode;
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
async function mountRunView(events: Events, onStop: () => void): Promise<{ close(): Promise<void> }> {
  const [{ render }, React, { RunView }] = await Promise.all([
    import('ink'),
    import('react'),
    import('../../ui/run-view.js'),
  ]);
  const instance = render(React.createElement(RunView, { events, onStop }), {
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
