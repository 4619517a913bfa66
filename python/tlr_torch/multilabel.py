"""Multi-label metrics, as src/runtime/multi-label.ts defines them (test/fixtures/twins/multilabel.json holds the two
together): average precision per label and their mean, F1-optimal thresholds, and per-label precision, recall and F1,
micro and macro F1 and subset accuracy at given thresholds. probs[i][k] is image i's sigmoid output for label k;
truth[i][k] is 1 when the image has the label."""


def _steps(scores, truth):
    """(tp, fp, score) after each distinct score, from the highest down (ties are one step)."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    tp = fp = 0
    for k, i in enumerate(order):
        if truth[i]:
            tp += 1
        else:
            fp += 1
        if k + 1 < len(order) and scores[order[k + 1]] == scores[i]:
            continue
        yield tp, fp, scores[i]


def average_precision(scores, truth):
    positives = sum(1 for t in truth if t)
    if not positives:
        return None
    ap = recall = 0.0
    for tp, fp, _ in _steps(scores, truth):
        r = tp / positives
        ap += (r - recall) * (tp / (tp + fp))
        recall = r
    return ap


def _f1(tp, fp, fn):
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def mean_average_precision(probs, truth, labels):
    aps = [average_precision([row[k] for row in probs], [row[k] for row in truth]) for k in range(labels)]
    known = [a for a in aps if a is not None]
    return sum(known) / len(known) if known else None


def best_thresholds(probs, truth, labels):
    out = []
    for k in range(labels):
        s, t = [row[k] for row in probs], [row[k] for row in truth]
        positives = sum(1 for x in t if x)
        best, at = -1.0, 0.5
        if positives:
            for tp, fp, score in _steps(s, t):
                f = _f1(tp, fp, positives - tp)
                if f > best:
                    best, at = f, score
        out.append(at)
    return out


def multilabel_evaluation(probs, truth, names, thresholds):
    n_labels = len(names)
    cells = [[0, 0, 0] for _ in names]  # tp, fp, fn
    exact = 0
    for row, true in zip(probs, truth):
        right = True
        for k in range(n_labels):
            said, is_ = row[k] >= thresholds[k], bool(true[k])
            if said and is_:
                cells[k][0] += 1
            elif said:
                cells[k][1] += 1
            elif is_:
                cells[k][2] += 1
            right = right and said == is_
        exact += 1 if right else 0
    labels = []
    for k, name in enumerate(names):
        tp, fp, fn = cells[k]
        labels.append(
            {
                "name": name,
                "precision": tp / (tp + fp) if tp + fp else 0.0,
                "recall": tp / (tp + fn) if tp + fn else 0.0,
                "f1": _f1(tp, fp, fn),
                "support": tp + fn,
                "threshold": thresholds[k],
                "ap": average_precision([r[k] for r in probs], [r[k] for r in truth]),
            }
        )
    tp, fp, fn = (sum(c[k] for c in cells) for k in range(3))
    return {
        "images": len(probs),
        "map": mean_average_precision(probs, truth, n_labels),
        "microF1": _f1(tp, fp, fn),
        "macroF1": sum(r["f1"] for r in labels) / n_labels if n_labels else 0.0,
        "subsetAccuracy": exact / len(probs) if probs else 0.0,
        "labels": labels,
    }
