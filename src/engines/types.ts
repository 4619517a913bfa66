import type { Plan } from '../contracts/plan.js';
import type { Evaluation, Events } from '../runtime/events.js';
import type { Contracts } from '../contracts/read.js';

// The contract between tlr's commands and its engines. The plan is what an engine reads; the run
// folder and the events (schema/) are what it writes. Everything else an engine offers, it
// declares here: its flags, what it cannot run, its doctor section, how its run folders are
// recognised, what it exports, and the optional services (model folders, the learning-rate
// finder). Commands ask the table (./index.ts) and never import an engine's files.

/** A flag an engine adds to `tlr run` (and `tlr watch`), by its long name. */
export interface EngineFlag {
  readonly type: 'string' | 'boolean';
  /** What the value stands for in help (`N`, `cpu|cuda`); empty for a boolean. */
  readonly value: string;
  readonly help: string;
}

/** Flag values as the command line gave them, by long name (undefined: not given). */
export type FlagValues = Readonly<Record<string, string | boolean | undefined>>;

/** An engine's settings, settled from its flags: what a run folder records and a resume reuses. */
export type EngineSettings = Readonly<Record<string, string | number | boolean>>;

export interface RunRequest {
  /** The plan to run; absent when resuming (the run folder's plan.json is used). */
  readonly plan?: Plan;
  readonly recipeText: string;
  readonly events: Events;
  /** A run folder to continue. */
  readonly resume?: string;
  /** Polled after every batch: true stops the run cleanly. */
  readonly stopped?: () => boolean;
  readonly env?: NodeJS.ProcessEnv;
  /** This engine's settings (settle() made them from its flags). */
  readonly settings: EngineSettings;
  /** Model folders: what a run does after training (export onnx) goes through them. */
  readonly models: () => Promise<ModelService>;
}

export interface RunResult {
  readonly runDir: string;
  readonly status: 'finished' | 'interrupted';
  readonly evaluation: Evaluation | null;
}

/** A model folder opened for predict, eval or export. */
export interface OpenModel {
  readonly dir: string;
  /** Where it computes, for messages (`wasm`, `cpu`). */
  readonly backend: string;
  dispose(): void;
}

export interface Prediction {
  readonly image: string;
  /** The most probable labels, most probable first (multi-label: each label's own sigmoid probability). */
  readonly top: readonly { readonly label: string; readonly probability: number }[];
  /** Multi-label: every label whose probability reaches its threshold (preprocessing.json), most probable first. */
  readonly labels?: readonly { readonly label: string; readonly probability: number; readonly threshold: number }[];
}

export interface DataEvaluation {
  readonly data: string;
  /** The part of the data set evaluated: its test part, else its validation part, else all of it. */
  readonly part: 'train' | 'validation' | 'test';
  readonly unreadable: number;
  /** What ran the network. */
  readonly engine: string;
  /**
   * How many of the images the model was trained on (compared by content); null when its run folder is not beside it.
   */
  readonly overlap: number | null;
  readonly evaluation: Evaluation;
}

/**
 * A model kept ready for many requests (`tlr serve`): batches of preprocessed images in, probabilities out, on the
 * engine predict uses.
 */
export interface Servable {
  readonly labels: readonly string[];
  readonly inputSize: number;
  /** `resize`: the resizer the model was trained with (runtime/images/resize.ts), which its images are decoded for. */
  readonly preprocessing: {
    readonly mean: readonly number[];
    readonly std: readonly number[];
    readonly resize?: string | undefined;
  };
  readonly task: 'single-label' | 'multi-label';
  /** Multi-label: each label's threshold (0.5 each when the folder has none). */
  readonly thresholds: readonly number[] | null;
  /** What runs the network, for messages. */
  readonly engine: string;
  /** `n` images (NHWC float32, preprocessed) to their probabilities (n × labels: softmax, or a sigmoid per label). */
  run(x: Float32Array, n: number): Promise<Float32Array>;
  close(): Promise<void>;
}

/** What `tlr export --int8` asks: the gate in points, calibration images, and why to write past the gate. */
export interface Int8Request {
  readonly gate: number;
  readonly calibration: number;
  /** Why to write a model the gate refuses (--force), or null. */
  readonly force: string | null;
  readonly softmax: boolean;
  readonly onProgress?: (message: string) => void;
}

/** An int8 model measured against its float network; nothing is written until the command decides. */
export interface Int8Outcome {
  readonly record: Contracts['int8'];
  /** Why the gate refuses it, or null. */
  readonly refusal: string | null;
  /** The network as the model folder keeps it (int8.onnx), and as exported. */
  readonly model: Uint8Array;
  readonly exported: Uint8Array;
}

