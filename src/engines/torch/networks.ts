import type { Plan } from '../../contracts/plan.js';
import { family, MODEL_NAMES } from '../../zoo/catalog.js';

// Which zoo networks the torch engine builds with torchvision's own constructors
// (python/tlr_torch/network.py's NETWORKS); every other zoo network (the Keras MobileNets)
// it builds from the zoo's graph, which job.json carries (python/tlr_torch/graph.py). A small
// module: `tlr plan` asks it without loading the rest of the engine.

/** The networks torchvision builds (the torch engine's constructors: python/tlr_torch/network.py). */
export const TORCHVISION_NETWORKS: readonly string[] = [
  'alexnet',
  'vgg16',
  'vgg19',
  'resnet18',
  'resnet34',
  'resnet50',
  'resnet101',
  'resnet152',
  'densenet121',
  'densenet161',
  'densenet169',
  'inception_v3',
];

/** Every zoo network: torchvision's, and the rest from the zoo's graph. */
export const TORCH_NETWORKS: readonly string[] = MODEL_NAMES;

/** Whether the torch engine builds `name` from the zoo's graph (job.json's network.graph). */
export const fromGraph = (name: string): boolean => !TORCHVISION_NETWORKS.includes(name);

/** Why the torch engine cannot run `plan`, or null. */
export function torchUnsupported(plan: Plan): string | null {
  if (plan.features)
    return (
      `the torch engine computes cached features in float only: \`features ${plan.features.precision}\` runs on the ` +
      "tfjs engine (ONNX Runtime's int8 kernels); remove the line to run here"
    );
  if (family(plan.model.name)) return null;
  return `the torch engine has no ${plan.model.name}: it runs the zoo's networks (${TORCH_NETWORKS.join(', ')})`;
}
