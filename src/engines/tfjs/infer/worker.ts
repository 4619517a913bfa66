import { parentPort, workerData } from 'node:worker_threads';
import { tf } from '../tf.js';
import { chooseBackend } from '../backend.js';
import { Runner } from './execute.js';
import type { Request, Reply } from './messages.js';

// One inference worker: its own TensorFlow.js and wasm instance, running whole batches of the
// program it was last sent, one at a time.

const port = parentPort!;
let runner: Runner | null = null;
const ready = chooseBackend((workerData as { backend: string }).backend);

port.on('message', async (m: Request) => {
  let reply: Reply;
  try {
    await ready;
    if (m.type === 'load') {
      runner?.dispose();
      runner = new Runner(m.program);
      reply = { type: 'loaded', id: m.id };
    } else {
      if (!runner) throw new Error('no program loaded');
      const x = tf.tensor(m.x, [...m.shape]);
      const y = runner.run(x);
      // A copy, so the buffer handed over never belongs to the backend (the cpu backend's data() is its own storage).
      const data = ((await y.data()) as Float32Array).slice();
      reply = { type: 'result', id: m.id, y: data, shape: y.shape };
      tf.dispose([x, y]);
      port.postMessage(reply, [data.buffer as ArrayBuffer]);
      return;
    }
  } catch (e) {
    reply = { type: 'error', id: m.id, message: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(reply);
});
