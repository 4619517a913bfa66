import { UsageError } from '../../errors.js';
import type { ModelService, OpenModel } from '../types.js';
import { exportOnnx, exportTfjs } from './export.js';
import { ModelDirError } from './model-files.js';
import { quantizeModel } from './int8.js';
import { Int8Error } from './int8-files.js';
import { evaluateOn, openSavedModel, predict, type SavedModel } from './saved-model.js';

// Model folders for every command that opens one (predict, eval, export) and for what a run of
// any engine does after training: the tfjs engine reads both its own folders and the torch
// engine's (safetensors with torchvision's names).

/** A folder that is not a model folder is a usage error: the command was given the wrong path. */
async function open(dir: string, backend?: string, opts: { int8?: boolean } = {}): Promise<OpenModel> {
  try {
    return await openSavedModel(dir, backend, opts);
  } catch (e) {
    if (e instanceof ModelDirError || e instanceof Int8Error) throw new UsageError(e.message);
    throw e;
  }
}

const saved = (m: OpenModel) => m as SavedModel;

export const MODELS: ModelService = {
  open,
  predict: (m, images, k, onError) => predict(saved(m), images, k, onError),
  evaluate: (m, data, opts) => evaluateOn(saved(m), data, opts),
  exportOnnx: (m, opts) => exportOnnx(saved(m), opts),
  exportTfjs: (m, out, opts) => exportTfjs(saved(m), out, opts),
  quantize: async (m, req) => {
    try {
      return await quantizeModel(saved(m), req);
    } catch (e) {
      if (e instanceof Int8Error) throw new UsageError(e.message);
      throw e;
    }
  },
  serve: async (m, opts) => (await import('./serving.js')).servable(saved(m), opts.maxBatch),
  serveOnnx: async (file) => {
    const { OnnxFileError, servableOnnx } = await import('./onnx/served-file.js');
    try {
      return await servableOnnx(file);
    } catch (e) {
      if (e instanceof OnnxFileError) throw new UsageError(e.message);
      throw e;
    }
  },
};
