import { describe, expect, it } from 'vitest';
import { describe as modelInfo, FAMILIES } from '../../src/zoo/catalog.js';
import { isWeightedOp, OPS, opDef } from '../../src/zoo/ops/index.js';

// The op registry is complete: every op kind any zoo network uses has every facet, and the
// torchvision facet names every weight of the ops that torchvision-layout networks hold.

const graphs = FAMILIES.flatMap((f) =>
  (f.widths ?? [null]).map((w) => ({ family: f, graph: f.build(w ?? 1, f.inputSize) })),
);

describe('op registry', () => {
  const used = new Map<string, Set<string>>();
  for (const { family, graph } of graphs)
    for (const n of graph.nodes) {
      if (!used.has(n.op.kind)) used.set(n.op.kind, new Set());
      used.get(n.op.kind)!.add(family.layout);
    }

  it('knows every op kind the zoo uses, and each of its entries is filed under its own kind', () => {
    for (const kind of used.keys()) if (kind !== 'input') expect(OPS, kind).toHaveProperty(kind);
    for (const [kind, def] of Object.entries(OPS)) expect(def.kind).toBe(kind);
  });

  // Every facet of a row is required by the registry's type; what can still go wrong is a row no network uses.
  it('has no row that no network of the zoo uses', () => {
    expect(Object.keys(OPS).filter((k) => !used.has(k))).toEqual([]);
  });

  it('the ops with weights (what `freeze first N layers` counts) are the rows marked weighted, as networks show', () => {
    const weighted = Object.keys(OPS).filter(isWeightedOp).sort();
    expect(weighted).toEqual(['bn', 'conv', 'dense', 'depthwise']);
    // Every op whose weights() lists weights on a real network is counted, and no other.
    for (const name of ['resnet18', 'mobilenet_v2', 'densenet121', 'vgg16']) {
      const info = modelInfo(name, null, 224);
      for (const l of info.layers) expect(isWeightedOp(l.kind), `${name} ${l.name}`).toBe(l.params > 0);
    }
  });

  it('the torchvision facet names every weight of ops in torchvision-layout networks', () => {
    for (const { family, graph } of graphs) {
      if (family.layout !== 'torchvision') continue;
      const byName = new Map(graph.nodes.map((n) => [n.name, n]));
      for (const n of graph.nodes) {
        if (n.op.kind === 'input') continue;
        const def = opDef(n.op);
        const suffixes = new Set(Object.values(def.torchvision).map((p) => p.suffix));
        for (const w of def.weights(
          n.op,
          n.inputs.map((i) => byName.get(i)!.shape),
          n.shape,
        )) {
          expect(
            suffixes.has(w.suffix),
            `${family.name} ${n.name}: ${n.op.kind} has no torchvision name for ${w.suffix}`,
          ).toBe(true);
        }
      }
    }
  });
});
