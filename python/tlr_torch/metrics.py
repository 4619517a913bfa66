"""Accuracy, per-class precision/recall/F1, macro F1, balanced accuracy and the confusion matrix, defined as tlr's
Node side defines them (src/runtime/train/metrics.ts)."""


def evaluation(split, classes, y, pred, loss):
    k = len(classes)
    confusion = [[0] * k for _ in range(k)]
    for t, p in zip(y, pred):
        confusion[t][p] += 1
    per = []
    for c, name in enumerate(classes):
        tp = confusion[c][c]
        support = sum(confusion[c])
        predicted = sum(row[c] for row in confusion)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per.append({"name": name, "precision": precision, "recall": recall, "f1": f1, "support": support})
    correct = sum(confusion[c][c] for c in range(k))
    present = [r["recall"] for r in per if r["support"] > 0]  # balanced accuracy: the mean recall of classes present
    return {
        "split": split,
        "images": len(y),
        "loss": loss,
        "accuracy": correct / len(y) if y else 0.0,
        "macroF1": sum(r["f1"] for r in per) / k,
        "balancedAccuracy": sum(present) / len(present) if present else 0.0,
        "classes": per,
        "confusion": confusion,
    }
