import * as fs from 'node:fs';
import { renderDiagnostics, summary } from '../../compiler/render.js';
import { Events } from '../../runtime/events.js';
import { run } from '../../runtime/run.js';
import { inferenceWorkers } from '../../runtime/infer/engine.js';
import { TlrError } from '../../errors.js';
import { backendOf } from '../../runtime/backend.js';
import { ndjsonReporter, textReporter } from '../reporters/text.js';
import { compileFile, useColor, UsageError, type Output } from '../io.js';


/** `tlr run`: compiles and runs a recipe (or resumes a run folder) with the live view, plain lines or NDJSON. */
export async function runCommand(files: readonly string[], flags: { json: boolean; backend?: string; resume?: string }, io: Output): Promise<number> {
  let plan, text = '';
  if (flags.resume) {
    if (files.length) throw new UsageError('give either a recipe or --resume RUN_DIR, not both');
    if (!fs.existsSync(flags.resume)) throw new UsageError(`run folder ${flags.resume} does not exist`);
  } else {
    if (files.length !== 1) throw new UsageError('tlr run takes one recipe file');
    const file = files[0]!;
    const c = compileFile(file);
    text = c.text;
    if (c.diagnostics.length) io.err(`${renderDiagnostics(c.diagnostics, file, text, { color: useColor(process.stderr) })}\n\n${file}: ${summary(c.diagnostics)}\n`);
    if (!c.plan) return 1;
    plan = c.plan;
  }
  // A bad TLR_WORKERS or --backend stops here, as a usage error, before the live view starts.
  inferenceWorkers('wasm');
  if (flags.backend) backendOf(flags.backend);
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
  const onSigint = () => stop();
  process.on('SIGINT', onSigint);
  try {
    const r = await run({ plan: plan!, recipeText: text, events, backend: flags.backend, resume: flags.resume, stopped: () => stopping });
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
export const useLiveView = (): boolean => !!process.stdout.isTTY && !process.env['CI'] && process.env['TERM'] !== 'dumb';

/** Mounts the Ink view of a run; Ink and React load only here. */
async function mountRunView(events: Events, onStop: () => void): Promise<{ close(): Promise<void> }> {
  const [{ render }, React, { RunView }] = await Promise.all([import('ink'), import('react'), import('../../ui/run-view.js')]);
  const instance = render(React.createElement(RunView, { events, onStop }), { exitOnCtrlC: false, patchConsole: false });
  return {
    async close() {
      await new Promise((r) => setTimeout(r, 30)); // let the last events render
      instance.unmount();
      await instance.waitUntilExit().catch(() => undefined);
    },
  };
}
