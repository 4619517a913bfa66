// BatchNorm while fine-tuning: each recipe's later stages run twice, with the BatchNorm layers that
// train in training mode (`update batchnorm statistics`) and in inference mode (`keep batchnorm
// statistics`), from an empty cache, same seed. Prints each stage's best validation loss and
// accuracy, and the test accuracy: what the default (src/compiler/check/training.ts) is chosen by.
//   npx tsx bench/batchnorm.ts        (ImageNet weights and Fashion-MNIST from ../shared)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import '@tensorflow/tfjs-backend-wasm';
import { compile } from '../src/compiler/index.js';
import { run } from '../src/engines/tfjs/run.js';
import { engineMetrics, Events } from '../src/runtime/events.js';
import type { Plan } from '../src/contracts/plan.js';
import { hard4 } from './fashion-folders.js';

const clothes = path.resolve(import.meta.dirname, '../recipes/quickstart/clothes');

const RECIPES = (fashion: string): Record<string, string> => ({
  'clothes, MobileNet V1 0.25 at 128 (recipes/quickstart/fine-tune.tlr)': fs
    .readFileSync(path.resolve(import.meta.dirname, '../recipes/quickstart/fine-tune.tlr'), 'utf8')
    .replace('./clothes', clothes),
  'clothes, MobileNet V2 0.35 at 128':
    `from mobilenet_v2 width 0.35 input 128\nhead dropout(0.2) ` +
    `dense(4)\ntrain 8 epochs on ${clothes}\n  lr 0.003\nthen unfreeze from block14 train 4 epochs\n  batch ` +
    `16\n  lr 0.0003\nsplit 70/15/15\n`,
  'Fashion-MNIST t-shirt/pullover/coat/shirt, MobileNet V1 0.25 at 64':
    `from mobilenet_v1 width 0.25 input ` +
    `64\nhead dropout(0.2) dense(4)\ntrain 8 epochs on ${fashion}\n  lr 0.003\nthen unfreeze from block9 train ` +
    `4 epochs\n  batch 16\n  lr 0.0003\nsplit 70/15/15\n`,
});

async function once(
  plan: Plan,
  mode: 'keep' | 'update',
): Promise<{ stages: { loss: number; acc: number }[]; test: number; testLoss: number }> {
  const p: Plan = {
    ...plan,
    stages: plan.stages.map((s, i) => (i ? { ...s, batchnorm: mode } : s)),
    output: { runsDir: fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-bn-')) },
  };
  const events = new Events();
  const stages: { loss: number; acc: number }[] = [];
  let test = NaN,
    testLoss = NaN;
  events.on((e) => {
    if (e.type === 'epoch') {
      stages[e.stage - 1] ??= { loss: Infinity, acc: 0 };
      const st = stages[e.stage - 1]!;
      const m = engineMetrics(e.metrics);
      st.loss = Math.min(st.loss, m.val_loss);
      st.acc = Math.max(st.acc, m.val_accuracy);
    }
    if (e.type === 'evaluation') {
      test = e.evaluation.accuracy;
      testLoss = e.evaluation.loss ?? Number.NaN;
    }
  });
  await run({
    plan: p,
    recipeText: '',
    events,
    env: { ...process.env, TLR_CACHE: fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-bn-cache-')) },
  });
  return { stages, test, testLoss };
}

const fashion = await hard4();
for (const [name, text] of Object.entries(RECIPES(fashion))) {
  const file = path.join(os.tmpdir(), 'tlr-bn-recipe.tlr');
  fs.writeFileSync(file, text);
  const c = compile(text, { file });
  if (!c.plan) throw new Error(`${name}: ${c.diagnostics.map((d) => d.message).join('; ')}`);
  console.log(name);
  for (const mode of ['update', 'keep'] as const) {
    const r = await once(c.plan, mode);
    console.log(
      `  ${mode.padEnd(6)} ${r.stages
        .map((s, i) => `stage ${i + 1} best val_loss ${s.loss.toFixed(4)} val_acc ` + `${s.acc.toFixed(4)}`)
        .join(' · ')} · test ${r.test.toFixed(4)} (loss ${r.testLoss.toFixed(4)})`,
    );
  }
}
