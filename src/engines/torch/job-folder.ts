import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Plan } from '../../contracts/plan.js';
import { writeFileAtomic } from '../../files/atomic.js';
import { TlrError } from '../../errors.js';
import { ENGINE_DIR } from './python.js';
import { writeTorchJob } from './job.js';
import { ENGINE_FILE } from '../../runtime/run-folder.js';
import { recipeProvenance } from '../../runtime/provenance.js';
import { fileSafeName, printable } from '../../escape.js';

// `tlr export RECIPE --torchrun DIR`: a self-contained job folder for a cluster. It holds the plan,
// the manifest (image paths relative to the data root, which DATA_ROOT remaps), the starting
// weights, a copy of the engine package, launch.sh (torchrun with c10d rendezvous, or tlr's own
// launcher on one machine where torchrun is broken) and an sbatch example. The folder is also the
// run folder: the engine writes metrics.jsonl, checkpoint/, model/ and report.json into it.

/** A folder tlr may not write a job into. */
export class JobFolderError extends TlrError {}

import { JOB_MARKER as MARKER } from './job-marker.js';
import { readContract } from '../../contracts/read.js';

// The scripts hold no text from the recipe: its name, its data folder's path and its variants' names may hold
// quotes, `$(…)`, backticks or newlines, and a script runs on a cluster. What they need travels in job.json
// (read by the engine) or as fileSafeName's letters, digits, `.`, `_` and `-` (the rendezvous and Slurm job names).

function launchScript(plan: Plan, nproc: number): string {
  const id = fileSafeName(plan.recipe.name);
  return `#!/usr/bin/env bash
# Runs the tlr recipe of this folder (its name and data folder are in job.json) with tlr's PyTorch engine, on
# this machine or as one node of several. Settings (environment variables, defaults in brackets):
#   NNODES [1]  NPROC_PER_NODE [${nproc}]  RDZV_ENDPOINT [127.0.0.1:29500] (host:port of the first node)
#   NODE_RANK (0 to NNODES-1; with tlr's launcher, each node's own; torchrun's c10d rendezvous assigns it)
#   RDZV_ID [tlr-${id}]  DEVICE [cpu] (cpu: gloo; cuda: nccl)  AMP [0] (1: mixed precision, CUDA)
#   DATA_ROOT [the data folder in job.json] (where the images are on these machines)
#   PYTHON [python3]  LAUNCHER [torchrun] (torchrun, or tlr: tlr's own launcher, a static rendezvous; used
#   where torchrun does not work, as Debian's torch 1.13 on Python 3.11)
#   RESUME: nothing to set; a job folder with a checkpoint continues from it.
# Every node runs this script; rank 0 writes into this folder (put it on a shared file system).
set -euo pipefail
here="$(cd "$(dirname "\${BASH_SOURCE[0]}")" && pwd)"
PYTHON="\${PYTHON:-python3}"
NNODES="\${NNODES:-1}"
NPROC_PER_NODE="\${NPROC_PER_NODE:-${nproc}}"
args=("$here" --device "\${DEVICE:-cpu}")
if [ -n "\${DATA_ROOT:-}" ]; then
  case "$DATA_ROOT" in /*) ;; *) DATA_ROOT="$PWD/$DATA_ROOT" ;; esac
  args+=(--data-root "$DATA_ROOT")
fi
[ "\${AMP:-0}" = 1 ] && args+=(--amp)
# Python puts the folder it starts in first on sys.path: start in this folder (tlr wrote it), never in the
# caller's, so a numpy.py or torch/ there is never imported; PYTHONSAFEPATH does the same on Python 3.11+.
cd "$here"
export PYTHONSAFEPATH=1 PYTHONPATH="$here\${PYTHONPATH:+:$PYTHONPATH}"
if ! "$PYTHON" -c 'import torch, torchvision, numpy, PIL' 2>/dev/null; then
  echo "launch.sh: $PYTHON lacks torch, torchvision, numpy or Pillow: install them (Debian: apt-get install -y" \\
    "python3-torch python3-torchvision python3-pil python3-numpy) or set PYTHON to a Python that has them" >&2
  exit 2
fi
launcher="\${LAUNCHER:-torchrun}"
torchrun_works='from torch.distributed.elastic.multiprocessing.api import Std; assert Std.from_str("0") is not None'
if [ "$launcher" = torchrun ] && ! "$PYTHON" -c "$torchrun_works" 2>/dev/null; then
  # torch 1.13's torchrun fails on Python 3.11 before starting a worker (Std.from_str returns None).
  echo "launch.sh: torchrun does not work with this torch and Python; using tlr's own launcher" >&2
  launcher=tlr
fi
if [ "$launcher" = torchrun ]; then
  exec "$PYTHON" -m torch.distributed.run --nnodes "$NNODES" --nproc_per_node "$NPROC_PER_NODE" \\
    --rdzv_backend c10d --rdzv_endpoint "\${RDZV_ENDPOINT:-127.0.0.1:29500}" \\
    --rdzv_id "\${RDZV_ID:-tlr-${id}}" \\
    -m tlr_torch run "\${args[@]}"
fi
if [ "$NNODES" = 1 ]; then
  exec "$PYTHON" -m tlr_torch launch --nproc "$NPROC_PER_NODE" "\${args[@]}"
fi
# Several nodes with tlr's launcher: a static rendezvous at RDZV_ENDPOINT (node 0's host:port).
endpoint="\${RDZV_ENDPOINT:?launch.sh: several nodes need RDZV_ENDPOINT=host:port of node 0}"
exec "$PYTHON" -m tlr_torch launch --nproc "$NPROC_PER_NODE" --nnodes "$NNODES" \\
  --node-rank "\${NODE_RANK:?launch.sh: several nodes need NODE_RANK (0 to NNODES-1) on each node}" \\
  --master-addr "\${endpoint%:*}" --master-port "\${endpoint##*:}" "\${args[@]}"
`;
}

