import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../../errors.js';
import type { Plan } from '../../contracts/plan.js';
import type { EngineDef, EngineSettings, FlagValues, RecipeExport } from '../types.js';
import { torchUnsupported } from './networks.js';
import { quickTorchPython } from './python.js';
import { JOB_MARKER } from './job-marker.js';
import { fileSafeName } from '../../escape.js';

// The torch engine's row: PyTorch with torchvision (the Python package in python), one
// process or several with DistributedDataParallel. Its Node half prepares the run folder, starts
// the ranks and turns their NDJSON into events; the rest loads on use.

const count = (text: string | number, flag: string, what: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw new UsageError(`${flag} ${text}: give a whole number of ${what} from 1 to 1024`);
  return n;
};

/** The global batch of every stage must divide among the processes. */
function checkBatches(plan: Plan, nproc: number): void {
  for (const s of plan.stages) {
    if (s.batch % nproc === 0) continue;
    throw new UsageError(
      `--nproc ${nproc}: stage ${s.index}'s batch of ${s.batch} does not divide among ${nproc} processes (the ` +
        `recipe's batch is the global batch, split evenly); use a batch that is a multiple of ${nproc} (say ` +
        `${Math.ceil(s.batch / nproc) * nproc}) or another --nproc`,
    );
  }
}

const torchrun: RecipeExport = {
  flag: 'torchrun',
  help: 'a job folder for the torch engine on a cluster (launch.sh, slurm.sbatch)',
  marker: JOB_MARKER,
  flags: { nproc: { type: 'string', value: 'N', help: 'processes per machine (default 1)' } },
  async write(plan, recipeText, out, flags) {
    const nproc = flags['nproc'] === undefined ? 1 : count(String(flags['nproc']), '--nproc', 'processes per machine');
    const why = torchUnsupported(plan);
    if (why) throw new UsageError(why);
    checkBatches(plan, nproc);
    const { writeJobFolder } = await import('./job-folder.js');
    return writeJobFolder(plan, recipeText, out, { nproc });
  },
  sweepScript(variants, flags) {
    return ['sweep.sbatch', sweepArray(variants, Number(flags['nproc'] ?? 1))];
  },
  written(out, flags) {
    const nproc = Number(flags['nproc'] ?? 1);
    return (
      `written: ${out} (launch.sh runs it: ${nproc} process${nproc > 1 ? 'es' : ''} here, or NNODES=… ` +
      `RDZV_ENDPOINT=host:port on each machine; slurm.sbatch is an example)`
    );
  },
};

/** A Slurm array over a sweep's job folders: task i runs variant i's launch.sh on one node. */
function sweepArray(variants: readonly { id: string; name: string }[], nproc: number): string {
  return `#!/usr/bin/env bash
# A Slurm array over this sweep's variants: task i runs the job folder of variant i, on one node with
# ${nproc} process(es), all of them at once as the cluster allows (edit the resources to your cluster).
# Each folder is also that variant's run folder: \`tlr compare\` takes them once they have finished. Their
# choices are in variants.tsv (never in this script: a recipe's text is no shell).
#SBATCH --job-name=tlr-sweep
#SBATCH --array=0-${variants.length - 1}
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task=8
set -euo pipefail
here="$(cd "$(dirname "\${BASH_SOURCE[0]}")" && pwd)"
variants=(
${variants.map((v) => `  ${fileSafeName(v.id)}`).join('\n')}
)
variant="\${variants[$SLURM_ARRAY_TASK_ID]}"
# Tasks may share a node: each its own rendezvous port.
export NNODES=1 NPROC_PER_NODE=${nproc} RDZV_ID="tlr-$SLURM_JOB_ID-$SLURM_ARRAY_TASK_ID" \\
  RDZV_ENDPOINT="127.0.0.1:$((29500 + SLURM_ARRAY_TASK_ID % 5000))"
# export DEVICE=cuda; export DATA_ROOT=/shared/datasets/...
exec "$here/$variant/launch.sh"
`;
}

const NODE_FLAGS = ['node-rank', 'master-addr', 'master-port'] as const;

/**
 * Several machines (--nnodes N with --node-rank, --master-addr, --master-port: the variables torchrun's static
 * rendezvous sets). Given on each node's command line, never taken from a run's record: each node has its own rank.
 */
