import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describe as model, FAMILIES, graphOf, CatalogError } from '../../src/zoo/catalog.js';
import { graphWeights } from '../../src/zoo/weight-names.js';
import { hasShared, SHARED, SKIP_SHARED } from '../helpers/shared.js';

// Parameter counts as torchvision counts them (BatchNorm running statistics are buffers). The
// torchvision figures are from its documentation; the Keras ones are Keras' totals less the
// BatchNorm statistics Keras counts as non-trainable parameters.
const TORCHVISION: Record<string, number> = {
  alexnet: 61_100_840,
  vgg16: 138_357_544,
  vgg19: 143_667_240,
  resnet18: 11_689_512,
  resnet34: 21_797_672,
  resnet50: 25_557_032,
  resnet101: 44_549_160,
  resnet152: 60_192_808,
  densenet121: 7_978_856,
  densenet161: 28_681_000,
  densenet169: 14_149_480,
  inception_v3: 27_161_264,
};
// Keras' documented totals (model.summary()) less its non-trainable BatchNorm statistics.
const KERAS: Record<string, number> = {
  'mobilenet_v1@1': 4_253_864 - 21_888,
  'mobilenet_v2@1': 3_538_984 - 34_112,
  'mobilenet_v2@1.4': 6_156_712 - 47_936,
};

describe('zoo catalog', () => {
  for (const [name, n] of Object.entries(TORCHVISION)) {
    it(`${name} has torchvision's ${n.toLocaleString('en')} parameters`, () => {
      expect(model(name).imagenetParams).toBe(n);
    });
  }
  for (const [key, n] of Object.entries(KERAS)) {
    const [name, w] = key.split('@') as [string, string];
    it(`${name} width ${w} has Keras' ${n.toLocaleString('en')} trainable parameters`, () => {
      expect(model(name, Number(w)).imagenetParams).toBe(n);
    });
  }

  it('every network and width builds, with contiguous blocks and a vector feature layer', () => {
    for (const f of FAMILIES)
      for (const w of f.widths ?? [null]) {
        const m = model(f.name, w);
        expect(m.layers[m.layers.length - 1]!.name).toBe(f.featureLayer);
        expect(m.layers[m.layers.length - 1]!.shape).toHaveLength(1);
        let next = 0;
        for (const b of m.blocks) {
          expect(b.first).toBe(next);
          next = b.last + 1;
        }
        expect(next).toBe(m.layers.length);
        expect(new Set(m.layers.map((l) => l.name)).size).toBe(m.layers.length);
      }
  });

  it("the backbone excludes the ImageNet classifier and Inception's auxiliary head", () => {
    const inc = model('inception_v3');
    expect(inc.layers.some((l) => l.name.startsWith('AuxLogits'))).toBe(false);
    expect(inc.layers.some((l) => l.name === 'fc')).toBe(false);
    expect(model('vgg16').layers.map((l) => l.name)).toContain('classifier.3');
    expect(model('vgg16').featureSize).toBe(4096);
  });

  it('spatial shapes follow torchvision (ceil/floor, padding)', () => {
    const r = model('resnet50');
    expect(r.layers.find((l) => l.name === 'layer4.2.relu')!.shape).toEqual([7, 7, 2048]);
    expect(model('inception_v3').layers.find((l) => l.name === 'Mixed_7c.concat')!.shape).toEqual([8, 8, 2048]);
    expect(model('alexnet').layers.find((l) => l.name === 'features.12')!.shape).toEqual([6, 6, 256]);
    expect(model('densenet121').layers.find((l) => l.name === 'features.norm5')!.shape).toEqual([7, 7, 1024]);
  });

  it('rejects an input too small and an unknown width', () => {
    expect(() => model('inception_v3', null, 32)).toThrow(CatalogError);
    expect(() => model('mobilenet_v1', 0.3)).toThrow(/no width/);
    expect(() => model('resnet18', 0.5)).toThrow(/no width multiplier/);
  });
});

describe.skipIf(!hasShared)(
  `zoo MobileNets against the real weights in ../shared (${hasShared ? 'found' : SKIP_SHARED})`,
  () => {
    const manifest = (dir: string) => {
      const m = JSON.parse(fs.readFileSync(path.join(SHARED, 'weights', dir, 'model.json'), 'utf8'));
      return new Map<string, number[]>(
        m.weightsManifest.flatMap((g: { weights: { name: string; shape: number[] }[] }) =>
          g.weights.map((w) => [w.name, w.shape]),
        ),
      );
    };
    const ours = (name: string, width: number) => {
      const ws = graphWeights(graphOf(name, width, 224));
      // Keras' conv_preds is a 1x1 conv; the zoo holds it as dense with the same numbers.
      return new Map(
        ws.map((w) => [w.name, w.name.startsWith('conv_preds/kernel') ? [1, 1, ...w.shape] : [...w.shape]]),
      );
    };

    it('mobilenet_v1 0.25: every weight of the TF.js model has a layer of the same name and shape', () => {
      const theirs = manifest('mobilenet_v1_0.25_224'),
        mine = ours('mobilenet_v1', 0.25);
      expect([...theirs.keys()].sort()).toEqual([...mine.keys()].sort());
      for (const [n, s] of theirs) expect(mine.get(n), n).toEqual(s);
    });

    it('mobilenet_v2 0.35 (no top): every weight matches, and nothing of the backbone is missing', () => {
      const theirs = manifest('mobilenet_v2_0.35_224_no_top'),
        mine = ours('mobilenet_v2', 0.35);
      for (const [n, s] of theirs) expect(mine.get(n), n).toEqual(s);
      const backbone = [...mine.keys()].filter((n) => !n.startsWith('predictions/'));
      expect(backbone.sort()).toEqual([...theirs.keys()].sort());
    });

    it('parameter counts equal the sums over the real weight files', () => {
      const sum = (m: Map<string, number[]>) =>
        [...m]
          .filter(([n]) => !/moving_(mean|variance)$/.test(n))
          .reduce((t, [, s]) => t + s.reduce((a, b) => a * b, 1), 0);
      expect(model('mobilenet_v1', 0.25).imagenetParams).toBe(sum(manifest('mobilenet_v1_0.25_224')));
      expect(model('mobilenet_v2', 0.35).backboneParams).toBe(sum(manifest('mobilenet_v2_0.35_224_no_top')));
    });

    it('mobilenet_v1 1.0 cut at conv_pw_12: every weight matches', () => {
      const theirs = manifest('mobilenet_v1_1.0_224_to_conv_pw_12'),
        mine = ours('mobilenet_v1', 1);
      for (const [n, s] of theirs) expect(mine.get(n), n).toEqual(s);
    });
  },
);
