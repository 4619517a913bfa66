import type { Plan } from '../../plan/types.js';
import { family } from '../../zoo/catalog.js';

// Which zoo networks the torch engine builds (engines/torch/tlr_torch/network.py's NETWORKS):
// torchvision's own. A small module: `tlr plan` asks it without loading the rest of the engine.

/** The networks torchvision builds (the torch engine's constructors: engines/torch/tlr_torch/network.py). */
export const TORCH_NETWORKS: readonly string[] = [
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

/** Why the torch engine cannot run `plan`, or null. */
export function torchUnsupported(plan: Plan): string | null {
  if (TORCH_NETWORKS.includes(plan.model.name)) return null;
  return (
    `the torch engine has no ${plan.model.name}: torchvision lacks ` +
    `it${family(plan.model.name)?.layout === 'keras' ? ' (tlr uses the Keras layout of MobileNets)' : ''}; it ` +
    `runs ${TORCH_NETWORKS.join(', ')}. Run this recipe with the tfjs engine (the default)`
  );
}
