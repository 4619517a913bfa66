import { engineFlags, engines, INT8_DEFAULTS, recipeExports, type FlagValues } from '../../engines/index.js';
import type { EngineFlag } from '../../engines/types.js';
import type { Output } from '../io.js';
import { common, str, type CommandRow, type OptionRow, type Options, type Values } from './row.js';
import { SERVE } from './serve-command.js';

// The commands that run models. Their handlers load on use (TensorFlow.js, ONNX Runtime, the torch engine's
// launcher), and the engines' own flags and their help come from the engine table.

const fromEngine = (engine: string, f: EngineFlag): OptionRow => ({
  type: f.type,
  ...(f.value ? { value: f.value } : {}),
  help: `${engine}: ${f.help}`,
  ...(f.value.includes('|') ? { choices: f.value.split('|') } : {}),
});

/** The engines' run flags (--backend, --nproc, …). */
const engineOptions = (): Options =>
  Object.fromEntries([...engineFlags()].map(([name, f]) => [name, fromEngine(f.engine, f.flag)]));
const engineValues = (v: Values): FlagValues => Object.fromEntries([...engineFlags().keys()].map((n) => [n, v[n]]));

const ENGINE: () => OptionRow = () => ({
  type: 'string',
  value: 'NAME',
  choices: engines().map((e) => e.name),
  help: `the engine: ${engines()
    .map((e, i) => `${e.name}${i ? '' : ' (default)'}, ${e.summary}`)
    .join('; ')}. tlr doctor says whether each is usable`,
});

const ENVIRONMENT = `Environment: TLR_WEIGHTS_DIR (pre-downloaded weights), TLR_CACHE (default ~/.cache/tlr),
TLR_INFERENCE (onnx or tfjs: what runs passes that only run the network; default ONNX Runtime when
it loads), TLR_ORT_THREADS (its threads; default one per core), TLR_WORKERS (TensorFlow.js threads
on wasm and cpu; default one per core, 0 for none), TLR_PREFIX_CACHE_MB (default 2048),
TLR_PIXEL_CACHE_MB (decoded images, default 4096; TLR_PIXEL_CACHE=0 turns it off),
TLR_ALLOW_HTTP=1 (plain http downloads, for a local mirror).`;

const watchRun = async (p: string[], v: Values, io: Output) =>
  (await import('../commands/watch.js')).watchCommand(
    p,
    { json: !!v['json'], engine: str(v['engine']), engineFlags: engineValues(v) },
    io,
  );

const RUN: CommandRow = {
  name: 'run',
  summary: 'run a recipe (--json: NDJSON events; --resume RUN_DIR; --watch)',
  usage: ['FILE [--json] [--engine NAME] [ENGINE FLAGS]', '--resume RUN_DIR|SWEEP_DIR [--json] [ENGINE FLAGS]'],
  about: `Checks the recipe, validates its plan and runs it: downloads (or finds) the weights, caches
backbone features where it can, trains each stage, keeps the best model, evaluates it on the
test split (or validation) and writes everything into runs/<recipe>/<timestamp>/.
Ctrl-C stops after the current batch and keeps the best model and a checkpoint.
A recipe with lists of alternatives ({a, b}) is a sweep: its variants run in turn into
runs/<recipe>/sweep-<timestamp>/, with sweep.json; a failed variant is recorded and the sweep goes on.`,
  options: () => ({
    json: common.json('one JSON object per event (NDJSON) on stdout (schema/events.schema.json)'),
    resume: {
      type: 'string',
      value: 'DIR',
      complete: 'dir',
      help:
        'continue an interrupted run on the engine that started it; a sweep folder: run the variants that ' +
        'did not finish',
    },
    watch: { type: 'boolean', help: 'the same as tlr watch FILE' },
    engine: ENGINE(),
    ...engineOptions(),
  }),
  notes: ENVIRONMENT,
  operands: 'recipes',
  run: async (p, v, io) =>
    v['watch']
      ? watchRun(p, v, io)
      : (await import('../commands/run.js')).runCommand(
          p,
          { json: !!v['json'], resume: str(v['resume']), engine: str(v['engine']), engineFlags: engineValues(v) },
          io,
        ),
};

