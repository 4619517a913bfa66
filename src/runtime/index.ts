// The runtime's public API: build zoo networks with weights, run plans, listen to their events.
export { buildModel, loadZooModel, type BuildOptions, type Built } from './zoo/model.js';
export { run, RunError, type RunOptions, type RunResult } from './run.js';
export { Events, type RunEvent, type Evaluation } from './events.js';
export { chooseBackend, probeBackends } from './backend.js';
export { loadModelDir } from './results/model-files.js';
export { WeightsError } from './weights/tensors.js';
