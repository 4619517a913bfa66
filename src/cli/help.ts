// Help texts of the commands that run models, kept apart so that `tlr check`, `plan`, `fmt` and
// `models` load neither those commands nor TensorFlow.js.

export const RUN_HELP = `usage: tlr run FILE [--json] [--backend NAME]
       tlr run FILE --engine torch [--nproc N] [--device cpu|cuda] [--amp] [--json]
       tlr run --resume RUN_DIR|SWEEP_DIR [--json] [--backend NAME | --nproc N]

Checks the recipe, validates its plan and runs it: downloads (or finds) the weights, caches
backbone features where it can, trains each stage, keeps the best model, evaluates it on the
test split (or validation) and writes everything into runs/<recipe>/<timestamp>/.
Ctrl-C stops after the current batch and keeps the best model and a checkpoint.
A recipe with lists of alternatives ({a, b}) is a sweep: its variants run in turn into
runs/<recipe>/sweep-<timestamp>/, with sweep.json; a failed variant is recorded and the sweep goes on.
  --json            one JSON object per event (NDJSON) on stdout
  --backend NAME    tensorflow-gpu, tensorflow, wasm or cpu (default: the first that loads)
  --resume RUN_DIR  continue an interrupted run (a torch run continues on the torch engine);
                    a SWEEP_DIR: run the variants that did not finish
  --engine NAME     tfjs (default) or torch: PyTorch with torchvision (python3 with torch needed;
                    tlr doctor says whether it is usable)
  --nproc N         torch: N processes on this machine, DistributedDataParallel (gloo on cpu, nccl
                    on cuda); the recipe's batch is the global batch and must be a multiple of N
  --device D        torch: cpu (default) or cuda;  --amp: mixed precision on cuda
Environment: TLR_WEIGHTS_DIR (pre-downloaded weights), TLR_CACHE (default ~/.cache/tlr),
TLR_INFERENCE (onnx or tfjs: what runs passes that only run the network; default ONNX Runtime when
it loads), TLR_ORT_THREADS (its threads; default one per core), TLR_WORKERS (TensorFlow.js threads
on wasm and cpu: inference workers, and the threads a stage that trains backbone layers shares each
batch among, this one included; default one per core, 0 for none), TLR_PREFIX_CACHE_MB (default 2048),
TLR_ALLOW_HTTP=1 (plain http downloads, for a local mirror).`;

export const COMPARE_HELP = `usage: tlr compare RUN_DIR|RECIPE... [--by dataset] [--out DIR] [--json]
       tlr compare SWEEP_DIR [--by ROWS,COLUMNS] [--out DIR] [--json]

A table of runs: network, weights, frozen share of the backbone's parameters, stages, epochs, data
set, accuracy (test, or validation without a test split), macro F1, run time, training images per
second, backend. Recipes are run first. Printed, and written as compare.md and compare.csv in DIR
(default: the current folder). --by dataset pivots networks against data sets, like a paper's table.
A sweep folder: its variants as rows, the varied values as columns, the best marked (*); --by A,B puts
one varied value against another; compare.md and compare.csv go into the sweep folder (or --out).`;

export const REPORT_HELP = `usage: tlr report RUN_DIR

Writes RUN_DIR/report.html: loss, accuracy and learning-rate curves per stage, the confusion matrix
as a heat map, per-class precision/recall/F1, and the most confidently misclassified images. A
single file that opens from disk with no network. tlr run writes it at the end of every run.`;

export const DOCTOR_HELP = `usage: tlr doctor [--calibrate]

Prints each TensorFlow.js backend (available or not, and why), the one \`tlr run\` would use,
ONNX Runtime (version, threads, execution providers) or why it is not used, the TensorFlow.js
inference worker threads, the cache folder and its size, $TLR_WEIGHTS_DIR, whether the torch
engine is usable (which Python, PyTorch and torchvision versions, CUDA devices) or why not, the
versions, and each engine's calibration.
  --calibrate  measure each engine that can run here (a small real run of ResNet-18 at 96×96 on
               generated images, about a minute) and keep its rates in the cache folder
               (calibration.json): plan, diff and explain then estimate a run's time`;

export const WATCH_HELP = `usage: tlr watch FILE [--json] [--backend NAME]    (also: tlr run --watch FILE)

Runs the recipe, then watches it and its data folder. On each save it checks the recipe again:
with errors, it shows them and the running job goes on; when the plan changed, it stops the job
after its current batch and starts the new plan (cached backbone features are reused, so a new
head or learning rate starts training at once). Rapid saves are debounced; q or Ctrl-C quits.`;

