import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compile } from '../compiler/index.js';
import { runOn, settle } from '../engines/index.js';
import type { EngineDef } from '../engines/types.js';
import { Events, type RunEvent } from '../runtime/events.js';
import { implausible, writeCalibration, type Calibration, type NetworkKind } from '../runtime/calibration.js';
import { planCompute, type StageCompute } from '../review/compute.js';

// `tlr doctor --calibrate`: each engine runs a small real recipe on generated images, and its two
// rates come from the events: MACs a second filling the caches (forward only), and in the training
// steps of a stage that trains the top block. Measured through the engine's own run, so the
// estimate covers what a run does (data loading, the engine's kernels), not a kernel alone.

/** One small recipe per kind of network: a stage on cached features, then one training the top block. */
const RECIPES: Record<NetworkKind, { readonly text: string; readonly how: string }> = {
  conv: {
    how: 'ResNet-18',
    text: `recipe "calibration"
seed 1
from resnet18
  weights none
  input 96
freeze all
train 2 epochs on ./data
  batch 16
then unfreeze from block4 train 3 epochs
then unfreeze all train 2 epochs
  batch 16
split 75/25
`,
  },
  depthwise: {
    how: 'MobileNet V1 0.5',
    text: `recipe "calibration"
seed 1
from mobilenet_v1
  width 0.5
  weights none
  input 96
freeze all
train 2 epochs on ./data
  batch 16
then unfreeze from block11 train 3 epochs
then unfreeze all train 2 epochs
  batch 16
split 75/25
`,
  },
};

/** Random images, three classes of 32: noise the engine must decode, resize and normalise like any photo. */
async function makeData(dir: string): Promise<void> {
  const sharp = (await import('sharp')).default;
  for (const c of ['a', 'b', 'c']) {
    fs.mkdirSync(path.join(dir, c), { recursive: true });
    for (let i = 0; i < 32; i++) {
      const px = Buffer.alloc(112 * 112 * 3);
      for (let j = 0; j < px.length; j++) px[j] = (Math.random() * 256) | 0;
      await sharp(px, { raw: { width: 112, height: 112, channels: 3 } })
        .png()
        .toFile(path.join(dir, c, `${i}.png`));
    }
  }
}

/**
 * What the events of a run show, timed on arrival: for each stage (1-based), the images its cache
 * filling computed and over how many seconds (from each part's first progress event to its last:
 * both engines report progress after every batch and start the stage once the cache is filled),
 * and its epochs' seconds.
 */
function timeline(events: Events) {
  const fill = new Map<number, { images: number; seconds: number }>();
  const epochs = new Map<number, number[]>();
  let stage = 1,
    started: number | null = null;
  const t0 = performance.now() / 1000;
  // The part (train, validation) being filled: its first and latest progress.
  let part: { first: { t: number; done: number }; last: { t: number; done: number } } | null = null;
  events.on((e: RunEvent) => {
    const now = { t: performance.now() / 1000, done: e.type === 'features' ? (e.done ?? 0) : 0 };
    if (e.type === 'features' && e.phase === 'progress') part = { first: part?.first ?? now, last: now };
    started ??= e.type === 'features' ? now.t - t0 : null;
    if (e.type === 'features' && e.phase === 'done' && part) {
      const f = fill.get(stage) ?? { images: 0, seconds: 0 };
      fill.set(stage, {
        images: f.images + part.last.done - part.first.done,
        seconds: f.seconds + part.last.t - part.first.t,
      });
      part = null;
    }
    if (e.type === 'stage-start') stage = e.stage + 1;
    if (e.type === 'epoch') epochs.set(e.stage, [...(epochs.get(e.stage) ?? []), e.seconds]);
  });
  return { fill, epochs, startup: () => started ?? 0 };
}

/**
 * MACs a second and seconds per layer and batch from two training stages' epoch times `y`:
 * y = MACs / training + batches × layers × perLayerBatch, solved exactly; a measurement that gives
 * a negative cost (noise) falls back to no layer cost and one rate over both stages.
 */