const WATCH: CommandRow = {
  name: 'watch',
  summary: 'run, then re-plan and re-run on every save',
  usage: ['FILE [--json] [--engine NAME] [ENGINE FLAGS]'],
  about: `Runs the recipe, then watches it and its data folder. On each save it checks the recipe again:
with errors, it shows them and the running job goes on; when the plan changed, it stops the job
after its current batch and starts the new plan (cached backbone features are reused, so a new
head or learning rate starts training at once). Rapid saves are debounced; q or Ctrl-C quits.`,
  options: () => ({
    json: common.json('one JSON object per event (NDJSON) on stdout'),
    engine: ENGINE(),
    ...engineOptions(),
  }),
  operands: 'recipes',
  run: watchRun,
};

const EXPORT: CommandRow = {
  name: 'export',
  summary: 'a saved model as ONNX or TF.js; a recipe as a job folder for a cluster',
  usage: [
    'MODEL_DIR [--format onnx|tfjs] [--out PATH] [--softmax] [--force]',
    'MODEL_DIR --int8 [--gate POINTS] [--calibration N] [--out PATH] [--softmax] [--force]',
    'RECIPE.tlr --torchrun DIR [--nproc N]',
  ],
  about: `Writes a model a run saved (RUN_DIR/model) for other tools: as one standalone .onnx file
(backbone and head, input "input" float32 [batch, H, W, 3] (RGB / 255, then (x - mean) / std),
output "output": logits, probabilities with --softmax (a multi-label model: a sigmoid per label);
labels, preprocessing and a multi-label model's thresholds in its metadata; default RUN_DIR/model.onnx),
or as the TF.js layers folder (tf.loadLayersModel; default MODEL_DIR-tfjs).
With --int8: a static int8 ONNX model (QDQ; weights int8 per channel with bias correction, activations
uint8 holding the middle 99.99% of their values on N images of the run's training part, default
${INT8_DEFAULTS.calibration}), written only after it is measured: each of the validation and test parts
scored in float and in int8 (accuracy; mAP for multi-label), and both timed here. It is refused, with
both figures, when it falls more than the gate (default ${INT8_DEFAULTS.gate} point) or is not faster;
--force writes it anyway and records why. It goes to MODEL_DIR/int8.onnx with its figures in
MODEL_DIR/int8.json (tlr predict/eval --int8 use it) and to the export (default RUN_DIR/model.int8.onnx).
With a recipe: writes a job folder for the torch engine on a cluster: the plan, the manifest of every
image (paths relative to the data root; DATA_ROOT remaps it), the starting weights, the engine package,
launch.sh (torchrun with c10d rendezvous: NNODES, NPROC_PER_NODE, RDZV_ENDPOINT, DEVICE) and an sbatch
example. The folder becomes the run folder; tlr predict DIR/model reads its model.`,
  options: () => ({
    format: { type: 'string', value: 'FORMAT', choices: ['onnx', 'tfjs'], help: 'onnx (the default) or tfjs' },
    out: { type: 'string', value: 'PATH', complete: 'file', help: 'where to write it' },
    softmax: { type: 'boolean', help: 'end in probabilities rather than logits (multi-label: sigmoids)' },
    force: {
      type: 'boolean',
      help: 'replace an existing file (writes are atomic); with --int8, write a model the gate refused',
    },
    int8: { type: 'boolean', help: 'a static int8 ONNX model, checked against the float one before it is written' },
    gate: {
      type: 'string',
      value: 'POINTS',
      help: `with --int8: the largest fall in accuracy allowed (default ${INT8_DEFAULTS.gate})`,
    },
    calibration: {
      type: 'string',
      value: 'N',
      help: `with --int8: training images to calibrate on (default ${INT8_DEFAULTS.calibration})`,
    },
    ...Object.fromEntries(
      recipeExports().flatMap((x) => [
        [x.flag, { type: 'string', value: 'DIR', complete: 'dir', help: x.help } satisfies OptionRow],
        ...Object.entries(x.flags).map(([n, f]) => [n, fromEngine(`with --${x.flag}`, f)]),
      ]),
    ),
  }),
  operands: 'files',
  run: async (p, v, io) =>
    (await import('../commands/export.js')).exportCommand(
      p,
      {
        format: str(v['format']),
        out: str(v['out']),
        softmax: !!v['softmax'],
        force: !!v['force'],
        int8: !!v['int8'],
        gate: str(v['gate']),
        calibration: str(v['calibration']),
        values: v,
      },
      io,
    ),
};

