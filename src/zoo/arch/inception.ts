import { GraphBuilder, type Graph, type Pair } from '../graph.js';

// torchvision Inception v3 (BasicConv2d = conv without bias + BatchNorm eps 1e-3 + ReLU). Blocks:
// stem (Conv2d_1a .. maxpool2), each Mixed_* module, AuxLogits (training only), pool, classifier.
// The pooling branches use avg_pool2d with PyTorch's count_include_pad default.
// Momentum in Keras terms: PyTorch's 0.1 is 0.9 here.
const EPS = 1e-3,
  MOM = 0.9;

/** What every module is built from: the graph, BasicConv2d, and the pooling branch. */
interface Kit {
  readonly g: GraphBuilder;
  readonly bc: (name: string, x: string, f: number, k: number | Pair, s?: number, p?: number | Pair) => string;
  readonly poolBranch: (m: string, x: string, f: number) => string;
}

function mixedA(k: Kit, m: string, x: string, pf: number): string {
  const { g, bc } = k;
  g.block = m;
  const b1 = bc(`${m}.branch1x1`, x, 64, 1);
  const b5 = bc(`${m}.branch5x5_2`, bc(`${m}.branch5x5_1`, x, 48, 1), 64, 5, 1, 2);
  let b3 = bc(`${m}.branch3x3dbl_1`, x, 64, 1);
  b3 = bc(`${m}.branch3x3dbl_3`, bc(`${m}.branch3x3dbl_2`, b3, 96, 3, 1, 1), 96, 3, 1, 1);
  return g.concat(`${m}.concat`, [b1, b5, b3, k.poolBranch(m, x, pf)]);
}

function mixedB(k: Kit, m: string, x: string): string {
  const { g, bc } = k;
  g.block = m;
  const b3 = bc(`${m}.branch3x3`, x, 384, 3, 2);
  let bd = bc(`${m}.branch3x3dbl_1`, x, 64, 1);
  bd = bc(`${m}.branch3x3dbl_3`, bc(`${m}.branch3x3dbl_2`, bd, 96, 3, 1, 1), 96, 3, 2);
  return g.concat(`${m}.concat`, [b3, bd, g.maxpool(`${m}.max_pool`, x, 3, 2)]);
}

function mixedC(k: Kit, m: string, x: string, c7: number): string {
  const { g, bc } = k;
  g.block = m;
  const b1 = bc(`${m}.branch1x1`, x, 192, 1);
  let b7 = bc(`${m}.branch7x7_1`, x, c7, 1);
  b7 = bc(`${m}.branch7x7_2`, b7, c7, [1, 7], 1, [0, 3]);
  b7 = bc(`${m}.branch7x7_3`, b7, 192, [7, 1], 1, [3, 0]);
  let bd = bc(`${m}.branch7x7dbl_1`, x, c7, 1);
  bd = bc(`${m}.branch7x7dbl_2`, bd, c7, [7, 1], 1, [3, 0]);
  bd = bc(`${m}.branch7x7dbl_3`, bd, c7, [1, 7], 1, [0, 3]);
  bd = bc(`${m}.branch7x7dbl_4`, bd, c7, [7, 1], 1, [3, 0]);
  bd = bc(`${m}.branch7x7dbl_5`, bd, 192, [1, 7], 1, [0, 3]);
  return g.concat(`${m}.concat`, [b1, b7, bd, k.poolBranch(m, x, 192)]);
}

function mixedD(k: Kit, m: string, x: string): string {
  const { g, bc } = k;
  g.block = m;
  const b3 = bc(`${m}.branch3x3_2`, bc(`${m}.branch3x3_1`, x, 192, 1), 320, 3, 2);
  let b7 = bc(`${m}.branch7x7x3_1`, x, 192, 1);
  b7 = bc(`${m}.branch7x7x3_2`, b7, 192, [1, 7], 1, [0, 3]);
  b7 = bc(`${m}.branch7x7x3_3`, b7, 192, [7, 1], 1, [3, 0]);
  b7 = bc(`${m}.branch7x7x3_4`, b7, 192, 3, 2);
  return g.concat(`${m}.concat`, [b3, b7, g.maxpool(`${m}.max_pool`, x, 3, 2)]);
}

