import { GraphBuilder, type Graph } from '../graph.js';

// torchvision ResNet (v1.5: the stride sits on the 3x3 conv of a bottleneck). Layer names are
// torchvision's module paths, so state_dict keys map onto them one to one.
// Momentum in Keras terms (moving = m * moving + (1 - m) * batch): PyTorch's 0.1 is 0.9 here.
const EPS = 1e-5,
  MOM = 0.9;

type Kind = 'basic' | 'bottleneck';
const DEPTHS: Record<string, [Kind, number[]]> = {
  resnet18: ['basic', [2, 2, 2, 2]],
  resnet34: ['basic', [3, 4, 6, 3]],
  resnet50: ['bottleneck', [3, 4, 6, 3]],
  resnet101: ['bottleneck', [3, 4, 23, 3]],
  resnet152: ['bottleneck', [3, 8, 36, 3]],
};
export const RESNETS = Object.keys(DEPTHS);

/** torchvision's ResNet named `name` (resnet18 … resnet152) at `inputSize`. */
export function resnet(name: string, inputSize: number): Graph {
  const [kind, depths] = DEPTHS[name]!;
  const expansion = kind === 'basic' ? 1 : 4;
  const g = new GraphBuilder(inputSize);
  g.block = 'stem';
  let x = g.conv('conv1', 'input', 64, { kernel: 7, strides: 2, padding: 3, bias: false });
  x = g.bn('bn1', x, EPS, MOM);
  x = g.relu('relu', x);
  x = g.maxpool('maxpool', x, 3, 2, 1);
  let inplanes = 64;
  depths.forEach((n, i) => {
    g.block = `block${i + 1}`;
    const planes = 64 * 2 ** i;
    for (let j = 0; j < n; j++) {
      const p = `layer${i + 1}.${j}`;
      const stride = i > 0 && j === 0 ? 2 : 1;
      const inp = x;
      if (kind === 'basic') {
        x = g.conv(`${p}.conv1`, x, planes, { kernel: 3, strides: stride, padding: 1, bias: false });
        x = g.relu(`${p}.relu1`, g.bn(`${p}.bn1`, x, EPS, MOM));
        x = g.bn(`${p}.bn2`, g.conv(`${p}.conv2`, x, planes, { kernel: 3, padding: 1, bias: false }), EPS, MOM);
      } else {
        x = g.relu(
          `${p}.relu1`,
          g.bn(`${p}.bn1`, g.conv(`${p}.conv1`, x, planes, { kernel: 1, bias: false }), EPS, MOM),
        );
        x = g.conv(`${p}.conv2`, x, planes, { kernel: 3, strides: stride, padding: 1, bias: false });
        x = g.relu(`${p}.relu2`, g.bn(`${p}.bn2`, x, EPS, MOM));
        x = g.bn(`${p}.bn3`, g.conv(`${p}.conv3`, x, planes * 4, { kernel: 1, bias: false }), EPS, MOM);
      }
      let shortcut = inp;
      if (stride !== 1 || inplanes !== planes * expansion) {
        shortcut = g.conv(`${p}.downsample.0`, inp, planes * expansion, { kernel: 1, strides: stride, bias: false });
        shortcut = g.bn(`${p}.downsample.1`, shortcut, EPS, MOM);
      }
      x = g.relu(`${p}.relu`, g.sum(`${p}.add`, x, shortcut));
      inplanes = planes * expansion;
    }
  });
  g.block = 'pool';
  x = g.gap('avgpool', x);
  g.block = 'classifier';
  x = g.dense('fc', x, 1000);
  return g.build(x);
}
