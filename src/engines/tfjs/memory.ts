import { createRequire } from 'node:module';
import type { Plan, PlanStage } from '../../contracts/plan.js';
import { describe } from '../../zoo/catalog.js';

// How much memory a training step takes on TensorFlow.js' wasm backend, whose tensors all live in
// one 32-bit WebAssembly heap that cannot grow past 4 GiB: a step past it aborts the process
// ("Aborted()", "memory access out of bounds"). A stage that trains backbone layers runs its batch
// as micro-batches small enough to fit, adding their gradients into one update (train/loop.ts);
// a stage that cannot fit even one image a micro-batch is refused before it starts, naming the
// torch engine. Pure: `tlr plan` asks it without loading TensorFlow.js.
//
// The factors were measured with tf.profile's peakBytes on a training step (bench/training-memory.ts
// prints them again): the tape keeps about 7x the layers' output sizes per image (6.6x Inception v3,
// 6.7x MobileNet V2, 7.0x DenseNet-121 and ResNet-18, 7.4x MobileNet V1, 8.0x ResNet-50), and the
// gradients with their temporaries about 3.5x the trained weights (VGG-16's and AlexNet's
// fully-connected layers).

/** wasm32's ceiling. */
export const WASM_HEAP = 4 * 2 ** 30;
/** What a step may take of it: the rest is the allocator's fragmentation, the batch itself and the data pipeline. */
export const STEP_BUDGET = 3 * 2 ** 30;
const PER_OUTPUT = 8;
const PER_TRAINED_WEIGHT = 3.5;
/** The optimizer updates one variable at a time (train/adam.ts): about five temporaries of the largest one's size. */
const LARGEST_UPDATE = 5;
/** Adam's two moments; SGD with momentum one. */
const OPTIMIZER_SLOTS: Record<string, number> = { adam: 2, adamw: 2, sgd: 1, rmsprop: 2 };

export interface StageMemory {
  /** Bytes a step holds whatever the batch: the weights, their gradients and the optimizer's state. */
  readonly fixed: number;
  /** Bytes each image of a micro-batch adds. */
  readonly perImage: number;
  /** Bytes the stage's whole batch needs in one step. */
  readonly batchBytes: number;
  /** The largest micro-batch that fits STEP_BUDGET (the batch itself when it fits); 0: not even one image. */
  readonly micro: number;
}

/**
 * Float32 values of every layer's output for one image (what the gradient tape keeps), and the largest trained layer's
 * weights.
 */
function sizes(plan: Plan, stage: PlanStage): { outputs: number; largest: number } {
  const info = describe(plan.model.name, plan.model.width, plan.model.inputSize);
  const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  return {
    outputs: info.layers.reduce((t, l) => t + size(l.shape), size([info.inputSize, info.inputSize, 3])),
    largest: Math.max(stage.trainable.headParams, ...info.layers.slice(stage.frozen.layers).map((l) => l.params)),
  };
}

/** The memory of stage `s`'s training step on wasm; null when it trains no backbone layer (a head on features). */
export function stageMemory(plan: Plan, stage: PlanStage): StageMemory | null {
  if (stage.trainable.backboneParams === 0) return null;
  const trained = stage.trainable.backboneParams + stage.trainable.headParams;
  const all = stage.frozen.params + trained;
  const slots = OPTIMIZER_SLOTS[stage.optimizer] ?? 2;
  const { outputs, largest } = sizes(plan, stage);
  const fixed = 4 * all + 4 * trained * (PER_TRAINED_WEIGHT + slots) + 4 * LARGEST_UPDATE * largest;
  const perImage = 4 * PER_OUTPUT * outputs;
  const fit = Math.floor((STEP_BUDGET - fixed) / perImage);
  return {
    fixed,
    perImage,
    batchBytes: fixed + perImage * stage.batch,
    micro: Math.max(0, Math.min(stage.batch, fit)),
  };
}

const gb = (b: number) => `${(b / 2 ** 30).toFixed(1)} GB`;

/** Whether TensorFlow.js' native backend (tfjs-node), which has no such ceiling, is installed. */
function nativeBackend(): boolean {
  const require = createRequire(import.meta.url);
  for (const p of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      require.resolve(p);
      return true;
    } catch {
      // not installed
    }
  }
  return false;
}

/** Why the tfjs engine cannot train `plan` here (a stage past the wasm heap, and no native backend), or null. */
export function memoryUnsupported(plan: Plan): string | null {
  for (const [i, stage] of plan.stages.entries()) {
    const m = stageMemory(plan, stage);
    if (!m || m.micro > 0 || nativeBackend()) continue;
    return (
      `stage ${i + 1} trains ${stage.trainable.backboneParams.toLocaleString('en-US')} backbone parameters of ` +
      `${plan.model.name}: its weights, gradients and ${stage.optimizer} state take about ${gb(m.fixed)}, and each ` +
      `image about ${(m.perImage / 2 ** 20).toFixed(0)} MB more, past the ${gb(STEP_BUDGET)} a step may use of ` +
      `wasm's ${gb(WASM_HEAP)} heap. Run it with --engine torch, or freeze more of the network`
    );
  }
  return null;
}

/** How the tfjs engine runs the plan's batches, when it splits them: one line per such stage. */
export function memoryNotes(plan: Plan): string[] {
  return plan.stages.flatMap((stage, i) => {
    const m = stageMemory(plan, stage);
    if (!m || m.micro === 0 || m.micro >= stage.batch) return [];
    const k = microBatches(stage.batch, m.micro);
    return [
      `stage ${i + 1}: a step of batch ${stage.batch} needs about ${gb(m.batchBytes)}; on wasm it runs as ${k} ` +
        `micro-batches of ${Math.ceil(stage.batch / k)}, one update (BatchNorm statistics per micro-batch)`,
    ];
  });
}

/**
 * The micro-batch a stage trains with on `backend`, when its batch would not fit wasm's heap in one step; undefined on
 * other backends, and where the batch fits. A stage that cannot fit at all was refused before the run started.
 */
export function microBatchOf(plan: Plan, stage: PlanStage, backend: string): number | undefined {
  if (backend !== 'wasm') return undefined;
  const m = stageMemory(plan, stage);
  return m && m.micro > 0 && m.micro < stage.batch ? m.micro : undefined;
}

/** How many micro-batches of at most `micro` a batch of `n` takes. */
export const microBatches = (n: number, micro: number): number => Math.ceil(n / Math.max(1, micro));
