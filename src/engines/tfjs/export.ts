import { resizeDefinition, resizerOf } from '../../runtime/images/resize.js';
import { savedProgram } from './infer/saved.js';
import { toOnnx, type OnnxOptions } from './onnx/to-onnx.js';
import type { SavedModel } from './saved-model.js';
import type { ModelMeta } from './model-files.js';
import { copyDirAtomic } from '../../files/atomic.js';
import { MODEL_MARKER } from '../../data/model-folder.js';
import { TLR_VERSION } from '../../version.js';
import { tf } from './tf.js';
import { isTorchModelDir, labelThresholds, saveModel } from './model-files.js';

// A trained model in the formats other tools read: a standalone ONNX file (the network and its
// head, with the labels and preprocessing in its metadata), or the TF.js folder as it is.

/**
 * The saved model as ONNX bytes. Input `input`: float32 [batch, H, W, 3], RGB scaled to [0, 1]
 * then (x - mean) / std (metadata `preprocessing`); output `output`: logits, or probabilities with
 * `softmax` (or when the head ends in softmax). Metadata: `labels` (a JSON array), `preprocessing`
 * (JSON: inputSize, mean, std, layout NHWC), `output`, `network`, `tlr`.
 */
export function exportOnnx(m: SavedModel, opts: { softmax?: boolean } = {}): Uint8Array {
  return toOnnx(savedProgram(m.model, m.meta), onnxOptions(m.meta, !!opts.softmax));
}

/**
 * How a model goes to ONNX: with `probabilities` asked of a model that outputs logits, its task's activation on top
 * (softmax, or a sigmoid per label); the metadata says what the output is.
 */
export const onnxOptions = (meta: ModelMeta, probabilities: boolean): OnnxOptions => {
  const add = probabilities && meta.output === 'logits',
    multi = meta.task === 'multi-label';
  return { softmax: add && !multi, sigmoid: add && multi, metadata: onnxMetadata(meta, probabilities) };
};

/** What an exported ONNX file carries about itself: labels, preprocessing, output kind, network, tlr's version. */
export function onnxMetadata(meta: ModelMeta, softmax: boolean): Record<string, string> {
  const pre = meta.preprocessing,
    resize = resizerOf(pre);
  return {
    labels: JSON.stringify(meta.labels),
    preprocessing: JSON.stringify({
      inputSize: pre.inputSize,
      mean: pre.mean,
      std: pre.std,
      scale: '1/255',
      layout: 'NHWC',
      channels: 'RGB',
      description: pre.description,
      resize,
      resizeDefinition: resizeDefinition(resize),
    }),
    output: meta.output === 'probabilities' || softmax ? 'probabilities' : 'logits',
    // Multi-label: the output is one score per label (sigmoid it unless `probabilities`); a label is predicted when
    // its probability reaches its threshold.
    ...(meta.task === 'multi-label' ? { task: 'multi-label', thresholds: JSON.stringify(labelThresholds(meta)) } : {}),
    network: JSON.stringify(meta.network),
    tlr: TLR_VERSION,
  };
}

/**
 * The model folder (TF.js layers format, labels, preprocessing) at `out`, atomically: a copy, or
 * with `softmax` the model with a softmax layer on top (preprocessing.json then says
 * "probabilities"), so a browser page needs no softmax of its own.
 */
export async function exportTfjs(m: SavedModel, out: string, opts: { softmax?: boolean } = {}): Promise<void> {
  const probs = !!opts.softmax && m.meta.output === 'logits';
  // A TF.js folder as it is is copied; a torch engine's model (safetensors) is written out as the TF.js layers folder
  // it loads as.
  if (!probs && !isTorchModelDir(m.dir)) {
    await copyDirAtomic(m.dir, out, MODEL_MARKER);
    return;
  }
  const model = probs
    ? tf.model({
        inputs: m.model.inputs,
        outputs: (m.meta.task === 'multi-label'
          ? tf.layers.activation({ activation: 'sigmoid', name: 'probabilities' })
          : tf.layers.softmax({ name: 'probabilities' })
        ).apply(m.model.outputs[0]!) as tf.SymbolicTensor,
        name: m.model.name,
      })
    : m.model;
  await saveModel(model, out, { ...m.meta, output: probs ? 'probabilities' : m.meta.output });
}
