import { RESIZER } from '../../../runtime/images/resize.js';
import { onFirstNearJpeg } from '../../../runtime/images/image.js';
import * as path from 'node:path';
import { taskOf, type Plan } from '../../../contracts/plan.js';
import type { Events } from '../../../runtime/events.js';
import { listSplits, describeItem, type Item, type Splits } from '../../../runtime/images/dataset.js';
import { loadZooModel, type Built } from '../tf-layers/model.js';
import { joinNetwork, makeHead, type Network } from '../train/network.js';
import { FeatureSource, FileFeatureSource, type BatchSource } from '../train/batch-sources.js';
import { featureKey, features, weightsDigest } from '../train/features.js';
import type { ModelMeta } from '../model-files.js';
import { cacheRoot } from '../../../runtime/weights/locate.js';
import { assignWeights } from '../assign-weights.js';
import { readTfjsModel } from '../../../runtime/weights/tfjs-format.js';
import { compile, type Program } from '../infer/program.js';
import { useConvEngine } from '../kernels/ort-kernels.js';
import {
  chooseInference,
  inferenceWorkers,
  passWorkers,
  startPassEngine,
  type Engine,
  type InferenceChoice,
  type PassSettings,
} from '../infer/engine.js';
import { OrtEngine, ortThreads } from '../onnx/runtime.js';
import { calibrationItems, int8KeyPart, int8Network } from './int8-features.js';
import type { BackendName } from '../backend.js';
import { TLR_VERSION } from '../../../version.js';
import { RunError } from '../../../runtime/run-folder.js';

// What every step of a run shares once the data is listed and the network loaded: the splits, the
// network and its metadata, the inference engine, and the feature cache.

export type SplitName = 'train' | 'validation' | 'test';

/** Counts unreadable images per split and stops the run past 1% of one. */
export class Unreadable {
  readonly counts: Record<SplitName, number> = { train: 0, validation: 0, test: 0 };
  constructor(private readonly events: Events) {}
  /** The callback a source calls for an image it cannot read. */
  of(split: SplitName, total: number) {
    return (item: Item, reason: string): void => {
      this.counts[split] += 1;
      this.events.emit({
        type: 'warning',
        message: `skipped an unreadable image: ${reason}`,
        file: describeItem(item),
      });
      if (this.counts[split] > total * 0.01) {
        throw new RunError(
          `${this.counts[split]} of the ${total} ${split} images cannot be read (more than 1%): the data set is ` +
            `broken; fix or remove those files`,
        );
      }
    };
  }
}

/**
 * The run's inference engine: ONNX Runtime when it loads (else TensorFlow.js programs, in worker
 * threads where that pays), started on first use, reused while it fits, closed when the run ends.
 */
export class Engines {
  private engine: Engine | null = null;
  private program: Program | null = null;
  /** The int8 network the engine runs (`features int8`), or null. */
  private model: Uint8Array | null = null;
  constructor(readonly settings: PassSettings) {}

  get inference(): InferenceChoice {
    return this.settings.inference;
  }

  /** What ran the last pass. */
  get label(): string | undefined {
    return this.engine?.label;
  }

  /**
   * An engine loaded with `program`: the one the run has when it fits the pass (ONNX Runtime
   * always does; TensorFlow.js does unless the pass now repays workers it lacks), else a new one.
   */
  async for(program: Program, images: number, batch: number): Promise<Engine> {
    const fits =
      this.engine &&
      !this.model &&
      (this.inference.engine === 'onnx' ||
        this.engine.workers > 0 ||
        !passWorkers(this.settings.workers, images, batch));
    if (fits) {
      if (this.program !== program) await this.engine!.load(program);
    } else {
      await this.close();
      this.engine = await startPassEngine(program, this.settings, images, batch);
    }
    this.program = program;
    return this.engine!;
  }

  /** An ONNX Runtime engine on an int8 network (`features int8`): the one running it, or a new one. */
  async int8(model: Uint8Array): Promise<Engine> {
    if (this.model !== model) {
      await this.close();
      this.engine = await OrtEngine.start(model, this.settings.ortThreads, 'int8');
      this.model = model;
    }
    return this.engine!;
  }

  async close(): Promise<void> {
    await this.engine?.close();
    this.engine = null;
    this.program = null;
    this.model = null;
  }
}

/** A split stage's frozen part: its program, and the node (and shape) where it ends. */
export interface Prefix {
  readonly program: Program;
  readonly layer: string;
  readonly shape: readonly number[];
}