const BACKEND = common.backend;
const INT8_PASS: OptionRow = {
  type: 'boolean',
  help: "run the model's int8 network (MODEL_DIR/int8.onnx, made by tlr export MODEL_DIR --int8) on ONNX Runtime",
};

const MODEL_COMMANDS: readonly CommandRow[] = [
  {
    name: 'lr-find',
    summary: 'the learning-rate range test on a stage; --write puts the suggestion in the recipe',
    usage: ['RECIPE [--stage N] [--write] [--steps K] [--json]'],
    about: `The learning-rate range test on one stage (default 1): K training steps (default 100) with the rate
growing exponentially from 1e-7 to 10, on the stage's own batches (cached features when the stage
trains only the head, so it takes seconds), from the recipe's starting weights; the weights are put
back afterwards. Prints the smoothed loss against the rate, the suggested rate (a tenth of the rate
where the smoothed loss is lowest) and where the loss falls fastest, and writes the chart as
runs/<recipe>/lr-find/stage-N.svg.`,
    options: () => ({
      stage: { type: 'string', value: 'N', help: 'the stage (default 1)' },
      write: {
        type: 'boolean',
        help: "set that stage's lr in the recipe (its schedule and comments kept; canonical layout)",
      },
      steps: { type: 'string', value: 'K', help: 'training steps (default 100)' },
      json: common.json('the curve and the suggestion as one JSON object'),
    }),
    operands: 'recipes',
    run: async (p, v, io) =>
      (await import('../commands/lr-find.js')).lrFindCommand(
        p,
        { stage: str(v['stage']), write: !!v['write'], json: !!v['json'], steps: str(v['steps']) },
        io,
      ),
  },
  {
    name: 'predict',
    summary: 'top labels of images with a saved model',
    usage: ["MODEL_DIR IMAGE|FOLDER|'PATTERN'... [--top K] [--json | --csv] [--int8]"],
    about: `The top K labels (default 3) with their probabilities for each image, from a model a run saved
(RUN_DIR/model): one line per image. A multi-label model gives every label whose probability reaches
its threshold (chosen on the validation part, saved in preprocessing.json). A folder means every image
below it; a quoted pattern ('photos/**/*.jpg') is expanded by tlr. Images run in batches on the fast
inference engine.`,
    options: () => ({
      top: { type: 'string', value: 'K', help: 'how many labels per image (default 3)' },
      json: common.json('one JSON array of {image, top: [{label, probability}], labels (multi-label)}'),
      csv: { type: 'boolean', help: 'image,rank,label,probability (a row per label; multi-label: those predicted)' },
      backend: BACKEND,
      int8: INT8_PASS,
    }),
    notes: 'Exit status 1 when an image cannot be read (the others are still printed).',
    operands: 'files',
    run: async (p, v, io) =>
      (await import('../commands/predict.js')).predictCommand(
        p,
        { top: str(v['top']), json: !!v['json'], csv: !!v['csv'], backend: str(v['backend']), int8: !!v['int8'] },
        io,
      ),
  },
  {
    name: 'eval',
    summary: 'evaluate a saved model on a data set',
    usage: ['MODEL_DIR DATA [--json] [--int8]'],
    about: `Evaluates a saved model on a data set (any layout \`train ... on\` accepts; for a folder with
train/val/test or IDX files, its test part): accuracy, macro F1, per-class precision, recall and F1,
and the confusion matrix (multi-label: mAP, micro and macro F1, subset accuracy, and per label its
threshold, AP, precision, recall and F1, on a multi-label CSV); it says which part it evaluated and
warns when the images are ones the model was trained on. Runs on ONNX Runtime (or TensorFlow.js
worker threads) as \`tlr run\` does.`,
    options: () => ({ json: common.json('the evaluation as one JSON object'), backend: BACKEND, int8: INT8_PASS }),
    operands: 'dirs',
    run: async (p, v, io) =>
      (await import('../commands/predict.js')).evalCommand(
        p,
        { json: !!v['json'], backend: str(v['backend']), int8: !!v['int8'] },
        io,
      ),
  },
  EXPORT,
  {
    name: 'doctor',
    summary: 'backends, engines, cache and versions (--calibrate: measure this machine)',
    usage: ['[--calibrate]'],
    about: `Prints each TensorFlow.js backend (available or not, and why), the one \`tlr run\` would use,
ONNX Runtime (version, threads, execution providers) or why it is not used, the TensorFlow.js
inference worker threads, the cache folder and its size, $TLR_WEIGHTS_DIR, whether the torch
engine is usable (which Python, PyTorch and torchvision versions, CUDA devices) or why not, the
versions, and each engine's calibration.`,
    options: () => ({
      calibrate: {
        type: 'boolean',
        help:
          'measure each engine that can run here (a small real run of ResNet-18 at 96×96 on generated images, about ' +
          "a minute) and keep its rates in the cache folder: plan, diff and explain then estimate a run's time",
      },
    }),
    operands: 'none',
    run: async (p, v, io) =>
      (await import('../commands/doctor.js')).doctorCommand(p, { calibrate: !!v['calibrate'] }, io),
  },
  {
    name: 'compare',
    summary: 'a table of runs (or recipes, run first); --by dataset',
    usage: [
      'RUN_DIR|RECIPE... [--by dataset] [--out DIR] [--json]',
      'SWEEP_DIR [--by ROWS,COLUMNS] [--out DIR] [--json]',
    ],
    about: `A table of runs: network, weights, frozen share of the backbone's parameters, stages, epochs, data
set, accuracy (test, or validation without a test split), macro F1, run time, training images per
second, backend. Recipes are run first. Printed, and written as compare.md, compare.csv and compare.html into the
first run's runs folder (runs/, which git ignores), or --out DIR. A sweep folder: its variants as rows, the varied
values as columns, the best marked (*); compare.md and compare.csv go into the sweep folder (or --out).`,
    options: () => ({
      by: {
        type: 'string',
        value: 'PIVOT',
        help:
          "dataset: networks against data sets, like a paper's table; for a sweep, A,B puts one varied value " +
          'against another',
      },
      out: { type: 'string', value: 'DIR', complete: 'dir', help: 'where compare.md, .csv and .html go' },
      json: common.json('the table as data'),
    }),
    operands: 'dirs',
    run: async (p, v, io) =>
      (await import('../commands/compare.js')).compareCommand(
        p,
        { by: str(v['by']), out: str(v['out']), json: !!v['json'] },
        io,
      ),
  },
  {
    name: 'report',
    summary: "write the run's report.html",
    usage: ['RUN_DIR'],
    about: `Writes RUN_DIR/report.html: loss, accuracy and learning-rate curves per stage, the confusion matrix
as a heat map, per-class precision/recall/F1, and the most confidently misclassified images. A
single file that opens from disk with no network. tlr run writes it at the end of every run.`,
    options: () => ({}),
    operands: 'dirs',
    run: async (p, v, io) => (await import('../commands/compare.js')).reportCommand(p, v, io),
  },
];

export const RUN_COMMANDS: readonly CommandRow[] = [RUN, WATCH, ...MODEL_COMMANDS, SERVE];
