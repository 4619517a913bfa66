// The runtime's public API: build zoo networks with weights, run plans, listen to their events.
export { buildModel, loadZooModel, type BuildOptions, type Built } from './tf-layers/model.js';
export { run, RunError, type RunOptions, type RunResult } from './run.js';
export { Events, type RunEvent, type Evaluation } from '../../runtime/events.js';
export { chooseBackend, probeBackends } from './backend.js';
export { loadModelDir } from './model-files.js';
export { WeightsError } from '../../runtime/weights/tensors.js';
