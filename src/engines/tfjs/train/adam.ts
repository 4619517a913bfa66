import { tf } from '../tf.js';

// TensorFlow.js' Adam, updating one variable at a time. Its applyGradients computes every
// variable's update inside one tidy, so all their temporaries (about five of each variable's
// size) live until the last is done: for ResNet-18's block 4 (8.4 M weights) that is some 170 MB
// of wasm heap, which never shrinks once grown. Here each variable's update is its own tidy. The
// arithmetic, its order, the state's names and the serialised form are Adam's, so a checkpoint
// written by either loads into the other and the weights come out bit for bit the same (tested).

interface Moment {
  originalName: string;
  variable: tf.Variable;
}
interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Moment[];
  accumulatedSecondMoment: Moment[];
}
type NamedTensor = { name: string; tensor: tf.Tensor };

export class TidyAdam extends tf.AdamOptimizer {
  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999) {
    super(learningRate, beta1, beta2);
  }

  override applyGradients(grads: tf.NamedTensorMap | NamedTensor[]): void {
    const s = this as unknown as AdamState;
    const names = Array.isArray(grads) ? grads.map((g) => g.name) : Object.keys(grads);
    const [oneMinusAccBeta1, oneMinusAccBeta2] = tf.tidy(() => [tf.sub(1, s.accBeta1), tf.sub(1, s.accBeta2)]);
    names.forEach((name, i) => {
      tf.tidy(() => {
        const value = tf.engine().registeredVariables[name]!;
        s.accumulatedFirstMoment[i] ??= {
          originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
        s.accumulatedSecondMoment[i] ??= {
          originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
        const gradient = Array.isArray(grads) ? grads[i]!.tensor : grads[name];
        if (gradient == null) return;
        const m = s.accumulatedFirstMoment[i]!.variable,
          v = s.accumulatedSecondMoment[i]!.variable;
        const newM = tf.add(tf.mul(m, s.beta1), tf.mul(gradient, 1 - s.beta1));
        const newV = tf.add(tf.mul(v, s.beta2), tf.mul(tf.square(gradient), 1 - s.beta2));
        const mHat = tf.div(newM, oneMinusAccBeta1),
          vHat = tf.div(newV, oneMinusAccBeta2);
        m.assign(newM);
        v.assign(newV);
        value.assign(tf.add(tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), s.epsilon)), -s.learningRate), value));
      });
    });
    tf.dispose([oneMinusAccBeta1, oneMinusAccBeta2]);
    tf.tidy(() => {
      s.accBeta1.assign(tf.mul(s.accBeta1, s.beta1));
      s.accBeta2.assign(tf.mul(s.accBeta2, s.beta2));
    });
    (this as unknown as { incrementIterations(): void }).incrementIterations();
  }
}