export interface RunContext {
  readonly plan: Plan;
  readonly events: Events;
  readonly env: NodeJS.ProcessEnv;
  readonly stopped: () => boolean;
  readonly backend: BackendName;
  readonly splits: Splits;
  readonly unreadable: Unreadable;
  readonly built: Built;
  readonly net: Network;
  /** The model folder's metadata; a multi-label run's thresholds join it when training ends. */
  meta: ModelMeta;
  readonly engines: Engines;
  /** Stops the run's watch for JPEGs decoded near their pixels (NEAR_JPEGS), when it ends. */
  readonly unwatch: () => void;
  readonly pre: { readonly mean: readonly number[]; readonly std: readonly number[] };
  /** The backbone's program, compiled once while its weights stay as they are. */
  backboneProgram(): Program;
  /** Forgets the backbone's program: a stage is about to train the backbone. */
  resetBackbone(): void;
  /** Backbone and head as one program, with the weights as they are now. */
  fullProgram(): Program;
  /**
   * A split's backbone features, from the cache or computed; `trained`: earlier stages trained the
   * backbone. With `prefix`, the output of a split stage's frozen part instead (feature maps).
   */
  cachedFeatures(
    split: SplitName,
    items: readonly Item[],
    batch: number,
    trained: boolean,
    prefix?: Prefix,
  ): Promise<BatchSource>;
  /** Loads the weights a saved model folder holds into the network. */
  loadInto(dir: string): void;
}

/** The saved model's metadata, from the plan. */
export function modelMeta(plan: Plan): ModelMeta {
  const last = plan.head.layers[plan.head.layers.length - 1]!,
    multi = taskOf(plan) === 'multi-label';
  return {
    labels: plan.data.classes,
    preprocessing: {
      inputSize: plan.model.inputSize,
      mean: plan.model.preprocessing.mean,
      std: plan.model.preprocessing.std,
      description: plan.model.preprocessing.description,
      resize: RESIZER,
    },
    network: { name: plan.model.name, width: plan.model.width },
    // A head ending in its task's activation (softmax, or sigmoid per label) outputs probabilities.
    output: last.kind === 'dense' && last.activation === (multi ? 'sigmoid' : 'softmax') ? 'probabilities' : 'logits',
    ...(multi ? { task: 'multi-label' as const } : {}),
  };
}

/** What a run says the first time it decodes a large JPEG without libturbojpeg. */
export const NEAR_JPEGS =
  'a JPEG at least twice the input size was decoded whole by sharp and averaged down, since libturbojpeg is not ' +
  "loaded: such images are a few levels from the torch engine's pixels (decoded at a reduced size by libjpeg) and " +
  'are not cached; install libturbojpeg0 (Debian, Ubuntu) or jpeg-turbo (Homebrew), or unset TLR_TURBOJPEG=0';

/** Lists the data and loads the network (weights found, downloaded or made), emitting `data` and `weights`. */
export async function prepareRun(
  plan: Plan,
  opts: { events: Events; env: NodeJS.ProcessEnv; stopped: () => boolean; backend: BackendName },
): Promise<RunContext> {
  const { events, env } = opts;
  const inference = chooseInference(env);
  if (plan.features && inference.engine !== 'onnx')
    throw new RunError(
      `\`features ${plan.features.precision}\` runs on ONNX Runtime's int8 kernels, which this run does not use ` +
        `(${inference.why}): install onnxruntime-node or unset TLR_INFERENCE, or remove the line`,
    );
  const splits = listSplits(plan);
  events.emit({
    type: 'data',
    counts: { train: splits.train.length, validation: splits.validation.length, test: splits.test.length },
  });
  events.emit({ type: 'weights', phase: 'resolving' });
  const built = await loadZooModel(plan.model.name, {
    width: plan.model.width,
    inputSize: plan.model.inputSize,
    weights: plan.model.weights,
    lockDir: path.dirname(plan.recipe.file),
    env,
    seed: plan.seed,
    onProgress: (p) =>
      events.emit({ type: 'weights', phase: 'downloading', url: p.url, received: p.received, total: p.total }),
  });
  events.emit({
    type: 'weights',
    phase: 'ready',
    from: built.files?.from ?? 'none',
    sha256: built.files?.sha256 ?? '',
  });
  const net = joinNetwork(built.model, makeHead(plan.model.featureSize, plan.head.layers, plan.seed));
  const threads = inferenceWorkers(opts.backend, env);
  // Where this run's convolutions go (a bad TLR_CONV stops it here, as a usage error).
  const convs = useConvEngine(env);
  if (convs && opts.backend === 'wasm' && inference.engine === 'onnx')
    events.emit({ type: 'warning', message: `convolutions run in wasm, several times slower: ${convs}` });
  if (inference.why && !inference.forced)
    events.emit({
      type: 'warning',
      message:
        `ONNX Runtime is not used (${inference.why}): passes that only run the network use ` +
        `TensorFlow.js, several times slower on CPU`,
    });
  return contextOf(plan, {
    ...opts,
    splits,
    built,
    net,
    engines: new Engines({ inference, workers: threads, backend: opts.backend, ortThreads: ortThreads(env) }),
    unwatch: onFirstNearJpeg(() => events.emit({ type: 'warning', message: NEAR_JPEGS })),
  });
}

