"""What a batch is trained against, for one label per image or several (the tfjs engine's train/loss.ts and
runtime/targets.ts are the twins). Multi-label labels are codes of label sets (manifest.json `labelSets`): row c of
ctx.targets is code c's labels as 0/1."""
import torch
import torch.nn.functional as F

from .multilabel import best_thresholds, mean_average_precision, multilabel_evaluation


def label_table(sets, labels):
    """Rows of 0/1: label set c over `labels` labels."""
    t = torch.zeros((max(1, len(sets)), labels), dtype=torch.float32)
    for c, labs in enumerate(sets):
        for k in labs:
            t[c, k] = 1.0
    return t


def positive_weights(codes, sets, labels):
    """Per label, the training images without it / those with it (1 for a label no image has)."""
    has, n = [0] * labels, 0
    for c in codes:
        n += 1
        for k in sets[c]:
            has[k] += 1
    return [(n - p) / p if p else 1.0 for p in has]


def example_loss(ctx, out, y, pos_weight=None):
    """Each example's loss: softmax cross-entropy, or (multi-label) the mean over labels of the sigmoid cross-entropy,
    an image's positives weighted by `pos_weight`."""
    if ctx.targets is None:
        if ctx.probabilities:
            return F.nll_loss(torch.log(out.clamp(1e-7, 1)), y, reduction="none")
        return F.cross_entropy(out, y, reduction="none")
    t = ctx.targets.to(out.device)[y]
    z = torch.logit(out.clamp(1e-7, 1 - 1e-7)) if ctx.probabilities else out
    return F.binary_cross_entropy_with_logits(z, t, pos_weight=pos_weight, reduction="none").mean(1)


def hits(ctx, out, y):
    """Right answers in a batch: the class, or (multi-label) every label at 0.5."""
    if ctx.targets is None:
        return float((out.argmax(-1) == y).sum())
    said = out >= (0.5 if ctx.probabilities else 0.0)
    return float((said == ctx.targets.to(out.device)[y].bool()).all(1).sum())


def probabilities(ctx, out):
    if ctx.probabilities:
        return out
    return torch.sigmoid(out) if ctx.targets is not None else torch.softmax(out, -1)


def split_rows(ctx, rows):
    """Gathered prediction rows (id, code, predicted, confidence, loss, then one probability per label) as lists:
    probabilities and 0/1 truth per image."""
    labels = ctx.targets.shape[1]
    probs = rows[:, 5 : 5 + labels].tolist()
    truth = ctx.targets[rows[:, 1].long()].tolist()
    return probs, truth


def validation_metrics(ctx, rows):
    """Multi-label validation on every rank's rows: the subset accuracy at 0.5 and the mAP."""
    probs, truth = split_rows(ctx, rows)
    right = sum(1 for p, t in zip(probs, truth) if all((v >= 0.5) == bool(u) for v, u in zip(p, t)))
    labels = ctx.targets.shape[1]
    return {"accuracy": right / len(probs) if probs else 0.0, "map": mean_average_precision(probs, truth, labels)}


def thresholds_of(ctx, rows):
    probs, truth = split_rows(ctx, rows)
    return best_thresholds(probs, truth, ctx.targets.shape[1])


def multilabel_report(ctx, split, rows, thresholds, loss):
    """The evaluation as runs and reports carry it (as runtime/multi-label.ts multiLabelReport)."""
    probs, truth = split_rows(ctx, rows)
    m = multilabel_evaluation(probs, truth, ctx.plan["data"]["classes"], thresholds)
    return {
        "split": split,
        "task": "multi-label",
        "images": m["images"],
        "loss": loss,
        "accuracy": m["subsetAccuracy"],
        "subsetAccuracy": m["subsetAccuracy"],
        "map": m["map"],
        "microF1": m["microF1"],
        "macroF1": m["macroF1"],
        "classes": m["labels"],
        "confusion": [],
    }
