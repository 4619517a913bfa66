import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Plan } from '../plan/types.js';
import type { Events } from '../runtime/events.js';
import type { RunResult } from './tfjs/run.js';

// The engines that run a plan, one entry each: adding one means adding a file and a row here.
// Each loads its code on use, so choosing one never loads another (nor TensorFlow.js for torch).

export interface EngineRunOptions {
  readonly plan?: Plan;
  readonly recipeText: string;
  readonly events: Events;
  readonly resume?: string;
  readonly stopped?: () => boolean;
  readonly env?: NodeJS.ProcessEnv;
  /** tfjs: the TensorFlow.js backend. */
  readonly backend?: string;
  /** torch: processes on this machine, device, mixed precision. */
  readonly nproc?: number;
  readonly device?: 'cpu' | 'cuda';
  readonly amp?: boolean;
}

export interface EngineDef {
  readonly name: string;
  readonly summary: string;
  /** Why this engine cannot run `plan`, or null. */
  unsupported(plan: Plan): Promise<string | null>;
  run(opts: EngineRunOptions): Promise<RunResult>;
}

export const ENGINES: Readonly<Record<'tfjs' | 'torch', EngineDef>> = {
  tfjs: {
    name: 'tfjs',
    summary: 'TensorFlow.js in Node (wasm with tlr\'s kernels, or tfjs-node); ONNX Runtime for passes that only run a network',
    unsupported: async () => null,
    run: async (o) => (await import('./tfjs/run.js')).run({ plan: o.plan!, recipeText: o.recipeText, events: o.events, backend: o.backend, resume: o.resume, stopped: o.stopped, env: o.env }),
  },
  torch: {
    name: 'torch',
    summary: 'PyTorch with torchvision (engines/torch), one process or several with DistributedDataParallel (gloo on CPU, nccl on CUDA)',
    unsupported: async (plan) => (await import('./torch/job.js')).torchUnsupported(plan),
    run: async (o) => {
      const { runTorch } = await import('./torch/launch.js');
      const out = await runTorch({ plan: o.plan, recipeText: o.recipeText, events: o.events, resume: o.resume, stopped: o.stopped, env: o.env, nproc: o.nproc ?? 1, device: o.device ?? 'cpu', amp: !!o.amp });
      if (out.status !== 'finished') return { runDir: out.runDir, status: 'interrupted', evaluation: null };
      return (await import('./torch/finish.js')).finishTorchRun(out, o.events);
    },
  },
};

export type EngineName = keyof typeof ENGINES;

/** The engine of a run folder being resumed: torch when the torch engine prepared it (job.json). */
export const engineOfRun = (dir: string): EngineName => (fs.existsSync(path.join(dir, 'job.json')) ? 'torch' : 'tfjs');

/** The engine a --engine value names; null when none does. */
export const engineNamed = (name: string): EngineName | null => (name in ENGINES ? (name as EngineName) : null);
