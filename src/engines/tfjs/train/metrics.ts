import type { ClassReport, Evaluation } from '../../../runtime/events.js';

// Classification metrics from labels and predictions: accuracy, per-class precision/recall/F1,
// macro F1, balanced accuracy and the confusion matrix (rows: true class, columns: predicted).

/** Accuracy, macro F1, per-class precision/recall/F1 and the confusion matrix of predictions. */
export function evaluation(
  split: 'test' | 'validation',
  classes: readonly string[],
  y: Int32Array,
  pred: Int32Array,
  loss: number,
): Evaluation {
  const k = classes.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < y.length; i++) confusion[y[i]!]![pred[i]!]! += 1;
  const per: ClassReport[] = classes.map((name, c) => {
    const tp = confusion[c]![c]!;
    const support = confusion[c]!.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[c]!, 0);
    const precision = predicted ? tp / predicted : 0,
      recall = support ? tp / support : 0;
    return {
      name,
      precision,
      recall,
      f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
      support,
    };
  });
  const correct = classes.reduce((a, _, c) => a + confusion[c]![c]!, 0);
  // As scikit-learn's balanced_accuracy_score: the mean recall of the classes present.
  const present = per.filter((r) => r.support > 0);
  return {
    split,
    images: y.length,
    loss,
    accuracy: y.length ? correct / y.length : 0,
    macroF1: per.reduce((a, r) => a + r.f1, 0) / k,
    balancedAccuracy: present.length ? present.reduce((a, r) => a + r.recall, 0) / present.length : 0,
    classes: per,
    confusion,
  };
}
