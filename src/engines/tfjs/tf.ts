// The one place that imports TensorFlow.js, so that nothing else decides how it is loaded.
import * as tf from '@tensorflow/tfjs';

// tfjs prints a banner about tfjs-node on first use of the cpu backend; tlr reports backends itself.
tf.env().set('PROD', true);

export { tf };

// The Float32Array a batch tensor was made from. An engine outside TensorFlow.js (ONNX Runtime)
// reads it instead of copying the tensor back out of the backend: tensors are immutable, and the
// array is never written after the tensor is made.
const host = new WeakMap<tf.Tensor, Float32Array>();

/** A float32 tensor made from `data`, which an engine outside TensorFlow.js may read as it is. */
export function hostTensor(data: Float32Array, shape: number[]): tf.Tensor {
  const t = tf.tensor(data, shape, 'float32');
  host.set(t, data);
  return t;
}

/** The tensor's values: the array it was made from when there is one, else a copy from the backend. */
export const valuesOf = (t: tf.Tensor): Float32Array => host.get(t) ?? (t.dataSync() as Float32Array);
export type Tensor = import('@tensorflow/tfjs').Tensor;
