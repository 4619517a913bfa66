import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../src/engines/tfjs/tf.js';

/** Tests run on the wasm backend when it loads (as runs do here), else on cpu. */
export async function useBackend(name = process.env['TLR_TEST_BACKEND'] ?? 'wasm'): Promise<string> {
  if (!(await tf.setBackend(name))) await tf.setBackend('cpu');
  await tf.ready();
  return tf.getBackend();
}
