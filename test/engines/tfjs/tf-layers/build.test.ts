import { beforeAll, describe, expect, it } from 'vitest';
import { loadZooModel } from '../../../../src/engines/tfjs/tf-layers/model.js';
import { makeWorld } from '../../../helpers/run-fixture.js';
import { useBackend } from '../../../helpers/backend.js';

const momenta = (m: { layers: { getClassName(): string; getConfig(): Record<string, unknown> }[] }) =>
  new Set(m.layers.filter((l) => l.getClassName() === 'BatchNormalization').map((l) => l.getConfig()['momentum']));

beforeAll(() => useBackend());

describe('zoo BatchNorm momentum', () => {
  it("keeps Keras' 0.99 for pretrained MobileNets and uses PyTorch's 0.9 from scratch", async () => {
    const w = makeWorld({ perClass: 1 });
    const pre = await loadZooModel('mobilenet_v1', { width: 0.25, inputSize: 32, weights: w.weights });
    const none = await loadZooModel('mobilenet_v1', { width: 0.25, inputSize: 32, weights: 'none' });
    expect(momenta(pre.model)).toEqual(new Set([0.99]));
    expect(momenta(none.model)).toEqual(new Set([0.9]));
    pre.model.dispose();
    none.model.dispose();
  });
});
