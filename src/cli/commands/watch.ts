import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderDiagnostics } from '../../compiler/render.js';
import { Events } from '../../runtime/events.js';
import { DEFAULT_ENGINE, engineNamed, runOn, settle, type FlagValues } from '../../engines/index.js';
import { WatchSession, type WatchStatus } from '../../watch/session.js';
import { describeItem, listSplits } from '../../runtime/images/dataset.js';
import { dataFolders } from '../../runtime/run-folder.js';
import type { Plan } from '../../contracts/plan.js';
import { ndjsonReporter, textReporter } from '../reporters/text.js';
import { useLiveView } from './run.js';
import { compileFile, readRecipe, useColor, UsageError, type Output } from '../io.js';

/** Every image the plan's data lists, by split, in order: a change to it starts a new run. */
function imagesOf(plan: Plan): string[] {
  try {
    const sp = listSplits(plan);
    return (['train', 'validation', 'test'] as const).flatMap((k) => sp[k].map((it) => `${k} ${describeItem(it)}`));
  } catch {
    return []; // the data cannot be listed now: the run reports why
  }
}

/**
 * Watches the recipe (its folder, one level: editors that save by renaming replace the file
 * itself) and, once a plan names them, the data folders at every depth (images come and go in
 * class folders); a change, debounced, asks the session to compile again, and the session starts
 * a new run only when the plan or the list of images changed.
 */
async function watchRecipe(
  file: string,
  session: WatchSession,
): Promise<{ watchData(): void; close(): Promise<void> }> {
  const { watch } = await import('chokidar');
  const watcher = watch(path.dirname(file), { ignoreInitial: true, depth: 0 });
  const isRuns = (p: string) => p.split(path.sep).includes('runs');
  const dataWatcher = watch([], { ignoreInitial: true, ignored: isRuns });
  const data = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void session.changed().then(watchData), 300);
  };
  const watchData = () => {
    const plan = session.currentPlan;
    for (const root of plan ? dataFolders(plan) : []) {
      if (data.has(root) || !fs.existsSync(root)) continue;
      data.add(root);
      dataWatcher.add(root);
    }
  };
  watcher.on('all', (_event, p) => {
    if (path.resolve(p) === file) changed();
  });
  dataWatcher.on('all', () => changed());
  return {
    watchData,
    close: async () => {
      clearTimeout(timer);
      await Promise.all([watcher.close(), dataWatcher.close()]);
    },
  };
}

/** `tlr watch`: runs the recipe, then re-plans and re-runs it when it or its data changes. */
type Listener = (s: WatchStatus, e: Events | null) => void;

/** The Ink view of a watch session, fed by `listeners` (loaded only when a terminal shows it). */
async function liveView(file: string, listeners: Listener[], onQuit: () => void): Promise<{ unmount(): void }> {
  const [{ render }, React, { WatchView }] = await Promise.all([
    import('ink'),
    import('react'),
    import('../../ui/watch-view.js'),
  ]);
  const feed = {
    on: (l: Listener) => {
      listeners.push(l);
      return () => void listeners.splice(listeners.indexOf(l), 1);
    },
  };
  return render(React.createElement(WatchView, { file, feed, onQuit }), { exitOnCtrlC: false, patchConsole: false });
}

export async function watchCommand(
  files: readonly string[],
  flags: { json: boolean; engine?: string; engineFlags: FlagValues },
  io: Output,
): Promise<number> {
  if (files.length !== 1) throw new UsageError('tlr watch takes one recipe file');
  const file = path.resolve(files[0]!);
  readRecipe(file);
  const engine = engineNamed(flags.engine ?? DEFAULT_ENGINE);
  const settings = await settle(engine, flags.engineFlags);
  const live = !flags.json && useLiveView();
  const listeners: Listener[] = [];
  let lastEvents: Events | null = null;

  const session = new WatchSession({
    compile: () => {
      if (!fs.existsSync(file)) return { plan: null, text: '', diagnostics: '', missing: true };
      const c = compileFile(file, { whileSaving: true });
      return {
        plan: c.plan,
        text: c.text,
        diagnostics: renderDiagnostics(c.diagnostics, files[0]!, c.text, { color: !live && useColor() }),
        listing: c.plan ? imagesOf(c.plan) : [],
      };
    },
    start: (plan, text) => {
      const events = new Events({ replay: true });
      if (!live) events.on(flags.json ? ndjsonReporter((l) => io.out(l)) : textReporter((l) => io.out(l)));
      let stopped = false;
      const done = runOn(engine, { plan, recipeText: text, events, settings, stopped: () => stopped }).catch(
        (e: Error) => events.emit({ type: 'error', message: e.message }),
      );
      lastEvents = events;
      return {
        stop: () => {
          stopped = true;
        },
        done,
      };
    },
    status: (s) => {
      listeners.forEach((l) => {
        l(s, lastEvents);
      });
      if (live) return;
      if (s.kind === 'diagnostics') io.out(`${s.text}\nthe recipe has errors; the current run goes on`);
      else if (s.kind === 'missing') io.out('the recipe was deleted; waiting for it (the current run goes on)');
      else if (s.kind === 'unchanged') io.out('saved; the plan did not change');
      else if (s.changes.length) io.out(`run ${s.run}: the plan changed:\n  ${s.changes.join('\n  ')}`);
    },
  });

  const watcher = await watchRecipe(file, session);

  let quit: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    quit = resolve;
  });
  const ui = live ? await liveView(files[0]!, listeners, () => quit()) : null;
  if (!live) io.out(`watching ${files[0]} and its data; Ctrl-C quits`);
  const onSigint = () => quit();
  process.on('SIGINT', onSigint);
  await session.changed();
  watcher.watchData();
  await finished;
  process.off('SIGINT', onSigint);
  await watcher.close();
  await session.stop();
  ui?.unmount();
  return 0;
}