function mixedE(k: Kit, m: string, x: string): string {
  const { g, bc } = k;
  g.block = m;
  const b1 = bc(`${m}.branch1x1`, x, 320, 1);
  const b3 = bc(`${m}.branch3x3_1`, x, 384, 1);
  const b3cat = g.concat(`${m}.branch3x3_concat`, [
    bc(`${m}.branch3x3_2a`, b3, 384, [1, 3], 1, [0, 1]),
    bc(`${m}.branch3x3_2b`, b3, 384, [3, 1], 1, [1, 0]),
  ]);
  let bd = bc(`${m}.branch3x3dbl_1`, x, 448, 1);
  bd = bc(`${m}.branch3x3dbl_2`, bd, 384, 3, 1, 1);
  const bdcat = g.concat(`${m}.branch3x3dbl_concat`, [
    bc(`${m}.branch3x3dbl_3a`, bd, 384, [1, 3], 1, [0, 1]),
    bc(`${m}.branch3x3dbl_3b`, bd, 384, [3, 1], 1, [1, 0]),
  ]);
  return g.concat(`${m}.concat`, [b1, b3cat, bdcat, k.poolBranch(m, x, 192)]);
}

/** torchvision's Inception v3 at `inputSize`, with its auxiliary classifier. */
export function inceptionV3(_name: string, inputSize: number): Graph {
  const g = new GraphBuilder(inputSize);
  const bc = (name: string, x: string, f: number, k: number | Pair, s = 1, p: number | Pair = 0) =>
    g.relu(
      `${name}.relu`,
      g.bn(`${name}.bn`, g.conv(`${name}.conv`, x, f, { kernel: k, strides: s, padding: p, bias: false }), EPS, MOM),
    );
  const poolBranch = (m: string, x: string, f: number) =>
    bc(`${m}.branch_pool`, g.avgpool(`${m}.avg_pool`, x, 3, 1, 1, true), f, 1);
  const k: Kit = { g, bc, poolBranch };

  g.block = 'stem';
  let x = bc('Conv2d_1a_3x3', 'input', 32, 3, 2);
  x = bc('Conv2d_2a_3x3', x, 32, 3);
  x = bc('Conv2d_2b_3x3', x, 64, 3, 1, 1);
  x = g.maxpool('maxpool1', x, 3, 2);
  x = bc('Conv2d_3b_1x1', x, 80, 1);
  x = bc('Conv2d_4a_3x3', x, 192, 3);
  x = g.maxpool('maxpool2', x, 3, 2);

  x = mixedA(k, 'Mixed_5b', x, 32);
  x = mixedA(k, 'Mixed_5c', x, 64);
  x = mixedA(k, 'Mixed_5d', x, 64);
  x = mixedB(k, 'Mixed_6a', x);
  x = mixedC(k, 'Mixed_6b', x, 128);
  x = mixedC(k, 'Mixed_6c', x, 160);
  x = mixedC(k, 'Mixed_6d', x, 160);
  const six = mixedC(k, 'Mixed_6e', x, 192);

  // Auxiliary classifier: part of the ImageNet network (and its parameter count), never of a
  // backbone. It only runs in training, and needs Mixed_6e to be at least 17x17 (input >= 299 - 24);
  // below that PyTorch could not train with it either, so it is left out.
  if (g.shape(six)[0]! >= 17) {
    g.block = 'AuxLogits';
    let a = g.avgpool('AuxLogits.avg_pool', six, 5, 3);
    a = bc('AuxLogits.conv0', a, 128, 1);
    a = bc('AuxLogits.conv1', a, 768, 5);
    a = g.gap('AuxLogits.pool', a);
    g.dense('AuxLogits.fc', a, 1000);
  }

  x = mixedD(k, 'Mixed_7a', six);
  x = mixedE(k, 'Mixed_7b', x);
  x = mixedE(k, 'Mixed_7c', x);
  g.block = 'pool';
  x = g.gap('avgpool', x);
  g.block = 'classifier';
  x = g.dense('fc', g.dropout('dropout', x, 0.5), 1000);
  return g.build(x);
}
