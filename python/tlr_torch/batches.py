"""How an epoch's order is cut into training batches, as src/runtime/batches.ts does it: `batch` at
a time, except that a last batch of one image is joined to the one before it (BatchNorm cannot
normalise a single image whose feature map is 1x1, and a one-image step is the epoch's noisiest)."""


def training_batches(order, batch):
    out = [order[i : i + batch] for i in range(0, len(order), batch)]
    if batch > 1 and len(out) > 1 and len(out[-1]) == 1:
        last = out.pop()
        out[-1] = list(out[-1]) + list(last)
    return out
