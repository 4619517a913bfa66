// The one place that imports TensorFlow.js, so that nothing else decides how it is loaded.
import * as tf from '@tensorflow/tfjs';

// tfjs prints a banner about tfjs-node on first use of the cpu backend; tlr reports backends itself.
tf.env().set('PROD', true);

export { tf };
export type Tensor = import('@tensorflow/tfjs').Tensor;
