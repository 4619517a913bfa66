"""The one resizer every path uses, written out twice: here and in tlr's src/runtime/data/resize.ts.
Libraries' Lanczos resizers disagree (libvips box-shrinks by whole factors before its Lanczos; Pillow
rounds to 8 bits between its passes and uses fixed-point weights) by enough to move a probability by
several points, so both engines decode with their library and resize with this definition.

Lanczos with a = 3, stretched by the scale when shrinking, centred at (i + 0.5) * scale, weights
normalised per output pixel; both passes in float64; rounded to 8 bits once, at the end
(floor(v + 0.5), clamped). The two implementations differ only by float summation order."""

import functools
import math

import numpy as np

RESIZER = "tlr-lanczos3/1"
_A = 3


def _lanczos(x):
    x = np.asarray(x, dtype=np.float64)
    px = np.pi * x
    with np.errstate(divide="ignore", invalid="ignore"):
        v = _A * np.sin(px) * np.sin(px / _A) / (px * px)
    v = np.where(x == 0, 1.0, v)
    return np.where((x <= -_A) | (x >= _A), 0.0, v)


@functools.lru_cache(maxsize=64)  # a data set's images mostly share a few sizes
def taps(in_size, out_size):
    """One axis's taps as two [out_size, K] arrays: source indices and normalised weights (0 past the end)."""
    scale = in_size / out_size
    stretch = max(scale, 1.0)
    support = _A * stretch
    width = math.ceil(2 * support) + 2
    idx = np.zeros((out_size, width), dtype=np.intp)
    wt = np.zeros((out_size, width), dtype=np.float64)
    widest = 1
    for i in range(out_size):
        center = (i + 0.5) * scale
        lo = max(0, math.trunc(center - support + 0.5))
        n = max(0, min(in_size, math.trunc(center + support + 0.5)) - lo)
        w = _lanczos((np.arange(n) + lo - center + 0.5) / stretch)
        s = w.sum()
        idx[i, :n] = lo + np.arange(n)
        wt[i, :n] = w / s if s != 0 else w
        widest = max(widest, n)
    return idx[:, :widest], wt[:, :widest]


def resize_rgb(rgb, out_w, out_h):
    """uint8 [h, w, 3] to uint8 [out_h, out_w, 3]: a weighted sum per tap, so memory stays at one image's size."""
    h, w = rgb.shape[:2]
    if (w, h) == (out_w, out_h):
        return rgb
    x = rgb.astype(np.float64)
    if w != out_w:  # across first, as the TypeScript twin does
        idx, wt = taps(w, out_w)
        acc = np.zeros((h, out_w, 3))
        for k in range(idx.shape[1]):
            acc += x[:, idx[:, k], :] * wt[None, :, k, None]
        x = acc
    if h != out_h:
        idx, wt = taps(h, out_h)
        acc = np.zeros((out_h, out_w, 3))
        for k in range(idx.shape[1]):
            acc += x[idx[:, k]] * wt[:, k, None, None]
        x = acc
    return np.clip(np.floor(x + 0.5), 0, 255).astype(np.uint8)
