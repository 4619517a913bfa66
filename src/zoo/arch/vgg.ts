import { GraphBuilder, type Graph } from '../graph.js';

// torchvision VGG without batch norm, and AlexNet. Conv stages are block1..block5, each ending in
// its max pool; fc6 and fc7 form the `fc` block; classifier.6 is the ImageNet classifier.
const CFG: Record<string, number[]> = {
  vgg16: [2, 2, 3, 3, 3],
  vgg19: [2, 2, 4, 4, 4],
};
export const VGGS = Object.keys(CFG);

/** torchvision's VGG16 or VGG19 (no batch norm) at `inputSize`. */
export function vgg(name: string, inputSize: number): Graph {
  const g = new GraphBuilder(inputSize);
  let x = 'input',
    i = 0;
  CFG[name]!.forEach((n, b) => {
    g.block = `block${b + 1}`;
    const filters = Math.min(64 * 2 ** b, 512);
    for (let k = 0; k < n; k++) {
      x = g.conv(`features.${i++}`, x, filters, { kernel: 3, padding: 1 });
      x = g.relu(`features.${i++}`, x);
    }
    x = g.maxpool(`features.${i++}`, x, 2, 2);
  });
  return classifier(g, x, 7);
}

/** torchvision's AlexNet at `inputSize`. */
export function alexnet(_name: string, inputSize: number): Graph {
  const g = new GraphBuilder(inputSize);
  const stages: [number, number, number, number, boolean][] = [
    // filters, kernel, stride, padding, followed by max pool
    [64, 11, 4, 2, true],
    [192, 5, 1, 2, true],
    [384, 3, 1, 1, false],
    [256, 3, 1, 1, false],
    [256, 3, 1, 1, true],
  ];
  let x = 'input',
    i = 0;
  stages.forEach(([f, k, s, p, pool], b) => {
    g.block = `block${b + 1}`;
    x = g.conv(`features.${i++}`, x, f, { kernel: k, strides: s, padding: p });
    x = g.relu(`features.${i++}`, x);
    if (pool) x = g.maxpool(`features.${i++}`, x, 3, 2);
  });
  return classifier(g, x, 6, true);
}

/** avgpool + fc6/fc7 (+ ReLU, dropout) + classifier. AlexNet puts dropout before each fc. */
function classifier(g: GraphBuilder, x: string, pool: number, dropoutFirst = false): Graph {
  g.block = 'fc';
  x = g.adaptiveAvg('avgpool', x, pool);
  x = g.flatten('flatten', x, 'chw');
  const names = dropoutFirst
    ? ['classifier.0', 'classifier.1', 'classifier.2', 'classifier.3', 'classifier.4', 'classifier.5']
    : ['classifier.2', 'classifier.0', 'classifier.1', 'classifier.5', 'classifier.3', 'classifier.4'];
  // names: [dropout, linear, relu] twice, in torchvision's index order for each variant.
  for (let k = 0; k < 2; k++) {
    const [drop, fc, relu] = names.slice(k * 3, k * 3 + 3) as [string, string, string];
    if (dropoutFirst) x = g.dropout(drop, x, 0.5);
    x = g.relu(relu, g.dense(fc, x, 4096));
    if (!dropoutFirst) x = g.dropout(drop, x, 0.5);
  }
  g.block = 'classifier';
  x = g.dense('classifier.6', x, 1000);
  return g.build(x);
}