/** Model folders (a tfjs or torch run's model/): open, predict, evaluate, export, quantize, serve. */
export interface ModelService {
  /**
   * Opens a model folder; a TlrError names what is missing or wrong. With `int8`, passes run its int8 network
   * (int8.onnx, which must be current).
   */
  open(dir: string, backend?: string, opts?: { readonly int8?: boolean }): Promise<OpenModel>;
  /** Top-k labels of each image; an unreadable image is reported and skipped. */
  predict(
    m: OpenModel,
    images: readonly string[],
    k: number,
    onError: (image: string, message: string) => void,
  ): Promise<Prediction[]>;
  evaluate(
    m: OpenModel,
    data: string,
    opts: { onUnreadable?: (file: string, reason: string) => void },
  ): Promise<DataEvaluation>;
  /** The model as ONNX bytes (labels and preprocessing in its metadata). */
  exportOnnx(m: OpenModel, opts: { softmax?: boolean }): Uint8Array;
  /** The model quantized to int8 and measured (tlr export --int8). */
  quantize(m: OpenModel, req: Int8Request): Promise<Int8Outcome>;
  /** The model as a TF.js layers folder at `out`, written atomically. */
  exportTfjs(m: OpenModel, out: string, opts: { softmax?: boolean }): Promise<void>;
  /** The model ready to serve batches of at most `maxBatch` images (larger ones run in parts). */
  serve(m: OpenModel, opts: { maxBatch: number }): Promise<Servable>;
  /** An ONNX file `tlr export` wrote, ready to serve (its labels and preprocessing from its metadata). */
  serveOnnx(file: string): Promise<Servable>;
}

/** The learning-rate range test on one stage of a plan. */
export interface LrCurve {
  readonly lrs: readonly number[];
  readonly losses: readonly number[];
  /** The loss smoothed by a centred moving average of 9 steps (up to the first non-finite loss). */
  readonly smoothed: readonly number[];
  /** The rate suggested, and by which rule. */
  readonly suggestion: number;
  readonly rule: string;
  /** Where the smoothed loss is lowest, and where it falls fastest (per decade of rate). */
  readonly minimum: number;
  readonly steepest: number;
  /** The sweep stopped before its last step because the loss exploded. */
  readonly diverged: boolean;
}

export interface LrFindRequest {
  readonly plan: Plan;
  /** 0-based stage. */
  readonly stage: number;
  readonly events: Events;
  readonly steps: number;
  readonly onStep?: (i: number, n: number) => void;
}

/** A recipe written out for somewhere else to run it (`tlr export RECIPE --torchrun DIR`). */
export interface RecipeExport {
  /** The `tlr export` flag that asks for it; its value is the output folder. */
  readonly flag: string;
  readonly help: string;
  /** The file inside every folder it writes: an existing folder is reused only when it holds one. */
  readonly marker: string;
  /** Flags that go with it. */
  readonly flags: Readonly<Record<string, EngineFlag>>;
  /** Writes it; returns warnings. A TlrError says what is wrong with the recipe or the folder. */
  write(plan: Plan, recipeText: string, out: string, flags: FlagValues): Promise<string[]>;
  /** The line printed after it was written. */
  written(out: string, flags: FlagValues): string;
  /**
   * For a sweep (one folder per variant, written with `write`, below `out`): a script that runs them all at once on a
   * cluster (a Slurm array), as [file name, text]; the line printed names it.
   */
  sweepScript?(
    variants: readonly { readonly id: string; readonly name: string }[],
    flags: FlagValues,
  ): [string, string];
}

/** One engine: a row of the table. Its module is light; heavy code loads on use. */
export interface EngineDef {
  readonly name: string;
  /** One line for help and doctor. */
  readonly summary: string;
  /** Flags it adds to `tlr run` and `tlr watch`. */
  readonly flags: Readonly<Record<string, EngineFlag>>;
  /** Its settings from its flags (over those a resumed run recorded); a UsageError names a bad flag. */
  settle(flags: FlagValues, recorded?: EngineSettings): Promise<EngineSettings>;
  /** Why it cannot run `plan` (a sentence that says what to do instead), or null. Cheap: `tlr plan` asks. */
  unsupported(plan: Plan): string | null;
  /** How the engine will run a plan it can run, where that is worth knowing beforehand (micro-batches, say). */
  notes?(plan: Plan): readonly string[];
  /** Whether it can run here: null, or why not and what to install. Cheap: `tlr plan` asks. */
  missing(): string | null;
  /** How to run a recipe on it, for `tlr plan`. */
  readonly usage: string;
  /**
   * Whether each run pays the engine's start (`startup` in its calibration): a new process per run, as the torch
   * engine's launcher makes for every variant of a sweep. False when a sweep's variants run in the process that
   * loaded it (tfjs).
   */
  readonly startsPerRun: boolean;
  /** Its section of `tlr doctor`, and its versions for the last line. */
  doctor(): Promise<{ readonly lines: readonly string[]; readonly versions: string }>;
  /** Whether a run folder that records no engine (older runs) is one of its own. */
  ownsRun(dir: string): boolean;
  run(req: RunRequest): Promise<RunResult>;
  /** Recipes written out for elsewhere. */
  readonly exports: readonly RecipeExport[];
  /** Model folders, when this engine opens them. */
  readonly models?: () => Promise<ModelService>;
  /** The learning-rate range test, when this engine has one. */
  readonly lrFind?: (req: LrFindRequest) => Promise<LrCurve>;
}
