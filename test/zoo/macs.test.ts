import { describe as describeNet, graphOf } from '../../src/zoo/catalog.js';
import { expect, it } from 'vitest';
import { OPS } from '../../src/zoo/ops/index.js';

// Multiply-accumulates from the zoo's graphs against torchvision's published figures (its model
// tables' "GFLOPS" column, which counts one multiply-add as one operation), at 224×224 (299 for
// Inception), the whole ImageNet network. Within 5%.

const PUBLISHED: [string, number, number][] = [
  ['alexnet', 224, 0.71],
  ['vgg16', 224, 15.47],
  ['resnet18', 224, 1.81],
  ['resnet50', 224, 4.09],
  ['resnet152', 224, 11.51],
  ['densenet121', 224, 2.83],
  ['densenet161', 224, 7.73],
  ['inception_v3', 299, 5.71],
  ['mobilenet_v2', 224, 0.3],
];

it.each(PUBLISHED)('%s at %i: %f GMAC as torchvision publishes, within 5%%', (name, size, giga) => {
  const macs = graphOf(name, null, size).nodes.reduce((t, n) => t + n.macs, 0);
  expect(Math.abs(macs / 1e9 - giga) / giga).toBeLessThan(0.05);
});

it("MobileNet V1 1.0: 569 M multiply-adds, the paper's figure", () => {
  const macs = graphOf('mobilenet_v1', 1, 224).nodes.reduce((t, n) => t + n.macs, 0);
  expect(Math.abs(macs / 1e6 - 569) / 569).toBeLessThan(0.05);
});

it('the catalog carries each layer’s MACs, and they scale with the input area', () => {
  const a = describeNet('resnet18', null, 224).layers.reduce((t, l) => t + l.macs, 0);
  const b = describeNet('resnet18', null, 112).layers.reduce((t, l) => t + l.macs, 0);
  expect(b / a).toBeGreaterThan(0.24);
  expect(b / a).toBeLessThan(0.27);
});

it('a convolution counts output positions × filters × kernel × input channels; a depthwise one no filters', () => {
  const conv = { kind: 'conv', filters: 8, kernel: [3, 3], strides: [1, 1], padding: 'same', bias: true } as const;
  expect(OPS.conv.macs(conv, [[8, 8, 4]], [8, 8, 8])).toBe(8 * 8 * 8 * 9 * 4);
  const dw = { kind: 'depthwise', kernel: [3, 3], strides: [2, 2], padding: 'same', bias: false } as const;
  expect(OPS.depthwise.macs(dw, [[8, 8, 4]], [4, 4, 4])).toBe(4 * 4 * 4 * 9);
  expect(OPS.dense.macs({ kind: 'dense', units: 10, bias: true }, [[256]], [10])).toBe(2560);
  expect(OPS.bn.macs({ kind: 'bn', epsilon: 1e-3, momentum: 0.99 }, [[8, 8, 4]], [8, 8, 4])).toBe(0);
});
