import * as path from 'node:path';
import type { ModelInfo } from './catalog.js';
import type { PlanWeights } from '../contracts/plan.js';

// The one rule for what a weights argument means — `imagenet`, `none`, an https:// URL, a file or a
// tlr model folder — shared by the checker (`weights …` in a recipe) and the runtime's library
// call (`buildModel(name, { weights })`). Pure: file-system questions go through `fs`.

export interface WeightsProblem {
  readonly code: 'TLR1005' | 'TLR1006' | 'TLR1007';
  readonly message: string;
  readonly hints: readonly string[];
}

export interface SpecFs {
  /** An absolute path for `p` as written (relative to the recipe's folder in a recipe). */
  resolve(p: string): string;
  exists(abs: string): 'file' | 'dir' | null;
  /** A path as messages show it. */
  show(abs: string): string;
}

const formatOf = (p: string): 'tfjs' | 'safetensors' | null =>
  p.toLowerCase().endsWith('.json') ? 'tfjs' : p.toLowerCase().endsWith('.safetensors') ? 'safetensors' : null;

/** Whether a weights argument is a URL (any scheme; only http(s) is accepted). */
export const isUrl = (text: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(text);

function imagenet(model: ModelInfo): PlanWeights | WeightsProblem {
  const s = model.weights;
  if (!s) {
    return {
      code: 'TLR1007',
      message:
        `no ImageNet weights for ${model.name}${model.width !== null ? ` width ${model.width}` : ''} ` +
        `exist in a format tlr reads (TF.js or safetensors)`,
      hints: [
        '`weights none` trains it from scratch; `weights ./model.safetensors` loads your own file',
        'run `tlr models` to see which networks have ImageNet weights',
      ],
    };
  }
  return {
    kind: 'imagenet',
    url: s.url,
    format: s.format,
    sha256: s.sha256,
    localName: s.localName,
    includesTop: s.includesTop,
  };
}

function url(text: string): PlanWeights | WeightsProblem {
  const format = formatOf(new URL(text, 'https://x').pathname);
  if (!/^https?:\/\//.test(text) || !format)
    return {
      code: 'TLR1005',
      message: `cannot load weights from ${text}`,
      hints: ['a URL must be http(s) and end in model.json (TF.js) or .safetensors'],
    };
  return { kind: 'url', url: text, format };
}

function file(text: string, fs: SpecFs): PlanWeights | WeightsProblem {
  const abs = fs.resolve(text);
  const kind = fs.exists(abs);
  if (!kind)
    return {
      code: 'TLR1006',
      message: `weights file ${fs.show(abs)} does not exist`,
      hints: [`paths are relative to the recipe's folder (${path.dirname(fs.resolve('x'))})`],
    };
  if (kind === 'dir') {
    if (fs.exists(path.join(abs, 'model.json')) === 'file')
      return { kind: 'file', path: path.join(abs, 'model.json'), format: 'tlr' };
    // A model the torch engine saved: torchvision names, its head under head.*.
    if (
      fs.exists(path.join(abs, 'model.safetensors')) === 'file' &&
      fs.exists(path.join(abs, 'network.json')) === 'file'
    )
      return { kind: 'file', path: path.join(abs, 'model.safetensors'), format: 'tlr' };
    return {
      code: 'TLR1006',
      message: `${fs.show(abs)} is a folder without model.json`,
      hints: [
        'give the model folder of a tlr run (it holds model.json, or model.safetensors from the torch engine), ' +
          'a model.json, or a .safetensors file',
      ],
    };
  }
  const format = formatOf(abs);
  if (!format)
    return {
      code: 'TLR1005',
      message: `cannot tell the format of ${fs.show(abs)}`,
      hints: ['tlr reads TF.js models (model.json beside its weight shards) and .safetensors files'],
    };
  return { kind: 'file', path: abs, format };
}

/**
 * What `text` names as starting weights for `model`: a plan's weights, or the problem.
 *
 * @example parseWeights('imagenet', describe('resnet18', null, null), fs)  // { kind: 'imagenet', url: …, … }
 */
export function parseWeights(text: string, model: ModelInfo, fs: SpecFs): PlanWeights | WeightsProblem {
  if (text === 'none') return { kind: 'none' };
  if (text === 'imagenet') return imagenet(model);
  return isUrl(text) ? url(text) : file(text, fs);
}

/** Whether parseWeights returned a problem. */
export const isProblem = (r: PlanWeights | WeightsProblem): r is WeightsProblem => 'code' in r;
