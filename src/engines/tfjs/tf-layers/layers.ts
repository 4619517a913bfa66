import { tf } from '../tf.js';

// Layers the zoo needs beyond tf.layers' own. Each is registered for serialization, so saved models
// load again; the BatchNormalization subclass keeps the standard class name, so a saved model also
// loads with plain TensorFlow.js (in a browser, say).

type Kwargs = Record<string, unknown>;
const BatchNormBase = tf.layers.batchNormalization({}).constructor as unknown as new (args: object) => tf.layers.Layer;

/**
 * BatchNormalization that runs in inference mode while frozen: tfjs would otherwise update the
 * moving statistics during fit() even when the layer is not trainable.
 */
export class FreezableBatchNorm extends BatchNormBase {
  static className = 'BatchNormalization';
  /** Set per stage (`keep batchnorm statistics`): inference mode even while its scale and shift train. */
  keepStatistics = false;
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    return super.call(inputs, this.trainable && !this.keepStatistics ? kwargs : { ...kwargs, training: false });
  }
}
tf.serialization.registerClass(
  FreezableBatchNorm as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>,
);

const DropoutBase = tf.layers.dropout({ rate: 0.5 }).constructor as unknown as new (args: object) => tf.layers.Layer;

/** Dropout that does nothing while frozen: a frozen part of a backbone behaves as at inference. */
export class FreezableDropout extends DropoutBase {
  static className = 'Dropout';
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    return super.call(inputs, this.trainable ? kwargs : { ...kwargs, training: false });
  }
}
tf.serialization.registerClass(
  FreezableDropout as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>,
);

/** PyTorch's adaptive_avg_pool2d to n x n: bin i covers [floor(i*H/n), ceil((i+1)*H/n)). */
export function adaptiveAvgPool(x: tf.Tensor4D, n: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    if (h === n && w === n) return x.clone();
    const bins = (len: number) =>
      Array.from({ length: n }, (_, i) => [Math.floor((i * len) / n), Math.ceil(((i + 1) * len) / n)] as const);
    const rows = bins(h).map(([a, b]) => {
      const band = x.slice([0, a, 0, 0], [-1, b - a, -1, -1]);
      return tf.stack(
        bins(w).map(([c, d]) => band.slice([0, 0, c, 0], [-1, -1, d - c, -1]).mean([1, 2])),
        1,
      );
    });
    return tf.stack(rows, 1) as tf.Tensor4D;
  });
}

/** PyTorch's AdaptiveAvgPool2d as a layer. */
export class AdaptiveAvgPool2D extends tf.layers.Layer {
  static className = 'AdaptiveAvgPool2D';
  readonly size: number;

  constructor(args: { size: number; name?: string }) {
    super(args);
    this.size = args.size;
  }

  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = shape as tf.Shape;
    return [s[0]!, this.size, this.size, s[3]!];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return adaptiveAvgPool((Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D, this.size);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), size: this.size };
  }
}
tf.serialization.registerClass(AdaptiveAvgPool2D);
