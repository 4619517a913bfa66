import * as path from 'node:path';
import type { Events } from '../../runtime/events.js';
import type { ModelService, RunResult } from '../types.js';
import { assertSaveTarget } from '../../runtime/run-folder.js';
import { copyDirAtomic, writeFileAtomic } from '../../files/atomic.js';
import { MODEL_MARKER } from '../../data/model-folder.js';
import { writeReportHtml } from '../../report/report-html.js';
import type { TorchOutcome } from './launch.js';
import { addToMarker } from '../../files/owned.js';
import { readContract } from '../../contracts/read.js';

// What tlr does after the torch engine finished a run, as it does after its own: the copy
// `save … to` asks for, `export onnx` (from the saved model, converted to tlr's program), and
// report.html. The engine itself only writes what any of its ranks can write without Node.

/** The `save … to` copy, the exports and report.html; then the `finished` event. */
export async function finishTorchRun(out: TorchOutcome, events: Events, models: ModelService): Promise<RunResult> {
  const dir = out.runDir,
    model = path.join(dir, 'model');
  const plan = readContract('plan', path.join(dir, 'plan.json'));
  if (plan.save.to) {
    assertSaveTarget(plan, `; the run's own copy is in ${model}`);
    await copyDirAtomic(model, plan.save.to, MODEL_MARKER);
  }
  const exported: string[] = [];
  if (plan.save.exports?.length) {
    const m = await models.open(model);
    try {
      for (const e of plan.save.exports) {
        const bytes = models.exportOnnx(m, { softmax: e.softmax });
        for (const d of [model, ...(plan.save.to ? [plan.save.to] : [])]) {
          writeFileAtomic(path.join(d, 'model.onnx'), bytes);
          addToMarker(d, MODEL_MARKER, 'model.onnx');
          exported.push(path.join(d, 'model.onnx'));
        }
      }
    } finally {
      m.dispose();
    }
  }
  await writeReportHtml(dir);
  const f = out.finished!;
  events.emit({ ...f, exported });
  return { runDir: dir, status: 'finished', evaluation: f.evaluation };
}
