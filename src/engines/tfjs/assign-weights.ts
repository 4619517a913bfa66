import { tf } from './tf.js';
import { WeightsError, size, type WeightMap } from '../../runtime/weights/tensors.js';

// Puts named weights into a model. Every weight of the model must be given with its exact shape;
// names that belong to layers the model does not have are ignored only when they are listed in
// `ignorable` (the ImageNet classifier when the model has no top, Inception's auxiliary head).

export interface AssignReport {
  readonly assigned: number;
  readonly ignored: readonly string[];
}

/** The weight's own name (`kernel`, `moving_mean`), without the suffix tfjs adds to repeated variable names. */
export const weightName = (w: tf.LayerVariable): string => w.originalName.split('/').pop()!.replace(/_\d+$/, '');

/** The weight's name as saved (`layer/kernel`). */
export const weightKey = (layer: tf.layers.Layer, w: tf.LayerVariable): string => `${layer.name}/${weightName(w)}`;

const squeeze = (s: readonly number[]) => s.filter((d, i) => d !== 1 || i === s.length - 1);

/** The layers that hold weights, looking inside models used as layers (a head inside the whole network). */
export function leafLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.flatMap((l) => (l instanceof tf.LayersModel ? leafLayers(l) : [l]));
}

/**
 * Puts named weights into `model`: all or nothing; a WeightsError lists what is missing, unexpected or shaped
 * differently.
 */
export function assignWeights(
  model: tf.LayersModel,
  weights: WeightMap,
  source: string,
  ignorable: (name: string) => boolean = () => false,
): AssignReport {
  const wanted = new Map<string, { layer: tf.layers.Layer; index: number; shape: number[] }>();
  const layers = leafLayers(model);
  for (const layer of layers) {
    layer.weights.forEach((w, index) => {
      wanted.set(weightKey(layer, w), { layer, index, shape: w.shape as number[] });
    });
  }
  const missing = [...wanted.keys()].filter((n) => !weights.has(n));
  const unexpected: string[] = [],
    ignored: string[] = [],
    shapes: string[] = [];
  for (const [name, t] of weights) {
    const w = wanted.get(name);
    if (!w) {
      (ignorable(name) ? ignored : unexpected).push(name);
      continue;
    }
    const same = t.shape.length === w.shape.length && t.shape.every((d, i) => d === w.shape[i]);
    // Keras stores MobileNet's classifier as a 1x1 convolution: [1, 1, in, out] fits [in, out].
    const squeezable = size(t.shape) === size(w.shape) && squeeze(t.shape).join() === squeeze(w.shape).join();
    if (!same && !squeezable)
      shapes.push(`${name}: the file has [${t.shape.join(', ')}], the model needs [${w.shape.join(', ')}]`);
  }
  if (missing.length || unexpected.length || shapes.length) {
    const list = (title: string, xs: string[]) =>
      xs.length
        ? [
            `${title} (${xs.length}):`,
            ...xs.slice(0, 12).map((x) => `  ${x}`),
            ...(xs.length > 12 ? [`  … and ${xs.length - 12} more`] : []),
          ]
        : [];
    throw new WeightsError(`the weights in ${source} do not fit the model ${model.name}`, [
      ...list('missing from the file', missing),
      ...list('in the file but not in the model', unexpected),
      ...list('shapes that differ', shapes),
    ]);
  }
  for (const layer of layers) {
    if (!layer.weights.length) continue;
    const values = layer.weights.map((w) => {
      const t = weights.get(weightKey(layer, w))!;
      return tf.tensor(t.data, w.shape as number[], 'float32');
    });
    layer.setWeights(values);
    values.forEach((v) => {
      v.dispose();
    });
  }
  return { assigned: wanted.size, ignored };
}
