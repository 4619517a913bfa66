import { tf } from './tf.js';
import type { Servable } from '../types.js';
import { engineFor, probabilitiesOf, type SavedModel } from './saved-model.js';
import { labelThresholds } from './model-files.js';

// A saved model kept ready for `tlr serve`: the engine predict uses (the compiled program on ONNX Runtime, or
// TensorFlow.js), opened once for every request the server batches.

/** The model behind a server: batches of preprocessed images to probabilities. */
export async function servable(m: SavedModel, maxBatch: number): Promise<Servable> {
  const size = m.meta.preprocessing.inputSize,
    labels = m.meta.labels.length,
    per = size * size * 3;
  // As many images as a long pass: ONNX Runtime, or TensorFlow.js with its worker threads.
  const engine = await engineFor(m, Number.MAX_SAFE_INTEGER, maxBatch);
  const multi = m.meta.task === 'multi-label';
  const part = async (x: Float32Array, n: number): Promise<Float32Array> => {
    const input = tf.tensor4d(x, [n, size, size, 3]);
    const y = await engine.run(input);
    const p = probabilitiesOf(m.meta, y);
    const out = (await p.data()) as Float32Array;
    tf.dispose([input, y, p]);
    return out;
  };
  return {
    labels: m.meta.labels,
    inputSize: size,
    preprocessing: m.meta.preprocessing,
    task: multi ? 'multi-label' : 'single-label',
    thresholds: labelThresholds(m.meta),
    engine: engine.label,
    async run(x, n) {
      if (n <= maxBatch) return part(x, n);
      const out = new Float32Array(n * labels);
      for (let i = 0; i < n; i += maxBatch) {
        const k = Math.min(maxBatch, n - i);
        out.set(await part(x.subarray(i * per, (i + k) * per), k), i * labels);
      }
      return out;
    },
    close: () => engine.close(),
  };
}