function sbatchExample(plan: Plan): string {
  return `#!/usr/bin/env bash
# An example Slurm job for this folder: 2 nodes with 4 GPUs each (edit to your cluster). The folder
# must be on a file system every node sees, and the images under DATA_ROOT on each node.
#SBATCH --job-name=tlr-${fileSafeName(plan.recipe.name)}
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=4
#SBATCH --cpus-per-task=16
set -euo pipefail
here="$(cd "$(dirname "\${BASH_SOURCE[0]}")" && pwd)"
first="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)"
export NNODES="$SLURM_NNODES" NPROC_PER_NODE=4 DEVICE=cuda RDZV_ENDPOINT="$first:29500" RDZV_ID="tlr-$SLURM_JOB_ID"
# export DATA_ROOT=/shared/datasets/your-data   (where the images are on the nodes)
# With LAUNCHER=tlr, each task needs its node's rank: srun bash -c 'NODE_RANK=$SLURM_NODEID exec "$0"' "$here/launch.sh"
srun "$here/launch.sh"
`;
}

function readme(plan: Plan, nproc: number): string {
  return `tlr job folder for the recipe "${printable(plan.recipe.name)}" (written by tlr export --torchrun)

  ./launch.sh                     ${nproc} process(es) on this machine (NPROC_PER_NODE)
  NNODES=2 RDZV_ENDPOINT=host:29500 ./launch.sh    on each of 2 machines (torchrun)
  NNODES=2 NODE_RANK=0|1 RDZV_ENDPOINT=host:29500 LAUNCHER=tlr ./launch.sh   the same with tlr's launcher
  sbatch slurm.sbatch             the Slurm example

Needs Python with torch, torchvision, numpy and Pillow (Debian: apt-get install -y python3-torch
python3-torchvision python3-pil python3-numpy). The recipe's batch is the global batch: it must be a
multiple of the total number of processes. This folder becomes the run folder: metrics.jsonl,
checkpoint/ (a killed job continues when launched again), model/ (safetensors with labels.json
and preprocessing.json; tlr predict, eval, export and weights ./model read it), report.json.
Files: plan.json (the plan), manifest.json (every image with its class and split; paths relative
to DATA_ROOT), job.json, weights.safetensors (the starting weights, when the recipe has any),
tlr_torch/ (the engine).
`;
}

function copyEngine(dir: string): void {
  const from = path.join(ENGINE_DIR, 'tlr_torch'),
    to = path.join(dir, 'tlr_torch');
  fs.mkdirSync(to, { recursive: true });
  for (const f of fs.readdirSync(from)) if (f.endsWith('.py')) fs.copyFileSync(path.join(from, f), path.join(to, f));
}

/** Writes the job folder `dir` (new, empty, or one tlr wrote before) for `plan`. */
export async function writeJobFolder(
  plan: Plan,
  recipeText: string,
  dir: string,
  opts: { nproc: number; env?: NodeJS.ProcessEnv },
): Promise<string[]> {
  if (fs.existsSync(dir)) {
    const entries = fs.readdirSync(dir);
    if (entries.length && !entries.includes(MARKER))
      throw new JobFolderError(`${dir} is not empty and tlr did not write it; choose a new folder for the job`);
    if (entries.includes('metrics.jsonl'))
      throw new JobFolderError(
        `${dir} holds a job that has started (metrics.jsonl); choose a new folder, or launch it again to continue`,
      );
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, MARKER), 'a tlr job folder (tlr export --torchrun)\n');
  writeFileAtomic(
    path.join(dir, ENGINE_FILE),
    `${JSON.stringify(
      {
        engine: 'torch',
        settings: { nproc: opts.nproc, device: 'cpu', amp: false },
        recipe: recipeProvenance(plan.recipe.file, recipeText),
      },
      null,
      2,
    )}\n`,
  );
  writeFileAtomic(path.join(dir, 'recipe.tlr'), recipeText);
  writeFileAtomic(path.join(dir, 'plan.json'), `${JSON.stringify(plan, null, 2)}\n`);
  const job = await writeTorchJob(plan, dir, { env: opts.env, device: 'cpu', nproc: opts.nproc });
  const jobFile = path.join(dir, 'job.json');
  const j = readContract('job', jobFile);
  if (j.weights && path.isAbsolute(j.weights.path)) {
    // Self-contained: the weights travel with the folder.
    fs.copyFileSync(j.weights.path, path.join(dir, 'weights.safetensors'));
    const copied = { ...j, weights: { ...j.weights, path: 'weights.safetensors' } };
    writeFileAtomic(jobFile, `${JSON.stringify(copied, null, 2)}\n`);
  }
  copyEngine(dir);
  writeFileAtomic(path.join(dir, 'launch.sh'), launchScript(plan, opts.nproc));
  fs.chmodSync(path.join(dir, 'launch.sh'), 0o755);
  writeFileAtomic(path.join(dir, 'slurm.sbatch'), sbatchExample(plan));
  writeFileAtomic(path.join(dir, 'README.txt'), readme(plan, opts.nproc));
  return job.skipped.map((s) => `skipped ${s.file}: ${s.reason}`);
}