function solveTraining(
  st: readonly [StageCompute, StageCompute],
  y: readonly [number, number],
): { training: number; perLayerBatch: number } {
  const [a, b] = st.map((s) => [s.perEpochTraining, s.batches * s.trainedLayers] as const);
  const det = a![0] * b![1] - a![1] * b![0];
  const inv = (y[0] * b![1] - a![1] * y[1]) / det,
    p = (a![0] * y[1] - y[0] * b![0]) / det;
  if (det !== 0 && inv > 0 && p >= 0) return { training: 1 / inv, perLayerBatch: p };
  const total = Math.max(y[0] + y[1], 1e-3);
  return { training: (a![0] + b![0]) / total, perLayerBatch: 0 };
}

export const NETWORK_KINDS = Object.keys(RECIPES) as NetworkKind[];

/**
 * Measures `engine` on one kind of network here and records it in the cache folder; null when it has none of that
 * kind.
 */
export async function calibrate(
  engine: EngineDef,
  kind: NetworkKind,
  /** A cold start measured before (a second run in this process finds the engine loaded). */
  startup?: number,
): Promise<(Calibration & { file: string }) | null> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-calibrate-'));
  const recipe = RECIPES[kind];
  try {
    await makeData(path.join(dir, 'data'));
    const file = path.join(dir, 'calibration.tlr');
    fs.writeFileSync(file, recipe.text);
    const { plan } = compile(recipe.text, { file });
    if (!plan) throw new Error('the calibration recipe does not check');
    if (engine.unsupported(plan)) return null;
    const events = new Events();
    const times = timeline(events);
    const settings = await settle(engine, {});
    const r = await runOn(engine, { plan, recipeText: recipe.text, events, settings });
    if (r.status !== 'finished') throw new Error(`the calibration run ended ${r.status}`);
    const c = planCompute(plan);
    const perImage = [c.stages[0]!.perImage.frozen + c.stages[0]!.perImage.trained, c.stages[1]!.perImage.frozen];
    const filled = [1, 2].map((s) => times.fill.get(s) ?? { images: 0, seconds: 0 });
    const seconds = filled.reduce((t, f) => t + f.seconds, 0);
    if (!(seconds > 0)) throw new Error('the run reported no progress while it filled its caches');
    const forward = filled.reduce((t, f, i) => t + f.images * perImage[i]!, 0) / seconds;
    // A batch beyond its arithmetic: stage 1 trains a head on cached features, so its epochs are almost all that.
    const median = (s: number) => {
      const ep = [...(times.epochs.get(s) ?? [])].sort((a, b) => a - b);
      if (!ep.length) throw new Error(`the run reported no epoch of stage ${s}`);
      return ep[ep.length >> 1]!;
    };
    const [s1, s2, s3] = [c.stages[0]!, c.stages[1]!, c.stages[2]!];
    const perBatch = Math.max(0, median(1) - s1.perEpochForward / forward) / s1.batches;
    // Training: stages 2 (the top block: most of the arithmetic) and 3 (every layer: most of the
    // layers), less their validation passes and batch costs, give the rate and the cost of a layer.
    const y = [s2, s3].map((st, i) => median(i + 2) - st.perEpochForward / forward - st.batches * perBatch);
    const { training, perLayerBatch } = solveTraining([s2, s3], y as [number, number]);
    const cal: Calibration = {
      forward,
      training,
      perBatch,
      perLayerBatch,
      startup: startup ?? times.startup(),
      measured: new Date().toISOString(),
      how: `${recipe.how} at 96×96 on 96 generated images (${engine.name}${
        Object.keys(settings).length
          ? `, ${Object.entries(settings)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')}`
          : ''
      })`,
    };
    const wrong = implausible(cal, settings['device'] === 'cuda' ? 'cuda' : 'cpu');
    if (wrong) throw new Error(`${wrong}; nothing was recorded: run tlr doctor --calibrate again on an idle machine`);
    return { ...cal, file: writeCalibration(engine.name, kind, cal) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
