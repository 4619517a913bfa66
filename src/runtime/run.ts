import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from './tf.js';
import type { Plan } from '../plan/types.js';
import { assertPlan } from '../plan/validate.js';
import { backendLabel, chooseBackend, missingTrainingKernels } from './backend.js';
import { Events, type Evaluation, type EpochMetrics } from './events.js';
import { listSplits, describeItem, type Item } from './data/dataset.js';
import { loadZooModel } from './zoo/model.js';
import { joinNetwork, makeHead, setFrozen, trainsConvolutions, type Network } from './train/network.js';
import { FeatureSource, ImageSource, type BatchSource } from './train/sources.js';
import { evaluate, runStage } from './train/loop.js';
import { PrefixSource, splitFrozen } from './train/split.js';
import { featureKey, features, weightsDigest } from './train/features.js';
import { evaluation as evaluationOf } from './train/metrics.js';
import { saveModel, type ModelMeta } from './results/model-files.js';
import { writeFileAtomic } from './atomic.js';
import { TLR_VERSION } from '../version.js';
import { saveTargetProblem } from '../data/model-folder.js';
import { loadOptimizer, removeOptimizer, saveOptimizer } from './results/optimizer-state.js';
import { writeReportHtml } from './results/report-html.js';
import { cacheRoot } from './weights/locate.js';
import { assignWeights } from './weights/assign.js';
import { readTfjsModel } from './weights/tfjs-format.js';
import { compile, type Program } from './infer/program.js';
import { inferenceWorkers, modelForward, passWorkers, startEngine, WorkersError, type Engine } from './infer/engine.js';
import { TlrError } from '../errors.js';

// Executes a validated plan. Everything it has to say goes out as events; it never prints.

export { TLR_VERSION };

export class RunError extends TlrError {}

export interface RunOptions {
  readonly plan: Plan;
  readonly recipeText: string;
  readonly events: Events;
  readonly backend?: string;
  /** A run folder to continue (its plan.json and checkpoint are used). */
  readonly resume?: string;
  /** Polled after every batch: true stops the run cleanly. */
  readonly stopped?: () => boolean;
  readonly env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  readonly runDir: string;
  readonly status: 'finished' | 'interrupted';
  readonly evaluation: Evaluation | null;
}

interface State {
  /** Index of the stage under way, and epochs it has completed. */
  stage: number;
  epoch: number;
  best: { value: number; stage: number; epoch: number } | null;
  stageBest: { value: number; epoch: number } | null;
  sinceBest: number;
}

const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

/** A new run folder; `created` gets the topmost folder this made, so a failed run can remove all of it. */
function newRunDir(plan: Plan, created: string[]): string {
  const base = path.join(plan.output.runsDir, stamp(new Date()));
  let dir = base;
  for (let i = 2; fs.existsSync(dir); i++) dir = `${base}-${i}`;
  const top = fs.mkdirSync(dir, { recursive: true });
  created.push(top ?? dir, dir);
  return dir;
}

/** Throws when the plan's `save … to` target may not be replaced (see data/model-folder.ts). */
function assertSaveTarget(plan: Plan, tail = ''): void {
  if (!plan.save.to) return;
  const data = [plan.data.root, ...[plan.data.validation, plan.data.test].flatMap((s) => (s?.kind === 'data' ? [s.path] : []))];
  const problem = saveTargetProblem(plan.save.to, { data, recipeDir: path.dirname(plan.recipe.file) });
  if (problem) throw new RunError(`cannot save the model to ${plan.save.to}: ${problem}${tail}`);
}

export async function run(opts: RunOptions): Promise<RunResult> {
  const created: string[] = [];
  const engines: Engines = { engine: null };
  try {
    return await runPlan(opts, created, engines);
  } catch (e) {
    // A new run that failed before its first epoch leaves nothing behind.
    // `created` holds the run folder and the topmost folder made for it (runs/, runs/NAME/).
    const [top, dir] = created;
    if (top && dir && !fs.existsSync(path.join(dir, 'metrics.jsonl'))) fs.rmSync(top, { recursive: true, force: true });
    throw e;
  } finally {
    await engines.engine?.close();
  }
}

