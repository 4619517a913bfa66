import { tf } from '../tf.js';

// Kernels written with tf ops: taking the engine's inputs as tensors and handing a result back as
// a kernel output, with the reference counts right so nothing leaks or is freed early.

export type Info = tf.TensorInfo;
export interface KernelArgs {
  inputs: Record<string, Info>;
  backend: tf.KernelBackend;
  attrs: Record<string, unknown>;
}

const incRef = (backend: tf.KernelBackend, id: object) =>
  (backend as unknown as { incRef(id: object): void }).incRef(id);

/** A tensor view of a kernel input; it holds its own reference, so disposing it frees nothing else. */
export function asTensor(backend: tf.KernelBackend, t: Info): tf.Tensor {
  incRef(backend, t.dataId);
  return tf.engine().makeTensorFromTensorInfo(t);
}

/** Hands a result computed with tf ops to the engine as a kernel output, without a leak. */
export function output(backend: tf.KernelBackend, t: tf.Tensor): Info {
  incRef(backend, t.dataId);
  const info = { dataId: t.dataId, shape: t.shape, dtype: t.dtype };
  t.dispose();
  return info;
}
