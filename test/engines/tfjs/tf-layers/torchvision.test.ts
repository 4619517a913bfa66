import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../../src/engines/tfjs/tf.js';
import { buildModel } from '../../../../src/engines/tfjs/tf-layers/model.js';
import { writeSafetensors } from '../../../../src/runtime/weights/safetensors.js';
import { describe as catalog } from '../../../../src/zoo/catalog.js';
import type { RawTensor } from '../../../../src/runtime/weights/tensors.js';
import { value, type Kind } from '../../../helpers/deterministic.js';
import { useBackend } from '../../../helpers/backend.js';
import { HEAVY, SKIP_HEAVY } from '../../../helpers/heavy.js';

// The zoo against torchvision itself: same weights (a torchvision state_dict, as safetensors), same
// input, same logits to float32 tolerance. Fixtures come from scripts/torchvision-fixtures.py.

const FIX = path.resolve(__dirname, '../../../fixtures/torchvision');
interface Fixture {
  network: string;
  inputSize: number;
  params: number;
  state: [string, number[]][];
  logits: number[][];
}

const BN_PARAM: Record<string, Kind> = { weight: 'gamma', bias: 'bias', running_mean: 'mean', running_var: 'var' };

/** The state_dict the fixture was made with, rebuilt from torchvision's own keys and shapes. */
function stateDict(f: Fixture): Map<string, RawTensor> {
  const bn = new Set(f.state.filter(([k]) => k.endsWith('.running_mean')).map(([k]) => k.slice(0, k.lastIndexOf('.'))));
  return new Map(
    f.state.map(([key, shape]) => {
      const layer = key.slice(0, key.lastIndexOf('.')),
        param = key.slice(key.lastIndexOf('.') + 1);
      const kind: Kind = bn.has(layer) ? BN_PARAM[param]! : param === 'weight' ? 'weight' : 'bias';
      return [key, { shape, data: value(key, shape, kind) }];
    }),
  );
}

let dir: string;
beforeAll(async () => {
  await useBackend();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-tv-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('zoo networks equal torchvision', () => {
  for (const file of fs
    .readdirSync(FIX)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const f = JSON.parse(fs.readFileSync(path.join(FIX, file), 'utf8')) as Fixture;
    const heavy = f.params > 20e6 && !HEAVY;
    it.skipIf(heavy)(
      `${f.network} at ${f.inputSize}x${f.inputSize}: same parameter count and logits as torchvision${heavy ? ` (${SKIP_HEAVY})` : ''}`,
      async () => {
        expect(catalog(f.network).imagenetParams).toBe(f.params);

        const weights = path.join(dir, `${f.network}.safetensors`);
        fs.writeFileSync(weights, writeSafetensors(stateDict(f)));
        const before = tf.memory().numTensors;
        const model = await buildModel(f.network, { weights, inputSize: f.inputSize, includeTop: true });
        fs.rmSync(weights);
        const s = f.inputSize;
        const x = tf.tensor4d(value('input', [2, s, s, 3], 'input'), [2, s, s, 3]);
        const y = model.predict(x) as tf.Tensor;
        const got = (await y.array()) as number[][];
        tf.dispose([x, y]);
        model.dispose();
        expect(tf.memory().numTensors).toBe(before);
        const scale = Math.max(...f.logits.flat().map(Math.abs));
        let worst = 0;
        got.forEach((row, i) => {
          row.forEach((v, j) => {
            worst = Math.max(worst, Math.abs(v - f.logits[i]![j]!));
          });
        });
        expect(worst / scale, `largest difference ${worst} for logits up to ${scale}`).toBeLessThan(1e-4);
        // And the same winner for each input.
        got.forEach((row, i) => {
          expect(row.indexOf(Math.max(...row))).toBe(f.logits[i]!.indexOf(Math.max(...f.logits[i]!)));
        });
      },
    );
  }
});