export const PREDICT_HELP = `usage: tlr predict MODEL_DIR IMAGE|FOLDER|'PATTERN'... [--top K] [--json | --csv]

The top K labels (default 3) with their probabilities for each image, from a model a run saved
(RUN_DIR/model): one line per image. A folder means every image below it; a quoted pattern
('photos/**/*.jpg') is expanded by tlr. Images run in batches on the fast inference engine.
  --json   one JSON array of {image, top: [{label, probability}]}
  --csv    image,rank,label,probability (a header, then one row per label)
Exit status 1 when an image cannot be read (the others are still printed).`;

export const EVAL_HELP = `usage: tlr eval MODEL_DIR DATA [--json]

Evaluates a saved model on a data set (any layout \`train ... on\` accepts; for a folder with
train/val/test or IDX files, its test part): accuracy, macro F1, per-class precision, recall and F1,
and the confusion matrix; it says which part it evaluated and warns when the images are ones the
model was trained on. Runs on ONNX Runtime (or TensorFlow.js worker threads) as \`tlr run\` does.`;

export const EXPORT_HELP = `usage: tlr export MODEL_DIR [--format onnx|tfjs] [--out PATH] [--softmax] [--force]

Writes a model a run saved (RUN_DIR/model) for other tools:
  --format onnx   (default) one standalone .onnx file: backbone and head, input "input" float32
                  [batch, H, W, 3] (RGB / 255, then (x - mean) / std), output "output" (logits;
                  probabilities with --softmax); labels and preprocessing in its metadata.
                  Default --out: RUN_DIR/model.onnx
  --format tfjs   the TF.js layers folder (tf.loadLayersModel; --softmax puts a softmax layer on top,
                  so it outputs probabilities). Default --out: MODEL_DIR-tfjs
  --force         replace an existing file (writes are atomic)

usage: tlr export RECIPE.tlr --torchrun DIR [--nproc N]

Writes a job folder for the torch engine on a cluster: the plan, the manifest of every image
(paths relative to the data root; DATA_ROOT remaps it), the starting weights, the engine package,
launch.sh (torchrun with c10d rendezvous: NNODES, NPROC_PER_NODE [N], RDZV_ENDPOINT, DEVICE) and
an sbatch example. The folder becomes the run folder; tlr predict DIR/model reads its model.`;

export const FETCH_HELP = `usage: tlr fetch FILE...

Gets everything the recipes need from the network now: their weights, downloaded into the cache
(checked, and pinned in tlr.lock beside the recipe), so that later runs work offline. Recipes whose
weights are cached, in $TLR_WEIGHTS_DIR, local files or none say so.`;

export const LR_FIND_HELP = `usage: tlr lr-find RECIPE [--stage N] [--write] [--steps K] [--json]

The learning-rate range test on one stage (default 1): K training steps (default 100) with the rate
growing exponentially from 1e-7 to 10, on the stage's own batches (cached features when the stage
trains only the head, so it takes seconds), from the recipe's starting weights; the weights are put
back afterwards. Prints the smoothed loss against the rate, the suggested rate (a tenth of the rate
where the smoothed loss is lowest) and where the loss falls fastest, and writes the chart as
runs/<recipe>/lr-find/stage-N.svg.
  --write   set that stage's lr in the recipe (its schedule and comments kept; canonical layout)
  --json    the curve and the suggestion as one JSON object`;

export const PACK_HELP = `usage: tlr pack DATA --out SHARDS [--shard-size N] [--force]
       tlr pack --index SHARDS

Writes a folder of class folders as WebDataset-style tar shards (000000.tar, …: KEY.jpg or
KEY.png beside KEY.cls, the class index), with classes.txt and tlr's index of them
(tlr-shards.json). A recipe then says \`train … on ./shards\`: a few large files instead of many
small ones, which shared file systems serve far better. The shards keep the folder's order, so
they split exactly as the folder does. The folder is written whole or not at all.
  --out DIR         the shards' folder (new, empty, or shards tlr wrote)
  --shard-size N    images per shard (default 1000)
  --force           replace shards tlr wrote before
  --index SHARDS    index shards made elsewhere (reads each once; classes from classes.txt)`;
