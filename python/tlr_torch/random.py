"""tlr's seeded random source (mulberry32) and shuffle, as src/data/random.ts has them, so an
epoch visits the training images in the same order on both engines."""


def rng(seed):
    a = seed & 0xFFFFFFFF

    def imul(x, y):
        return (x * y) & 0xFFFFFFFF

    def next_():
        nonlocal a
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        t = a
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    return next_


def shuffle(xs, r):
    for i in range(len(xs) - 1, 0, -1):
        j = int(r() * (i + 1))
        xs[i], xs[j] = xs[j], xs[i]
    return xs


def epoch_order(keep, labels, sampler, r):
    """The rows `keep` (indices into `labels`) in an epoch's order, as src/runtime/sampler.ts draws them: each once,
    shuffled; or `balanced`, as many draws as rows with each class drawn equally often (a class's rows in shuffled
    cycles, the first `n mod classes` classes once more), shuffled together at the end."""
    if sampler != "balanced":
        return shuffle(list(keep), r)
    by_class = {}
    for i in keep:
        by_class.setdefault(labels[i], []).append(i)
    classes = sorted(by_class)
    per, extra = divmod(len(keep), max(1, len(classes)))
    out = []
    for k, c in enumerate(classes):
        rows, want = by_class[c], per + (1 if k < extra else 0)
        while want > 0:
            cycle = shuffle(list(rows), r)[:want]
            out.extend(cycle)
            want -= len(cycle)
    return shuffle(out, r)
