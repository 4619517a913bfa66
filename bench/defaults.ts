// What the defaults are chosen by (src/compiler/check/training.ts), on several data sets, each run
// from an empty cache with the same seed:
//   epochs  a head on cached features trained for 60 epochs at the default rate; for each
//           candidate count N, the model `save best` would keep from the first N epochs.
//   scratch  a network from random weights (MobileNet V1 0.25 on the tfjs engine, ResNet-18 on the
//           torch engine, 32 px, 10 epochs, flip) at 1e-3 constant (the old default), 1e-3
//           one-cycle and 3e-3 one-cycle.
//   finetune  stage 2 (upper blocks unfrozen, 5 epochs) from the same stage 1, at the stage before's
//           rate divided by 100, 10 (the default) and 3.
//   npx tsx bench/defaults.ts [epochs|scratch|finetune]      (ImageNet weights and Fashion-MNIST from ../shared)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import '@tensorflow/tfjs-backend-wasm';
import { compile } from '../src/compiler/index.js';
import { runEngine } from '../src/engines/index.js';

type EngineName = 'tfjs' | 'torch';
import { Events } from '../src/runtime/events.js';
import { engineMetrics, type EngineMetrics } from '../src/runtime/events.js';
import type { Plan } from '../src/contracts/plan.js';
import { fashionFolder, hard4 } from './fashion-folders.js';

const clothes = path.resolve(import.meta.dirname, '../recipes/quickstart/clothes');

interface DataSet {
  readonly name: string;
  readonly dir: string;
  readonly classes: number;
}

async function dataSets(): Promise<DataSet[]> {
  return [
    { name: "clothes (the quickstart's photos)", dir: clothes, classes: 4 },
    { name: 'Fashion t-shirt/pullover/coat/shirt, 250 each', dir: await hard4(), classes: 4 },
    {
      name: 'Fashion, all 10 classes, 150 each',
      dir: await fashionFolder('all10', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 150),
      classes: 10,
    },
    {
      name: 'Fashion sandal/sneaker/boot/bag, 200 each',
      dir: await fashionFolder('feet4', [5, 7, 8, 9], 200),
      classes: 4,
    },
  ];
}