/** What the backbone's cached features depend on besides the images: the network, its weights, the pixels. */
function featureKeyParts(plan: Plan, built: Built) {
  const m = plan.model;
  return {
    tlr: TLR_VERSION,
    network: m.name,
    width: m.width,
    weightsSha256: built.files?.sha256 ?? `none:seed${plan.seed}`,
    featureLayer: m.featureLayer,
    inputSize: m.inputSize,
    mean: m.preprocessing.mean,
    std: m.preprocessing.std,
    resize: RESIZER,
  };
}

function contextOf(
  plan: Plan,
  parts: Pick<
    RunContext,
    'events' | 'env' | 'stopped' | 'backend' | 'splits' | 'built' | 'net' | 'engines' | 'unwatch'
  >,
): RunContext {
  const { built, net } = parts;
  const pre = { mean: plan.model.preprocessing.mean, std: plan.model.preprocessing.std };
  const keyParts = featureKeyParts(plan, built);
  const featureDir = path.join(cacheRoot(parts.env), 'features');
  let backbone: Program | null = null;
  const int8 = plan.features ? int8Pass(plan.features, plan, parts, pre) : null;
  const ctx: RunContext = {
    ...parts,
    plan,
    pre,
    meta: modelMeta(plan),
    unreadable: new Unreadable(parts.events),
    backboneProgram: () => (backbone ??= compile(built.graph, plan.model.featureLayer, net.backbone)),
    resetBackbone: () => {
      backbone = null;
    },
    fullProgram: () =>
      compile(built.graph, plan.model.featureLayer, net.backbone, { layers: plan.head.layers, model: net.head }),
    loadInto: (dir) => {
      assignWeights(net.full, readTfjsModel(path.join(dir, 'model.json')).weights, dir);
    },
    cachedFeatures: async (split, items, batch, trained, prefix) => {
      // `trained`: the features depend on the weights as they are now, not on the file they were loaded from.
      const parts0 = {
        ...keyParts,
        ...(prefix ? { featureLayer: prefix.layer } : {}),
        ...(trained ? { weightsSha256: `trained:${weightsDigest(net.backbone)}` } : {}),
        ...(int8 ? int8.key() : {}),
      };
      const key = featureKey(parts0, items);
      const program = () => prefix?.program ?? ctx.backboneProgram();
      const r = await features({
        dir: featureDir,
        key,
        items,
        backbone: async () =>
          int8
            ? ctx.engines.int8(await int8.network(program(), split, key))
            : ctx.engines.for(program(), items.length, batch),
        inputSize: plan.model.inputSize,
        pre,
        batch,
        onUnreadable: ctx.unreadable.of(split, items.length),
        onProgress: (done, total, workers) =>
          parts.events.emit({ type: 'features', phase: 'progress', split, done, total, key, workers }),
        onBadEntry: (problem) =>
          parts.events.emit({ type: 'warning', message: `a feature cache entry is damaged: ${problem}` }),
        onDisk: !!prefix,
      });
      parts.events.emit({
        type: 'features',
        phase: r.hit ? 'hit' : 'done',
        split,
        key,
        total: items.length,
        ...(prefix ? { through: prefix.layer } : {}),
        ...(r.hit ? {} : { workers: r.workers, engine: ctx.engines.label }),
      });
      const f = r.features;
      return prefix
        ? new FileFeatureSource(f.file, f.dim, f.y, f.ids, prefix.shape)
        : new FeatureSource(f.x!, f.y, f.ids);
    },
  };
  return ctx;
}

/**
 * `features int8`: each program's int8 network, calibrated once a run on the plan's training images, and what it adds
 * to the cache key.
 */
function int8Pass(
  f: NonNullable<Plan['features']>,
  plan: Plan,
  parts: Pick<RunContext, 'events' | 'splits' | 'engines'>,
  pre: RunContext['pre'],
) {
  const items = calibrationItems(f, parts.splits.train);
  let key: ReturnType<typeof int8KeyPart> | null = null;
  const networks = new Map<Program, Promise<Uint8Array>>();
  return {
    key: () => (key ??= int8KeyPart(f, items)),
    network: (program: Program, split: SplitName, cacheKey: string): Promise<Uint8Array> => {
      let made = networks.get(program);
      if (!made) {
        parts.events.emit({ type: 'features', phase: 'computing', split, key: cacheKey, calibrating: items.length });
        made = int8Network(program, items, {
          inputSize: plan.model.inputSize,
          pre,
          threads: parts.engines.settings.ortThreads,
        });
        networks.set(program, made);
      }
      return made;
    },
  };
}
