// The learning-rate finder against a sweep of fixed rates, per recipe: the finder's suggestion
// (stage 1, from the recipe's starting weights), then stage 1 trained alone at each rate of a grid
// for E epochs; the validation loss and accuracy of each, and where the suggestion falls.
//   npx tsx bench/lr-find.ts EPOCHS RECIPE...      (TLR_WEIGHTS_DIR for ImageNet weights)
import * as fs from 'node:fs';
import '@tensorflow/tfjs-backend-wasm';
import { compile } from '../src/compiler/index.js';
import { lrFind } from '../src/engines/tfjs/lr-find.js';
import { run } from '../src/engines/tfjs/run.js';
import { engineMetrics, Events } from '../src/runtime/events.js';
import type { Plan } from '../src/contracts/plan.js';
import { formatLr } from '../src/text/numbers.js';

const [epochsArg, ...recipes] = process.argv.slice(2);
const epochs = Number(epochsArg ?? 5),
  GRID = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1];

/** Stage 1 alone, at `lr`, for `epochs` epochs, in a throwaway runs folder. */
function stageOne(plan: Plan, lr: number): Plan {
  const s = plan.stages[0]!;
  return {
    ...plan,
    stages: [{ ...s, epochs, lr: { initial: lr, schedule: s.lr.schedule }, earlyStop: null }],
    save: { ...plan.save, to: null, exports: undefined },
    output: { runsDir: fs.mkdtempSync('/tmp/tlr-lrbench-') },
  };
}

for (const file of recipes) {
  const c = compile(fs.readFileSync(file, 'utf8'), { file });
  if (!c.plan) throw new Error(`${file}: ${c.diagnostics.map((d) => d.message).join('; ')}`);
  const t0 = Date.now();
  const curve = await lrFind({ plan: c.plan, stage: 0, events: new Events() });
  console.log(
    `${c.plan.recipe.name}: suggestion ${formatLr(curve.suggestion)} (minimum ${formatLr(curve.minimum)}, ` +
      `steepest ${formatLr(curve.steepest)}), ${((Date.now() - t0) / 1000).toFixed(1)} s; the recipe says ` +
      `${formatLr(c.plan.stages[0]!.lr.initial)}`,
  );
  const rows: { lr: number; loss: number; acc: number }[] = [];
  for (const lr of [...GRID, +curve.suggestion.toPrecision(1)].sort((a, b) => a - b)) {
    if (rows.some((r) => r.lr === lr)) continue;
    const events = new Events();
    let last = { val_loss: NaN, val_accuracy: NaN };
    events.on((e) => {
      if (e.type === 'epoch') last = engineMetrics(e.metrics);
    });
    await run({ plan: stageOne(c.plan, lr), recipeText: '', events });
    rows.push({ lr, loss: last.val_loss, acc: last.val_accuracy });
    console.log(
      `  lr ${formatLr(lr).padEnd(7)} val_loss ${last.val_loss.toFixed(4)}  val_accuracy ` +
        `${last.val_accuracy.toFixed(4)}${lr === +curve.suggestion.toPrecision(1) ? '  <- suggestion' : ''}`,
    );
  }
  const best = rows.reduce((a, b) => (b.loss < a.loss ? b : a));
  const sug = rows.find((r) => r.lr === +curve.suggestion.toPrecision(1))!;
  console.log(
    `  best fixed rate by val_loss: ${formatLr(best.lr)} (${best.loss.toFixed(4)}, acc ${best.acc.toFixed(4)}); ` +
      `the suggestion: val_loss ${sug.loss.toFixed(4)}, acc ${sug.acc.toFixed(4)}`,
  );
}
