import * as fs from 'node:fs';
import { renderDiagnostics, summary } from '../../compiler/render.js';
import { Events } from '../../runtime/events.js';
import { ENGINES, engineNamed, engineOfRun, type EngineName } from '../../engines/index.js';
import { inferenceWorkers } from '../../engines/tfjs/infer/engine.js';
import { TlrError } from '../../errors.js';
import { backendOf } from '../../engines/tfjs/backend.js';
import { ndjsonReporter, textReporter } from '../reporters/text.js';
import { compileFile, useColor, UsageError, type Output } from '../io.js';


/** `tlr run`: compiles and runs a recipe (or resumes a run folder) with the live view, plain lines or NDJSON. */
export interface RunFlags {
  readonly json: boolean;
  readonly backend?: string;
  readonly resume?: string;
  readonly engine?: string;
  readonly nproc?: string;
  readonly device?: string;
  readonly amp?: boolean;
}

/** The engine and its options from the flags; a usage error names the bad flag. */
function engineFlags(flags: RunFlags): { engine: EngineName; nproc: number; device: 'cpu' | 'cuda'; amp: boolean } {
  const engine = flags.engine ? engineNamed(flags.engine) : flags.resume ? engineOfRun(flags.resume) : 'tfjs';
  if (!engine) throw new UsageError(`--engine ${flags.engine}: the engines are ${Object.keys(ENGINES).join(' and ')}`);
  const torchOnly = [flags.nproc !== undefined && '--nproc', flags.device !== undefined && '--device', flags.amp && '--amp'].filter(Boolean);
  if (engine !== 'torch' && torchOnly.length) throw new UsageError(`${torchOnly.join(', ')} ${torchOnly.length > 1 ? 'are options' : 'is an option'} of the torch engine: add --engine torch`);
  if (engine === 'torch' && flags.backend) throw new UsageError('--backend chooses a TensorFlow.js backend; the torch engine uses --device cpu|cuda');
  const nproc = flags.nproc === undefined ? 1 : Number(flags.nproc);
  if (!Number.isInteger(nproc) || nproc < 1 || nproc > 1024) throw new UsageError(`--nproc ${flags.nproc}: give a whole number of processes from 1 to 1024`);
  const device = flags.device ?? 'cpu';
  if (device !== 'cpu' && device !== 'cuda') throw new UsageError(`--device ${device}: give cpu or cuda`);
  if (flags.amp && device !== 'cuda') throw new UsageError('--amp (mixed precision) needs --device cuda');
  return { engine, nproc, device, amp: !!flags.amp };
}

export async function runCommand(files: readonly string[], flags: RunFlags, io: Output): Promise<number> {
  const e = engineFlags(flags);
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
  if (e.engine === 'tfjs') {
    inferenceWorkers('wasm');
    if (flags.backend) backendOf(flags.backend);
  }
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
    const r = await ENGINES[e.engine].run({ plan, recipeText: text, events, backend: flags.backend, resume: flags.resume, stopped: () => stopping, nproc: e.nproc, device: e.device, amp: e.amp });
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