function settleNodes(flags: FlagValues): EngineSettings {
  if (flags['nnodes'] === undefined) {
    const stray = NODE_FLAGS.find((f) => flags[f] !== undefined);
    if (stray) throw new UsageError(`--${stray} is for a run on several machines: give --nnodes too`);
    return {};
  }
  const nnodes = count(String(flags['nnodes']), '--nnodes', 'machines');
  if (nnodes === 1) return {};
  const missing = NODE_FLAGS.filter((f) => flags[f] === undefined);
  if (missing.length)
    throw new UsageError(
      `--nnodes ${nnodes} needs ${missing.map((f) => `--${f}`).join(', ')}: every node runs the same command with ` +
        "its own --node-rank (0 to N-1) and node 0's address and a free port on it",
    );
  const rank = Number(flags['node-rank']),
    port = Number(flags['master-port']);
  if (!Number.isInteger(rank) || rank < 0 || rank >= nnodes)
    throw new UsageError(`--node-rank ${flags['node-rank']}: give a whole number from 0 to ${nnodes - 1}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UsageError(`--master-port ${flags['master-port']}: give a port number from 1 to 65535`);
  return { nnodes, 'node-rank': rank, 'master-addr': String(flags['master-addr']), 'master-port': port };
}

async function settle(flags: FlagValues, recorded?: EngineSettings): Promise<EngineSettings> {
  const nprocText = flags['nproc'] ?? recorded?.['nproc'] ?? 1;
  const nproc = count(String(nprocText), '--nproc', 'processes');
  const device = String(flags['device'] ?? recorded?.['device'] ?? 'cpu');
  if (device !== 'cpu' && device !== 'cuda') throw new UsageError(`--device ${device}: give cpu or cuda`);
  const amp = flags['amp'] === true || (flags['amp'] === undefined && recorded?.['amp'] === true);
  if (amp && device !== 'cuda') throw new UsageError('--amp (mixed precision) needs --device cuda');
  const workersText = flags['workers'] ?? recorded?.['workers'];
  const workers = workersText === undefined ? undefined : Number(workersText);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 0 && workers <= 64))
    throw new UsageError(`--workers ${workersText}: give a whole number of loader processes per rank, 0 to 64`);
  return { nproc, device, amp, ...(workers === undefined ? {} : { workers }), ...settleNodes(flags) };
}

export const torchEngine: EngineDef = {
  name: 'torch',
  summary:
    'PyTorch with torchvision (python/tlr_torch), one process or several with DistributedDataParallel (gloo ' +
    'on CPU, nccl on CUDA)',
  flags: {
    nproc: { type: 'string', value: 'N', help: 'processes on this machine (default 1)' },
    device: { type: 'string', value: 'cpu|cuda', help: 'where the ranks compute (default cpu)' },
    amp: { type: 'boolean', value: '', help: 'mixed precision (CUDA only)' },
    workers: {
      type: 'string',
      value: 'N',
      help: 'image loader processes per rank (default: on CUDA a share of the cores; on the CPU 0, a thread pool)',
    },
    nnodes: { type: 'string', value: 'N', help: 'machines in the run (default 1); each runs the same command' },
    'node-rank': { type: 'string', value: 'R', help: "this machine's place, 0 to N-1 (node 0 makes the run folder)" },
    'master-addr': { type: 'string', value: 'HOST', help: "node 0's address, reachable from every node" },
    'master-port': { type: 'string', value: 'PORT', help: 'a free port on node 0 for the rendezvous' },
  },
  settle,
  unsupported: (plan) => torchUnsupported(plan),
  missing: () => (quickTorchPython() ? null : 'no Python with torch and torchvision; tlr doctor says what to install'),
  startsPerRun: true,
  usage: 'tlr run RECIPE --engine torch [--nproc N] [--nnodes N --node-rank R --master-addr HOST --master-port PORT]',
  doctor: async () => (await import('./doctor.js')).torchDoctor(),
  ownsRun: (dir) => fs.existsSync(path.join(dir, 'job.json')),
  async run(req) {
    const { runTorch } = await import('./launch.js');
    const s = req.settings;
    const out = await runTorch({
      plan: req.plan,
      recipeText: req.recipeText,
      events: req.events,
      resume: req.resume,
      stopped: req.stopped,
      env: req.env,
      nproc: Number(s['nproc'] ?? 1),
      device: s['device'] === 'cuda' ? 'cuda' : 'cpu',
      amp: s['amp'] === true,
      workers: s['workers'] === undefined ? undefined : Number(s['workers']),
      nodes: s['nnodes']
        ? {
            count: Number(s['nnodes']),
            rank: Number(s['node-rank']),
            addr: String(s['master-addr']),
            port: Number(s['master-port']),
          }
        : undefined,
    });
    // Nodes other than 0 train their share; node 0 reports, copies and exports.
    if (out.status === 'finished' && !out.finished) return { runDir: out.runDir, status: 'finished', evaluation: null };
    if (out.status !== 'finished') return { runDir: out.runDir, status: 'interrupted', evaluation: null };
    const { finishTorchRun } = await import('./finish.js');
    return finishTorchRun(out, req.events, await req.models());
  },
  exports: [torchrun],
};