/** The run's inference engine, started on first use and closed when the run ends, and its program. */
interface Engines { engine: Engine | null; program?: Program }

async function runPlan(opts: RunOptions, created: string[], engines: Engines): Promise<RunResult> {
  const started = Date.now();
  const events = opts.events;
  const stopped = opts.stopped ?? (() => false);
  const env = opts.env ?? process.env;

  let plan = opts.plan;
  let runDir: string;
  let state: State = { stage: 0, epoch: 0, best: null, stageBest: null, sinceBest: 0 };
  const ckptDir = () => path.join(runDir, 'checkpoint');
  if (opts.resume) {
    runDir = path.resolve(opts.resume);
    const planFile = path.join(runDir, 'plan.json'), stateFile = path.join(runDir, 'checkpoint', 'state.json');
    if (!fs.existsSync(planFile)) throw new RunError(`${runDir} is not a tlr run folder: it has no plan.json`);
    plan = JSON.parse(fs.readFileSync(planFile, 'utf8'));
    assertPlan(plan);
    if (fs.existsSync(stateFile)) state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    if (fs.existsSync(path.join(runDir, 'report.json'))) throw new RunError(`${runDir} has already finished (its report.json exists)`);
  } else {
    runDir = newRunDir(plan, created);
    writeFileAtomic(path.join(runDir, 'recipe.tlr'), opts.recipeText);
    writeFileAtomic(path.join(runDir, 'plan.json'), JSON.stringify(plan, null, 2) + '\n');
  }

  assertSaveTarget(plan);
  const backendName = await chooseBackend(opts.backend);
  const backend = backendLabel(backendName);
  events.emit({ type: 'plan', plan, runDir, backend, resumed: !!opts.resume });

  // Data.
  const splits = listSplits(plan);
  events.emit({ type: 'data', counts: { train: splits.train.length, validation: splits.validation.length, test: splits.test.length } });
  const unreadable = { train: 0, validation: 0, test: 0 } as Record<'train' | 'validation' | 'test', number>;
  const onUnreadable = (split: 'train' | 'validation' | 'test', total: number) => (item: Item, reason: string) => {
    unreadable[split] += 1;
    events.emit({ type: 'warning', message: `skipped an unreadable image: ${reason}`, file: describeItem(item) });
    if (unreadable[split] > total * 0.01) {
      throw new RunError(`${unreadable[split]} of the ${total} ${split} images cannot be read (more than 1%): the data set is broken; fix or remove those files`);
    }
  };

  // Network.
  events.emit({ type: 'weights', phase: 'resolving' });
  const built = await loadZooModel(plan.model.name, {
    width: plan.model.width, inputSize: plan.model.inputSize, weights: plan.model.weights,
    lockDir: path.dirname(plan.recipe.file), env, seed: plan.seed,
    onProgress: (p) => events.emit({ type: 'weights', phase: 'downloading', url: p.url, received: p.received, total: p.total }),
  });
  events.emit({ type: 'weights', phase: 'ready', from: built.files?.from ?? 'none', sha256: built.files?.sha256 ?? '' });
  const net: Network = joinNetwork(built.model, makeHead(plan.model.featureSize, plan.head.layers, plan.seed));
  const meta: ModelMeta = {
    labels: plan.data.classes,
    preprocessing: { inputSize: plan.model.inputSize, mean: plan.model.preprocessing.mean, std: plan.model.preprocessing.std, description: plan.model.preprocessing.description },
    network: { name: plan.model.name, width: plan.model.width },
    output: plan.head.layers[plan.head.layers.length - 1]!.kind === 'dense' && (plan.head.layers[plan.head.layers.length - 1] as { activation: string }).activation === 'softmax' ? 'probabilities' : 'logits',
  };
  const probabilities = meta.output === 'probabilities';
  const classes = plan.data.classes.length;
  const loadInto = (dir: string) => assignWeights(net.full, readTfjsModel(path.join(dir, 'model.json')).weights, dir);
  if (opts.resume && fs.existsSync(path.join(ckptDir(), 'model', 'model.json'))) loadInto(path.join(ckptDir(), 'model'));

  const pre = { mean: plan.model.preprocessing.mean, std: plan.model.preprocessing.std };
  const keyParts = {
    tlr: TLR_VERSION, network: plan.model.name, width: plan.model.width, weightsSha256: built.files?.sha256 ?? `none:seed${plan.seed}`,
    featureLayer: plan.model.featureLayer, inputSize: plan.model.inputSize, mean: pre.mean, std: pre.std,
  };
  // Frozen-backbone passes (features, evaluation) run a compiled inference program, in worker
  // threads when the backend computes on one core and the pass is long enough to pay for them.
  const threads = (() => {
    try { return inferenceWorkers(backendName, env); } catch (e) { throw e instanceof WorkersError ? new RunError(e.message) : e; }
  })();
  const engineFor = async (program: Program, images: number, batch: number): Promise<Engine> => {
    const workers = passWorkers(threads, images, batch);
    if (engines.engine && (engines.engine.workers > 0 || !workers)) {
      if (engines.program !== program) await engines.engine.load(program);
    } else {
      await engines.engine?.close();
      engines.engine = null;
      engines.engine = await startEngine(program, workers, backendName);
    }
    engines.program = program;
    return engines.engine;
  };
  // Compiled once while the backbone's weights stay as they are (a stage that trains them resets it).
  let backbone: Program | null = null;
  const backboneProgram = () => (backbone ??= compile(built.graph, plan.model.featureLayer, net.backbone));
  const fullProgram = () => compile(built.graph, plan.model.featureLayer, net.backbone, { layers: plan.head.layers, model: net.head });
  const featureDir = path.join(cacheRoot(env), 'features');
  // `trained`: an earlier stage trained backbone layers, so the features depend on the weights as
  // they are now, not on the file they were loaded from.
  const cachedFeatures = async (split: 'train' | 'validation' | 'test', items: readonly Item[], batch: number, trained: boolean) => {
    const key = featureKey(trained ? { ...keyParts, weightsSha256: `trained:${weightsDigest(net.backbone)}` } : keyParts, items);
    const r = await features({
      dir: featureDir, key, items,
      backbone: () => engineFor(backboneProgram(), items.length, batch), inputSize: plan.model.inputSize, pre, batch,
      onUnreadable: onUnreadable(split, items.length),
      onProgress: (done, total, workers) => events.emit({ type: 'features', phase: 'progress', split, done, total, key, workers }),
    });
    events.emit({ type: 'features', phase: r.hit ? 'hit' : 'done', split, key, total: items.length, ...(r.hit ? {} : { workers: r.workers }) });
    return new FeatureSource(r.features.x, r.features.y, r.features.ids);
  };

  const classWeights = (): Float32Array => {
    const counts = new Array<number>(classes).fill(0);
    for (const it of splits.train) counts[it.label]! += 1;
    const total = counts.reduce((a, b) => a + b, 0);
    return Float32Array.from(counts, (c) => (c ? total / (classes * c) : 0));
  };
  const better = (a: number, b: number) => (plan.save.mode === 'max' ? a > b : a < b);
  const saveState = () => writeFileAtomic(path.join(ckptDir(), 'state.json'), JSON.stringify(state, null, 2));

  // Stages.
  const fastBackend = tf.getBackend();
  for (let s = state.stage; s < plan.stages.length; s++) {
    const stage = plan.stages[s]!;
    setFrozen(net, built.info, stage.frozen.layers);
    const cached = stage.featureCache.use;
    let stageBackend = tf.getBackend();
    if (!cached && trainsConvolutions(net)) {
      const missing = missingTrainingKernels();
      if (missing.length) {
        events.emit({ type: 'warning', message: `the ${stageBackend} backend has no ${missing.join(', ')} kernels, which training convolutions needs: stage ${s + 1} runs on the cpu backend (slower)` });
        await tf.setBackend('cpu');
        stageBackend = 'cpu';
      }
    }
    let train: BatchSource, validation: BatchSource, model: tf.LayersModel;
    if (cached) {
      await tf.setBackend(fastBackend);
      const trained = plan.stages.slice(0, s).some((st) => st.trainable.backboneParams > 0);
      train = await cachedFeatures('train', splits.train, Math.max(stage.batch, 32), trained);
      validation = await cachedFeatures('validation', splits.validation, Math.max(stage.batch, 32), trained);
      if (stageBackend !== fastBackend) await tf.setBackend(stageBackend);
      model = net.head;
    } else {
      if (stage.trainable.backboneParams > 0) backbone = null;
      const images = new ImageSource(splits.train, plan.model.inputSize, pre, plan.data.augment, onUnreadable('train', splits.train.length));
      // The frozen part runs ahead as an inference program; the loop trains the rest on its output.
      const split = splitFrozen(net, built.graph, built.info, stage.frozen.layers);
      train = split ? new PrefixSource(images, () => engineFor(split.prefix, splits.train.length, stage.batch)) : images;
      validation = new ImageSource(splits.validation, plan.model.inputSize, pre, [], onUnreadable('validation', splits.validation.length));
      model = split ? split.top : net.full;
    }
    events.emit({ type: 'stage-start', stage: s + 1, of: plan.stages.length, epochs: stage.epochs, trainable: stage.trainable.backboneParams + stage.trainable.headParams, cached, backend: tf.getBackend() });
    const onEpoch = async (epoch: number, m: EpochMetrics, lr: number, seconds: number, sinceBest: number, optimizer: tf.Optimizer): Promise<boolean> => {
      const value = m[plan.save.metric];
      const best = plan.save.which === 'last' || !state.best || better(value, state.best.value);
      if (best) {
        state.best = { value, stage: s, epoch };
        await saveModel(net.full, path.join(runDir, 'model'), meta);
      }
      if (!state.stageBest || better(value, state.stageBest.value)) {
        state.stageBest = { value, epoch };
        await saveModel(net.full, path.join(ckptDir(), 'stage-best'));
      }
      fs.appendFileSync(path.join(runDir, 'metrics.jsonl'), JSON.stringify({ stage: s + 1, epoch: epoch + 1, ...m, lr, seconds, best, time: new Date().toISOString() }) + '\n');
      state.epoch = epoch + 1;
      state.sinceBest = sinceBest;
      await saveModel(net.full, path.join(ckptDir(), 'model'));
      await saveOptimizer(optimizer, ckptDir());
      saveState();
      events.emit({ type: 'epoch', stage: s + 1, epoch: epoch + 1, epochs: stage.epochs, metrics: m, lr, seconds, best });
      events.emit({ type: 'checkpoint', stage: s + 1, epoch: epoch + 1, path: ckptDir(), best });
      return best;
    };
    let result;
    try {
      result = await runStage({
        stageIndex: s, stage, model, train, classes, probabilities, seed: plan.seed, events,
        validate: async () => evaluate(cached ? modelForward(net.head) : await engineFor(fullProgram(), validation.size, stage.batch), validation, classes, probabilities, stage.batch),
        classWeights: stage.classWeights === 'auto' ? classWeights() : null,
        startEpoch: state.epoch, stopped, onEpoch, sinceBest: state.sinceBest,
        restoreOptimizer: async (optimizer) => {
          if (!(await loadOptimizer(optimizer, ckptDir()))) events.emit({ type: 'warning', message: `the checkpoint holds no optimizer state: stage ${s + 1} continues with the ${stage.optimizer} optimizer's state reset` });
        },
      });
    } finally {
      if (train instanceof FeatureSource) train.x.dispose();
      // The trained part shares the network's layers: disposing it only drops its hold on them.
      if (model !== net.full && model !== net.head) model.dispose();
      if (validation instanceof FeatureSource) validation.x.dispose();
    }
    if (result.interrupted) {
      if (!fs.existsSync(path.join(ckptDir(), 'model'))) {
        await saveModel(net.full, path.join(ckptDir(), 'model'));
        saveState();
      }
      events.emit({ type: 'interrupted', runDir, stage: s + 1, epoch: state.epoch });
      net.full.dispose();
      return { runDir, status: 'interrupted', evaluation: null };
    }
    // The next stage starts from this stage's best weights; the checkpoint says so at once, so a
    // run interrupted from here on resumes at the next stage.
    if (fs.existsSync(path.join(ckptDir(), 'stage-best', 'model.json'))) loadInto(path.join(ckptDir(), 'stage-best'));
    if (tf.getBackend() !== fastBackend) await tf.setBackend(fastBackend);
    if (s + 1 < plan.stages.length) {
      state = { ...state, stage: s + 1, epoch: 0, stageBest: null, sinceBest: 0 };
      await saveModel(net.full, path.join(ckptDir(), 'model'));
      fs.rmSync(path.join(ckptDir(), 'stage-best'), { recursive: true, force: true });
      removeOptimizer(ckptDir());
      saveState();
    }
  }

  // Evaluation of the best model, on the test split (or validation when there is none).
  loadInto(path.join(runDir, 'model'));
  const split = splits.test.length ? 'test' : 'validation';
  const items = split === 'test' ? splits.test : splits.validation;
  const allCached = plan.stages.every((st) => st.featureCache.use);
  const batch = Math.max(plan.stages[0]!.batch, 32);
  setFrozen(net, built.info, built.info.layers.length);
  const src: BatchSource = allCached ? await cachedFeatures(split, items, batch, false) : new ImageSource(items, plan.model.inputSize, pre, [], onUnreadable(split, items.length));
  const r = await evaluate(allCached ? modelForward(net.head) : await engineFor(fullProgram(), items.length, batch), src, classes, probabilities, batch);
  if (src instanceof FeatureSource) src.x.dispose();
  const ev = evaluationOf(split, plan.data.classes, r.y, r.pred, r.loss);
  events.emit({ type: 'evaluation', evaluation: ev });

  if (plan.save.to) {
    // Checked when the recipe was compiled and when the run started, and again now: the folder may have changed.
    assertSaveTarget(plan, `; the run's own copy is in ${path.join(runDir, 'model')}`);
    await saveModel(net.full, plan.save.to, meta);
  }
  const seconds = (Date.now() - started) / 1000;
  const best = state.best!;
  // The most confidently wrong predictions, for the report's grid of images.
  const wrong = Array.from(r.ids, (id, i) => ({ id, i })).filter(({ i }) => r.pred[i] !== r.y[i])
    .sort((a, b) => r.confidence[b.i]! - r.confidence[a.i]!).slice(0, 24)
    .map(({ id, i }) => {
      const it = items[id]!;
      return {
        image: it.kind === 'file' ? { kind: 'file', path: it.path } : { kind: 'idx', file: it.images.file, index: it.index },
        label: plan.data.classes[r.y[i]!], predicted: plan.data.classes[r.pred[i]!], confidence: r.confidence[i],
      };
    });
  const epochs = fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { seconds: number });
  const trainSeconds = epochs.reduce((a, e) => a + e.seconds, 0);
  writeFileAtomic(path.join(runDir, 'report.json'), JSON.stringify({
    recipe: plan.recipe.name, best: { metric: plan.save.metric, value: best.value, stage: best.stage + 1, epoch: best.epoch + 1 },
    evaluation: ev, misclassified: wrong, unreadable, seconds, backend,
    training: { epochs: epochs.length, seconds: trainSeconds, images: splits.train.length, imagesPerSecond: trainSeconds ? (splits.train.length * epochs.length) / trainSeconds : null },
  }, null, 2) + '\n');
  writeFileAtomic(path.join(runDir, 'environment.json'), JSON.stringify({
    tlr: TLR_VERSION, node: process.version, tfjs: tf.version.tfjs, backend, platform: `${os.platform()} ${os.arch()}`, cpus: os.cpus().length,
    seed: plan.seed, weights: built.files ? { from: built.files.from, entry: built.files.entry, sha256: built.files.sha256 } : null,
  }, null, 2) + '\n');
  fs.rmSync(ckptDir(), { recursive: true, force: true });
  await writeReportHtml(runDir);
  events.emit({ type: 'finished', runDir, modelDir: path.join(runDir, 'model'), best: { metric: plan.save.metric, value: best.value, stage: best.stage + 1, epoch: best.epoch + 1 }, evaluation: ev, seconds });
  net.full.dispose();
  return { runDir, status: 'finished', evaluation: ev };
}
