"""The one resizer every path uses, written out twice: here and in tlr's src/runtime/data/resize.ts.
Libraries' Lanczos resizers disagree (libvips box-shrinks by whole factors before its Lanczos; Pillow
rounds to 8 bits between its passes and uses fixed-point weights) by enough to move a probability by
several points, so both engines decode with their library and resize with this definition.

Lanczos with a = 3, stretched by the scale when shrinking, centred at (i + 0.5) * scale, weights
normalised per output pixel (float64), then made whole numbers of 1/2^14; rows first, then columns,
each pass summing integers and rounding them ((sum + 2^13) >> 14), the second clamped to a byte. Integer sums do not
depend on their order, so the two implementations give the same bytes exactly."""

import functools
import math
import warnings

import numpy as np
import PIL
import torch
import torch.nn.functional as F
from PIL import Image

from .errors import EngineError

RESIZER = "tlr-lanczos3/3"


def jpeg_scale(width, height, size):
    """tlr-lanczos3/3's JPEG decoding scale, as resize.ts's jpegScale: 1/k, k the largest of 8, 4 and 2 at most
    min(width // size, height // size), else 1 (whole): a JPEG at least twice the input each way is reduced, and
    libjpeg's DCT scaling gives ceil(width / k) x ceil(height / k) pixels. Width and height are the stored ones,
    before EXIF orientation."""
    m = min(width // size, height // size)
    return 8 if m >= 8 else 4 if m >= 4 else 2 if m >= 2 else 1


def reduce_jpeg(im, size):
    """A large JPEG (not CMYK) set to decode at 1/k by libjpeg's DCT scaling (jpeg_scale), as the tfjs engine's
    libturbojpeg decodes it: the same library, the same bytes. Pillow's draft takes the scale its own rule gives for a
    target of size x size, which is jpeg_scale's; the size it reports is checked, so another rule cannot pass."""
    # MPO (a phone's JPEG with more pictures after the first) is a JPEG to libturbojpeg too.
    if im.format not in ("JPEG", "MPO") or im.mode not in ("RGB", "L"):
        return
    w, h = im.size
    k = jpeg_scale(w, h, size)
    if k == 1:
        return
    im.draft(None, (size, size))
    if im.size != (-(-w // k), -(-h // k)):
        raise EngineError(
            f"Pillow {PIL.__version__} decoded a {w}x{h} JPEG at {im.size[0]}x{im.size[1]}, not at 1/{k}: tlr's pixels"
            " need Pillow's draft to pick the scale as jpeg_scale does (Pillow 9.4 was tested)"
        )


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


FIXED_BITS = 14
_ONE = 1 << FIXED_BITS


@functools.lru_cache(maxsize=64)
def fixed_taps(in_size, out_size):
    """taps() as whole numbers of 1/2^14, the largest weight taking what rounding left over (each row sums to 2^14);
    as torch tensors for embedding_bag: flat source indices, their weights (float32: whole numbers, exact), offsets."""
    idx, wt = taps(in_size, out_size)
    q = np.floor(wt * _ONE + 0.5)
    q[wt == 0] = 0  # the padding past each row's count (a real weight of 0 rounds to 0 too)
    top = np.argmax(wt, axis=1)
    q[np.arange(out_size), top] += _ONE - q.sum(axis=1)
    k = idx.shape[1]
    return (
        torch.from_numpy(idx.reshape(-1).astype(np.int64)),
        torch.from_numpy(q.reshape(-1).astype(np.float32)),
        torch.arange(0, out_size * k, k, dtype=torch.int64),
    )


def _pass(rows, in_size, out_size, clamp):
    """`rows` [in_size, n] (float32 whole numbers) resampled along its first axis to [out_size, n]: each output row a
    weighted sum of whole input rows (embedding_bag), in integers that float32 holds exactly (|sum| < 340 * 2^14 * 1.5
    < 2^24), rounded: floor((sum + 2^13) / 2^14); clamped to bytes after the second pass only."""
    idx, w, offsets = fixed_taps(in_size, out_size)
    acc = F.embedding_bag(idx, rows, offsets, mode="sum", per_sample_weights=w)
    acc = acc.add_(_ONE // 2).div_(_ONE).floor_()
    return acc.clamp_(0, 255) if clamp else acc


# The arrays come from Pillow's buffers, which numpy marks read-only; every use below copies first.
warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
_TRANSPOSE = getattr(Image, "Transpose", Image).TRANSPOSE


def resize_image(im, out_w, out_h):
    """An RGB Pillow image to a float32 tensor [out_h, out_w, 3] of bytes: across the rows, then down the columns, as
    resize.ts does, to the same bytes exactly. Pillow transposes the image first (in C, on bytes), so the pass across
    reads whole rows as embedding_bag wants them: one transpose in float32 is left, between the passes."""
    w, h = im.size
    if w == out_w:
        x = torch.from_numpy(np.asarray(im)).to(torch.float32)
    else:
        t = torch.from_numpy(np.asarray(im.transpose(_TRANSPOSE))).to(torch.float32)
        x = _pass(t.reshape(w, h * 3), w, out_w, h == out_h).reshape(out_w, h, 3).transpose(0, 1)
    if h != out_h:
        x = _pass(x.reshape(h, out_w * 3), h, out_h, True).reshape(out_h, out_w, 3)
    return x


def resize_rgb(rgb, out_w, out_h):
    """uint8 [h, w, 3] to uint8 [out_h, out_w, 3] (numpy)."""
    if rgb.shape[:2] == (out_h, out_w):
        return rgb
    return resize_image(Image.fromarray(np.ascontiguousarray(rgb), "RGB"), out_w, out_h).to(torch.uint8).numpy()