/** Runs `text` (from an empty cache); every epoch's metrics by stage, and the test accuracy. */
async function runRecipe(
  text: string,
  change: (p: Plan) => Plan = (p) => p,
  engine: EngineName = 'tfjs',
): Promise<{ epochs: EngineMetrics[][]; test: number }> {
  const file = path.join(os.tmpdir(), 'tlr-defaults-recipe.tlr');
  fs.writeFileSync(file, text);
  const c = compile(text, { file });
  if (!c.plan) throw new Error(c.diagnostics.map((d) => d.message).join('; '));
  const plan = change({ ...c.plan, output: { runsDir: fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-defaults-')) } });
  const events = new Events();
  const epochs: EngineMetrics[][] = [];
  let test = NaN;
  events.on((e) => {
    if (e.type === 'epoch') {
      epochs[e.stage - 1] ??= [];
      epochs[e.stage - 1]!.push(engineMetrics(e.metrics));
    }
    if (e.type === 'evaluation') test = e.evaluation.accuracy;
  });
  await runEngine(engine, {
    plan,
    recipeText: '',
    events,
    env: { ...process.env, TLR_CACHE: fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-defaults-cache-')) },
  });
  return { epochs, test };
}

/** The epoch `save best by val_accuracy` keeps among `ms` (a tie goes to the lower val_loss). */
const kept = (ms: readonly EngineMetrics[]): EngineMetrics =>
  ms.reduce((a, b) =>
    b.val_accuracy > a.val_accuracy || (b.val_accuracy === a.val_accuracy && b.val_loss < a.val_loss) ? b : a,
  );

const f = (x: number) => x.toFixed(3);

async function headEpochs(sets: DataSet[]): Promise<void> {
  const counts = [3, 5, 10, 15, 20, 30, 40, 60];
  console.log(
    `head on cached features (MobileNet V2 0.35 at 96), default rate, 60 epochs; the kept epoch's val acc / ` +
      `val_loss within the first N epochs, N = ${counts.join(', ')}`,
  );
  for (const d of sets) {
    const r = await runRecipe(
      `from mobilenet_v2 width 0.35 input 96\nhead dense(${d.classes})\ntrain 60 epochs on ${d.dir}\nsplit 70/15/15\n`,
    );
    const ms = r.epochs[0]!;
    console.log(`  ${d.name}`);
    console.log(
      `    ${counts
        .map((n) => {
          const k = kept(ms.slice(0, n));
          return `${n}: ${f(k.val_accuracy)} / ${f(k.val_loss)}`;
        })
        .join(' · ')}`,
    );
  }
}

async function fineTuneRates(sets: DataSet[]): Promise<void> {
  const variants: [string, (lr: number) => Plan['stages'][number]['lr']][] = [
    ['/100', (lr) => ({ initial: lr / 100, schedule: { kind: 'constant' } })],
    ['/10', (lr) => ({ initial: lr / 10, schedule: { kind: 'constant' } })],
    ['/3', (lr) => ({ initial: +(lr / 3).toPrecision(3), schedule: { kind: 'constant' } })],
  ];
  console.log(
    'stage 2 (MobileNet V1 0.25 at 96, block9 on unfrozen, 5 epochs) from the same stage 1 (head, 10 epochs at ' +
      '3e-3): best val_loss / val acc of stage 2, then test acc',
  );
  for (const d of sets.slice(0, 3)) {
    console.log(`  ${d.name}`);
    const text =
      `from mobilenet_v1 width 0.25 input 96\nhead dropout(0.2) dense(${d.classes})\ntrain 10 epochs ` +
      `on ${d.dir}\nthen unfreeze from block9 train 5 epochs\n  batch 16\nsplit 70/15/15\n`;
    for (const [name, lr] of variants) {
      const r = await runRecipe(text, (p) => ({
        ...p,
        stages: p.stages.map((s, i) => (i ? { ...s, lr: lr(p.stages[0]!.lr.initial) } : s)),
      }));
      const s1 = r.epochs[0]!,
        s2 = r.epochs[1]!;
      const best1 = Math.min(...s1.map((m) => m.val_loss)),
        best2 = Math.min(...s2.map((m) => m.val_loss));
      console.log(
        `    ${name.padEnd(5)} stage 1 ${f(best1)} / ${f(kept(s1).val_accuracy)} → stage 2 ${f(best2)} / ` +
          `${f(kept(s2).val_accuracy)} · test ${f(r.test)}`,
      );
    }
  }
}

async function scratchRates(sets: DataSet[]): Promise<void> {
  const variants: [string, Plan['stages'][number]['lr']][] = [
    ['1e-3 constant', { initial: 1e-3, schedule: { kind: 'constant' } }],
    ['1e-3 one-cycle', { initial: 1e-3, schedule: { kind: 'one-cycle' } }],
    ['3e-3 one-cycle', { initial: 3e-3, schedule: { kind: 'one-cycle' } }],
  ];
  const nets: [string, string, EngineName][] = [
    ['MobileNet V1 0.25, tfjs', 'mobilenet_v1 width 0.25', 'tfjs'],
    ['ResNet-18, torch', 'resnet18', 'torch'],
  ];
  console.log('from random weights, 32 px, 10 epochs, batch 32, flip: best val_loss / kept val acc, then test acc');
  for (const d of sets) {
    console.log(`  ${d.name}`);
    for (const [netName, from, engine] of nets) {
      const text =
        `from ${from} weights none input 32\nhead dense(${d.classes})\ntrain 10 epochs on ` +
        `${d.dir}\nsplit 70/15/15\naugment flip\n`;
      for (const [name, lr] of variants) {
        const r = await runRecipe(text, (p) => ({ ...p, stages: p.stages.map((s) => ({ ...s, lr })) }), engine);
        const ms = r.epochs[0]!;
        console.log(
          `    ${netName.padEnd(24)} ${name.padEnd(15)} ${f(Math.min(...ms.map((m) => m.val_loss)))} / ` +
            `${f(kept(ms).val_accuracy)} · test ${f(r.test)}`,
        );
      }
    }
  }
}

const which = process.argv[2];
const sets = await dataSets();
if (!which || which === 'epochs') await headEpochs(sets);
if (!which || which === 'scratch') await scratchRates(sets);
if (!which || which === 'finetune') await fineTuneRates(sets);
