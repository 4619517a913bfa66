import { GraphBuilder, type Graph } from '../graph.js';

// torchvision DenseNet. Blocks: stem (conv0..pool0), block1..block4, each followed by its transition
// (block4 by norm5 and the final ReLU), then the global pool and the classifier.
// Momentum in Keras terms: PyTorch's 0.1 is 0.9 here.
const EPS = 1e-5,
  MOM = 0.9,
  BN_SIZE = 4;
const CFG: Record<string, [growth: number, blocks: number[], init: number]> = {
  densenet121: [32, [6, 12, 24, 16], 64],
  densenet161: [48, [6, 12, 36, 24], 96],
  densenet169: [32, [6, 12, 32, 32], 64],
};
export const DENSENETS = Object.keys(CFG);

/** torchvision's DenseNet named `name` at `inputSize`. */
export function densenet(name: string, inputSize: number): Graph {
  const [growth, blocks, init] = CFG[name]!;
  const g = new GraphBuilder(inputSize);
  g.block = 'stem';
  let x = g.conv('features.conv0', 'input', init, { kernel: 7, strides: 2, padding: 3, bias: false });
  x = g.relu('features.relu0', g.bn('features.norm0', x, EPS, MOM));
  x = g.maxpool('features.pool0', x, 3, 2, 1);
  let channels = init;
  blocks.forEach((n, i) => {
    g.block = `block${i + 1}`;
    const b = `features.denseblock${i + 1}`;
    for (let j = 1; j <= n; j++) {
      const p = `${b}.denselayer${j}`;
      let y = g.relu(`${p}.relu1`, g.bn(`${p}.norm1`, x, EPS, MOM));
      y = g.conv(`${p}.conv1`, y, BN_SIZE * growth, { kernel: 1, bias: false });
      y = g.relu(`${p}.relu2`, g.bn(`${p}.norm2`, y, EPS, MOM));
      y = g.conv(`${p}.conv2`, y, growth, { kernel: 3, padding: 1, bias: false });
      x = g.concat(`${p}.concat`, [x, y]);
      channels += growth;
    }
    if (i < blocks.length - 1) {
      const t = `features.transition${i + 1}`;
      x = g.relu(`${t}.relu`, g.bn(`${t}.norm`, x, EPS, MOM));
      channels = Math.floor(channels / 2);
      x = g.conv(`${t}.conv`, x, channels, { kernel: 1, bias: false });
      x = g.avgpool(`${t}.pool`, x, 2, 2);
    } else {
      x = g.relu('features.relu5', g.bn('features.norm5', x, EPS, MOM));
    }
  });
  g.block = 'pool';
  x = g.gap('avgpool', x);
  g.block = 'classifier';
  x = g.dense('classifier', x, 1000);
  return g.build(x);
}
