import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { graphWeights } from '../../src/zoo/weight-names.js';
import { graphOf } from '../../src/zoo/catalog.js';
import { uniform } from './deterministic.js';

// A tiny world for runtime tests: a few real images per class (from the quickstart set) and a
// MobileNet V1 0.25 with deterministic weights as a TF.js model, so no download is involved.

const CLOTHES = path.resolve(__dirname, '../../recipes/quickstart/clothes');

export function makeWorld(opts: { perClass?: number; classes?: string[] } = {}): { dir: string; weights: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-run-'));
  const classes = opts.classes ?? ['bag', 'trouser', 'tshirt'];
  for (const c of classes) {
    fs.mkdirSync(path.join(dir, 'data', c), { recursive: true });
    const files = fs
      .readdirSync(path.join(CLOTHES, c))
      .sort()
      .slice(0, opts.perClass ?? 12);
    for (const f of files) fs.copyFileSync(path.join(CLOTHES, c, f), path.join(dir, 'data', c, f));
  }
  const ws = graphWeights(graphOf('mobilenet_v1', 0.25, 224));
  const tensors = ws.map((w) => {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const u = uniform(w.name, n);
    const v = new Float32Array(n);
    const last = w.name.split('/')[1];
    for (let i = 0; i < n; i++)
      v[i] =
        last === 'moving_variance' || last === 'gamma'
          ? 1 + u[i]! * 0.1
          : last === 'kernel' || last === 'depthwise_kernel'
            ? u[i]! * Math.sqrt(6 / (n / w.shape[w.shape.length - 1]!))
            : u[i]! * 0.05;
    return v;
  });
  fs.mkdirSync(path.join(dir, 'mobilenet'));
  fs.writeFileSync(path.join(dir, 'mobilenet/weights.bin'), Buffer.concat(tensors.map((t) => Buffer.from(t.buffer))));
  fs.writeFileSync(
    path.join(dir, 'mobilenet/model.json'),
    JSON.stringify({
      weightsManifest: [
        { paths: ['weights.bin'], weights: ws.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })) },
      ],
    }),
  );
  return { dir, weights: path.join(dir, 'mobilenet/model.json') };
}

export const recipe = (dir: string, text: string): string => {
  const f = path.join(dir, 'recipe.tlr');
  fs.writeFileSync(f, text);
  return f;
};
