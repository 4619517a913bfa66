import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatLr } from '../../text/format.js';
import type { RunEvent } from '../../runtime/events.js';
import { evaluationText } from '../../text/evaluation.js';
import { displayPath } from '../../paths.js';
import { printable } from '../../printable.js';

// Plain lines for pipes, CI and logs: one line per thing that happened, no cursor movement.

const num = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : 'n/a');

/** The plain-text reporter: one line per event worth a line (pipes, CI). */
export function textReporter(out: (line: string) => void): (e: RunEvent) => void {
  const cwd = process.cwd();
  // Names and paths come from recipes and data folders: escape what could drive the terminal.
  const write = (l: string) => out(l.split('\n').map(printable).join('\n'));
  const show = (p: string) => displayPath(cwd, p);

  return (e) => {
    switch (e.type) {
      case 'plan':
        write(`tlr run · ${e.plan.recipe.name}${e.resumed ? ' (resumed)' : ''} → ${show(e.runDir)} · backend ${e.backend}`);
        break;
      case 'weights':
        if (e.phase === 'ready') write(`weights    ${e.from === 'none' ? 'none (random initialisation)' : `${e.from}${e.sha256 ? `, sha256 ${e.sha256.slice(0, 12)}…` : ''}`}`);
        else if (e.phase === 'downloading' && e.total && e.received === e.total) write(`download   ${e.url} (${e.total} bytes)`);
        break;
      case 'data':
        write(`data       train ${e.counts.train} · validation ${e.counts.validation} · test ${e.counts.test} images`);
        break;
      case 'features': {

        if (e.phase === 'hit') write(`features   ${e.split}${e.through ? ` (frozen part, through ${e.through})` : ''}: ${e.total} from the cache (${e.key.slice(0, 8)})`);
        else if (e.phase === 'done') write(`features   ${e.split}${e.through ? ` (frozen part, through ${e.through})` : ''}: ${e.total} computed and cached (${e.key.slice(0, 8)})${e.engine ? ` on ${e.engine}` : e.workers ? ` on ${e.workers} worker threads` : ''}`);

        break;
      }
      case 'stage-start':
        write(`stage ${e.stage}/${e.of}  ${e.epochs} epochs, ${e.cached ? 'head only, on cached features' : 'on images'} · ${e.trainable.toLocaleString('en-US')} trainable parameters · ${e.backend}`);
        break;
      case 'epoch':
        write(`  epoch ${String(e.epoch).padStart(3)}/${e.epochs}  loss ${num(e.metrics.loss)}  acc ${num(e.metrics.accuracy)}  val_loss ${num(e.metrics.val_loss)}  val_acc ${num(e.metrics.val_accuracy)}  lr ${formatLr(e.lr)}  ${e.seconds.toFixed(1)}s${e.best ? '  * best' : ''}`);
        break;
      case 'lr-found':
        write(`  lr auto: ${formatLr(e.lr)}${e.resumed ? ' (chosen before the run was interrupted)' : ` (${e.rule}: ${formatLr(e.minimum)}; the loss fell fastest at ${formatLr(e.steepest)}; ${e.steps} steps)`}`);
        break;
      case 'early-stop':
        write(`  early stop: ${e.metric} did not improve for ${e.patience} epochs`);
        break;
      case 'warning':
        write(`warning: ${e.message}`);
        break;
      case 'evaluation':
        write(`\n${evaluationText(e.evaluation)}\n`);
        break;
      case 'interrupted':
        write(`interrupted after stage ${e.stage}, epoch ${e.epoch}; the best model and a checkpoint are kept.\ncontinue with: tlr run --resume ${show(e.runDir)}`);
        break;
      case 'error':
        write(`error: ${e.message}`);
        break;
      case 'finished':
        write(`best       ${e.best.metric} ${num(e.best.value)} (stage ${e.best.stage}, epoch ${e.best.epoch})`);
        write(`model      ${show(e.modelDir)}  (tlr predict ${show(e.modelDir)} IMAGE...)`);
        for (const f of e.exported ?? []) write(`onnx       ${show(f)}`);
        write(`report     ${show(path.join(e.runDir, 'report.html'))}  (open it in a browser: ${pathToFileURL(path.resolve(e.runDir, 'report.html')).href})`);
        write(`           ${show(path.join(e.runDir, 'report.json'))}`);
        write(`finished in ${e.seconds.toFixed(1)}s`);
        break;
      default:
        break;
    }

  };
}

/** One JSON object per event, one per line. */
export function ndjsonReporter(write: (line: string) => void): (e: RunEvent) => void {
  return (e) => write(JSON.stringify(e));
}
