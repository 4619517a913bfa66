import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatLr } from '../../text/numbers.js';
import { dispatch, type EventOf, type EventTable, type RunEvent } from '../../runtime/events.js';
import { evaluationText } from '../../text/evaluation.js';
import { displayPath } from '../../paths.js';
import { printable } from '../../printable.js';

// Plain lines for pipes, CI and logs: one line per thing that happened, no cursor movement.

const num = (v: number | null) => (v !== null && Number.isFinite(v) ? v.toFixed(4) : 'n/a');

const through = (e: EventOf<'features'>) => (e.through ? ` (frozen part, through ${e.through})` : '');
const ranOn = (e: EventOf<'features'>) =>
  e.engine ? ` on ${e.engine}` : e.workers ? ` on ${e.workers} worker threads` : '';

const weightsLine = (e: EventOf<'weights'>): string | null => {
  if (e.phase === 'ready') {
    const sha = e.sha256 ? `, sha256 ${e.sha256.slice(0, 12)}…` : '';
    return `weights    ${e.from === 'none' ? 'none (random initialisation)' : `${e.from}${sha}`}`;
  }
  if (e.phase === 'downloading' && e.total && e.received === e.total) return `download   ${e.url} (${e.total} bytes)`;
  return null;
};

const featuresLine = (e: EventOf<'features'>): string | null => {
  if (e.phase === 'hit') return `features   ${e.split}${through(e)}: ${e.total} from the cache (${e.key.slice(0, 8)})`;
  if (e.phase === 'computing' && e.calibrating)
    return `features   calibrating the int8 network on ${e.calibrating} training images`;
  if (e.phase === 'done')
    return `features   ${e.split}${through(e)}: ${e.total} computed and cached (${e.key.slice(0, 8)})${ranOn(e)}`;
  return null;
};

const epochLine = (e: EventOf<'epoch'>): string => {
  const m = e.metrics;
  const metrics =
    `loss ${num(m.loss)}  acc ${num(m.accuracy)}  val_loss ${num(m.val_loss)}  val_acc ` +
    `${num(m.val_accuracy)}${m.val_map === undefined ? '' : `  val_mAP ${num(m.val_map)}`}`;
  return (
    `  epoch ${String(e.epoch).padStart(3)}/${e.epochs}  ${metrics}  lr ${formatLr(e.lr)}  ` +
    `${e.seconds.toFixed(1)}s${e.best ? '  * best' : ''}`
  );
};

const lrFoundLine = (e: EventOf<'lr-found'>): string => {
  if (e.resumed) return `  lr auto: ${formatLr(e.lr)} (chosen before the run was interrupted)`;
  return (
    `  lr auto: ${formatLr(e.lr)} (${e.rule}: ${formatLr(e.minimum)}; the loss fell fastest at ` +
    `${formatLr(e.steepest)}; ${e.steps} steps)`
  );
};

/** The lines each event prints (null: none), with `show` shortening paths. */
const lines = (show: (p: string) => string): EventTable<string | null> => ({
  plan: (e) =>
    `tlr run · ${e.plan.recipe.name}${e.resumed ? ' (resumed)' : ''} → ${show(e.runDir)} · backend ${e.backend}`,
  weights: weightsLine,
  data: ({ counts: c }) => `data       train ${c.train} · validation ${c.validation} · test ${c.test} images`,
  features: featuresLine,
  'stage-start': (e) =>
    `stage ${e.stage}/${e.of}  ${e.epochs} epochs, ${e.cached ? 'head only, on cached features' : 'on images'} ` +
    `· ${e.trainable.toLocaleString('en-US')} trainable parameters · ${e.backend}`,
  batch: () => null,
  epoch: epochLine,
  checkpoint: () => null,
  'lr-found': lrFoundLine,
  'early-stop': (e) => `  early stop: ${e.metric} did not improve for ${e.patience} epochs`,
  evaluation: (e) => `\n${evaluationText(e.evaluation)}\n`,
  warning: (e) => `warning: ${e.message}`,
  interrupted: (e) =>
    `interrupted after stage ${e.stage}, epoch ${e.epoch}; the best model and a checkpoint are kept.\ncontinue ` +
    `with: tlr run --resume ${show(e.runDir)}`,
  error: (e) => `error: ${e.message}`,
  finished: (e) =>
    [
      `best       ${e.best.metric} ${num(e.best.value)} (stage ${e.best.stage}, epoch ${e.best.epoch})`,
      `model      ${show(e.modelDir)}  (tlr predict ${show(e.modelDir)} IMAGE...)`,
      ...(e.exported ?? []).map((f) => `onnx       ${show(f)}`),
      `report     ${show(path.join(e.runDir, 'report.html'))}  (open it in a browser: ` +
        `${pathToFileURL(path.resolve(e.runDir, 'report.html')).href})`,
      `           ${show(path.join(e.runDir, 'report.json'))}`,
      `finished in ${e.seconds.toFixed(1)}s`,
    ].join('\n'),
});

/** The plain-text reporter: one line per event worth a line (pipes, CI). */
export function textReporter(out: (line: string) => void): (e: RunEvent) => void {
  const cwd = process.cwd();
  const table = lines((p) => displayPath(cwd, p));
  // Names and paths come from recipes and data folders: escape what could drive the terminal.
  return (e) => {
    const text = dispatch(table, e);
    if (text !== null) out(text.split('\n').map(printable).join('\n'));
  };
}

/** One JSON object per event, one per line. */
export function ndjsonReporter(write: (line: string) => void): (e: RunEvent) => void {
  return (e) => write(JSON.stringify(e));
}
