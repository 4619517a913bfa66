import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../../errors.js';
import type { EngineDef, EngineSettings } from '../types.js';
import { memoryNotes, memoryUnsupported } from './memory.js';

// The tfjs engine's row: TensorFlow.js in Node (wasm with tlr's kernels, or tfjs-node), ONNX
// Runtime for passes that only run a network. Nothing heavy loads until a method needs it, so the
// table can be read by commands that must never load TensorFlow.js (check, plan, fmt).

export const tfjsEngine: EngineDef = {
  name: 'tfjs',
  summary:
    "TensorFlow.js in Node (wasm with tlr's kernels, or tfjs-node); ONNX Runtime for passes that only run a network",
  flags: {
    backend: { type: 'string', value: 'NAME', help: 'the TensorFlow.js backend (tlr doctor lists them)' },
  },
  async settle(flags, recorded): Promise<EngineSettings> {
    const { backendOf } = await import('./backend.js');
    const { inferenceWorkers } = await import('./infer/engine.js');
    inferenceWorkers('wasm'); // a bad TLR_WORKERS is a usage error before anything starts
    const backend = flags['backend'] ?? recorded?.['backend'];
    if (backend === undefined) return {};
    if (typeof backend !== 'string') throw new UsageError('--backend takes a backend name');
    backendOf(backend);
    return { backend };
  },
  unsupported: (plan) => memoryUnsupported(plan),
  notes: memoryNotes,
  missing: () => null,
  startsPerRun: false,
  usage: 'tlr run RECIPE',
  doctor: async () => (await import('./doctor.js')).tfjsDoctor(),
  ownsRun: (dir) => fs.existsSync(path.join(dir, 'plan.json')) && !fs.existsSync(path.join(dir, 'job.json')),
  async run(req) {
    const { run } = await import('./run.js');
    const backend = req.settings['backend'];
    return run({
      plan: req.plan!,
      recipeText: req.recipeText,
      events: req.events,
      backend: typeof backend === 'string' ? backend : undefined,
      resume: req.resume,
      stopped: req.stopped,
      env: req.env,
      engine: { engine: 'tfjs', settings: req.settings },
    });
  },
  exports: [],
  models: async () => (await import('./models.js')).MODELS,
  lrFind: async (req) => (await import('./lr-find.js')).lrFind(req),
};
