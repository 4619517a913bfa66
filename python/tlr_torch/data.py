"""The run's images as tlr listed them (manifest.json: every item with its class and split), decoded
the way tlr decodes them: EXIF-rotated, RGB, squashed to the input size with tlr's Lanczos (resize.py,
the same numbers as the tfjs engine's); images inside
IDX files scaled bilinearly (corners aligned) and repeated to three channels. Augmentations draw
their parameters for the whole global batch from one seeded generator, so every rank applies what
one process would."""

import functools
import gzip
import io
import json
import math
import os
import struct
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from . import MANIFEST_FORMAT, MANIFEST_VERSION
from .errors import EngineError
from .pixels import PixelCache
from .resize import RESIZER, reduce_jpeg, resize_image


class Item:
    """An image file; an image inside an IDX file (`index`); or one inside a tar shard (`member`: its byte range
    and name)."""

    __slots__ = ("path", "label", "index", "member")

    def __init__(self, path, label, index=None, member=None):
        self.path, self.label, self.index, self.member = path, label, index, member

    def describe(self):
        if self.member is not None:
            return f"{self.path}[{self.member[2]}]"
        return self.path if self.index is None else f"{self.path}[{self.index}]"


def read_manifest(path, data_root=None):
    """The splits of manifest.json as lists of Items; relative paths are under `data_root` (default: the manifest's
    root)."""
    try:
        with open(path, encoding="utf-8") as f:
            m = json.load(f)
    except (OSError, ValueError) as e:
        raise EngineError(f"cannot read the manifest {path}: {e}") from e
    if not isinstance(m, dict) or m.get("format") != MANIFEST_FORMAT:
        raise EngineError(
            f"{path} is not a tlr manifest (its format is {m.get('format') if isinstance(m, dict) else None!r})"
        )
    if m.get("version") != MANIFEST_VERSION:
        raise EngineError(
            f"{path} is a version {m.get('version')} manifest; this engine reads version {MANIFEST_VERSION}: use the"
            " engine package of the tlr that wrote it"
        )
    root = data_root or m["root"]
    classes = m["classes"]
    label_sets = m.get("labelSets")
    if label_sets is not None and not _are_label_sets(label_sets, len(classes)):
        raise EngineError(
            f"{path}: labelSets must be a list of lists of label indices below {len(classes)} (the classes'); the"
            " manifest was changed after tlr wrote it: write the job again"
        )
    # Multi-label rows hold a label set's index in labelSets, single-label ones a class index.
    codes = len(label_sets) if label_sets is not None else len(classes)

    def items(rows, split):
        out = []
        for i, row in enumerate(rows):
            if not _is_row(row, codes):
                raise EngineError(
                    f"{path}: {split} item {i} is {json.dumps(row)[:80]}, not [path, class index], [idx file, class"
                    " index, image index] or [shard, class index, offset, size, member]"
                )
            p = row[0] if os.path.isabs(row[0]) else os.path.join(root, row[0])
            if len(row) == 5:
                out.append(Item(p, row[1], member=(row[2], row[3], row[4])))
            else:
                out.append(Item(p, row[1], row[2] if len(row) == 3 else None))
        return out

    return classes, {s: items(m["splits"].get(s) or [], s) for s in ("train", "validation", "test")}, label_sets


def _are_label_sets(sets, classes):
    return isinstance(sets, list) and all(
        isinstance(x, list) and all(isinstance(k, int) and 0 <= k < classes for k in x) for x in sets
    )


def _is_row(row, classes):
    """Whether a manifest row is one of its three forms, with a class index in range."""
    if not isinstance(row, list) or len(row) not in (2, 3, 5) or not isinstance(row[0], str):
        return False
    if not isinstance(row[1], int) or not 0 <= row[1] < classes:
        return False
    if len(row) == 3:
        return isinstance(row[2], int) and row[2] >= 0
    if len(row) == 5:
        return all(isinstance(v, int) and v >= 0 for v in row[2:4]) and isinstance(row[4], str)
    return True


def _member_bytes(item):
    """A shard member's bytes, read by the byte range tlr's shard index gave (the tar is uncompressed)."""
    offset, size, name = item.member
    try:
        with open(item.path, "rb") as f:
            f.seek(offset)
            raw = f.read(size)
    except OSError as e:
        raise EngineError(f"{item.path}: cannot be read to get {name} ({e})") from e
    if len(raw) < size:
        raise EngineError(
            f"{item.path}: member {name} is cut short ({len(raw)} of {size} bytes): the shard is truncated; index it"
            f" again (tlr pack --index {os.path.dirname(item.path)}) or pack the data again"
        )
    return raw


class ImageError(Exception):
    pass


_IDX = {}


def _idx_images(path):
    """An IDX image file (gzip or not) as a uint8 array [n, rows, cols], read once per process."""
    if path not in _IDX:
        try:
            with open(path, "rb") as f:
                raw = f.read()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise EngineError(f"cannot read the IDX file {path}: {e}") from e
        magic, n, rows, cols = struct.unpack(">IIII", raw[:16])
        if magic != 0x803 or len(raw) < 16 + n * rows * cols:
            raise EngineError(f"{path} is not a complete IDX image file (magic {magic:#x}, {len(raw)} bytes)")
        _IDX[path] = np.frombuffer(raw, dtype=np.uint8, offset=16, count=n * rows * cols).reshape(n, rows, cols)
    return _IDX[path]


def _bytes_of(item):
    """The encoded image's bytes: the file's, or the shard member's."""
    if item.member is not None:
        return _member_bytes(item)
    try:
        with open(item.path, "rb") as f:
            return f.read()
    except OSError as e:
        raise ImageError(f"{item.path}: cannot be read ({e})") from e


def decode(item, size, cache=None):
    """One image as a float tensor [3, size, size] in [0, 1], through the decoded-image cache when one is given;
    ImageError when it cannot be read."""
    if item.index is not None:
        grey = torch.from_numpy(_idx_images(item.path)[item.index].astype(np.float32) / 255.0)[None, None]
        if grey.shape[-1] != size or grey.shape[-2] != size:
            grey = F.interpolate(grey, size=(size, size), mode="bilinear", align_corners=True)
        return grey[0].expand(3, size, size).contiguous()
    if item.member is None and not os.path.isfile(item.path):
        raise ImageError(f"{item.path}: does not exist or is not a regular file")
    raw = _bytes_of(item)
    key = cache.key(raw) if cache else None
    hit = cache.get(key) if cache else None
    if hit is not None:
        return (
            torch.frombuffer(bytearray(hit), dtype=torch.uint8).view(size, size, 3).permute(2, 0, 1).float().div_(255)
        )
    source = io.BytesIO(raw)
    try:
        with Image.open(source) as im:
            reduce_jpeg(im, size)
            rgb = ImageOps.exif_transpose(im).convert("RGB")
            rgb.load()
    except EngineError:
        raise
    except UnidentifiedImageError as e:  # its message names the in-memory buffer, not the file
        raise ImageError(f"{item.describe()}: cannot be read as an image (not a format Pillow reads)") from e
    except Exception as e:  # Pillow raises many kinds for a bad file
        raise ImageError(f"{item.describe()}: cannot be read as an image ({e})") from e
    px = resize_image(rgb, size, size)
    if cache:
        cache.put(key, px.to(torch.uint8).numpy().tobytes())
    return px.permute(2, 0, 1).div_(255.0).contiguous()


class _Decoder(torch.utils.data.Dataset):
    """A DataLoader's dataset whose keys are the Items themselves (the batch sampler hands out lists of Items)."""

    def __init__(self, size, cache):
        self.size, self.cache = size, cache

    def __getitem__(self, item):
        try:
            return decode(item, self.size, self.cache)
        except ImageError as e:
            return ImageError(str(e))


def _collate(size, results):
    """In the loader process: the readable images as one tensor (the very floats a thread would give: IDX images are
    interpolated, not bytes), their positions, and the others' reasons."""
    kept = [i for i, r in enumerate(results) if not isinstance(r, ImageError)]
    x = torch.stack([results[i] for i in kept]) if kept else torch.zeros((0, 3, size, size))
    return x, kept, [str(r) for r in results if isinstance(r, ImageError)]


class _Feed:
    """The batch sampler: the lists of Items the next pass asks for, set before each pass (workers persist)."""

    def __init__(self):
        self.lists = []

    def __iter__(self):
        return iter(self.lists)

    def __len__(self):
        return len(self.lists)


def default_workers(device, ranks):
    """Loader processes per rank when --workers is not given: on CUDA a share of the cores (the GPU waits on
    decoding otherwise), on the CPU none (the ranks' own threads use every core; a thread pool decodes)."""
    if device != "cuda":
        return 0
    return max(1, min(8, (os.cpu_count() or 2) // max(1, ranks) - 1))


class Loader:
    """Decodes batches in loader processes (a persistent torch DataLoader: prefetch, pinned memory on CUDA), or with
    workers=0 on a thread pool (Pillow releases the GIL while it decodes). Either way a pass over lists of Items
    yields them in order with the same pixels, so the order and the augmentation (drawn in the rank itself) do not
    depend on the number of workers."""

    def __init__(self, size, threads=None, workers=0, pin=False):
        self.size, self.workers = size, workers
        cache = PixelCache(RESIZER, size)
        self.cache = cache if cache.on else None
        self.pool = ThreadPoolExecutor(max_workers=threads or max(1, min(4, (os.cpu_count() or 2))))
        self.bad = {}
        self.feed = _Feed()
        self.dl = None
        if workers:
            self.dl = torch.utils.data.DataLoader(
                _Decoder(size, self.cache),
                batch_sampler=self.feed,
                num_workers=workers,
                collate_fn=functools.partial(_collate, size),
                pin_memory=pin,
                prefetch_factor=2,
                persistent_workers=True,
            )

    def _one(self, item):
        try:
            return decode(item, self.size, self.cache)
        except ImageError as e:
            return e

    def submit(self, items):
        return [self.pool.submit(self._one, it) for it in items]

    def collect(self, futures, items):
        """The decoded images and the positions kept; unreadable ones are remembered in `bad`."""
        xs, kept = [], []
        for i, (f, it) in enumerate(zip(futures, items)):
            r = f.result()
            if isinstance(r, ImageError):
                self.bad[it.describe()] = str(r)
                continue
            xs.append(r)
            kept.append(i)
        x = torch.stack(xs) if xs else torch.zeros((0, 3, self.size, self.size))
        return x, kept

    def batches(self, lists):
        """(x [n, 3, size, size] in [0, 1], kept positions) for each list of Items, in order, the next list decoding
        while the caller works on this one."""
        if self.dl is None:  # (a DataLoader's truth is its length)
            ahead = self.submit(lists[0]) if lists else None
            for i, items in enumerate(lists):
                now, ahead = ahead, (self.submit(lists[i + 1]) if i + 1 < len(lists) else None)
                yield self.collect(now, items)
            return
        self.feed.lists = [list(items) for items in lists]
        try:
            for items, (x, kept, bad) in zip(lists, self.dl):
                ok = set(kept)
                for it, reason in zip([it for i, it in enumerate(items) if i not in ok], bad):
                    self.bad[it.describe()] = reason
                yield x, kept
        except RuntimeError as e:
            if "DataLoader worker" not in str(e):
                raise
            raise EngineError(
                f"an image loader process died ({e}); its images were not decoded. Out of memory is the usual cause:"
                " fewer loader processes (--workers N, or 0 to decode in threads) use less"
            ) from e

    def close(self):
        self.pool.shutdown(wait=False)
        it = getattr(self.dl, "_iterator", None) if self.dl is not None else None
        if it is not None and hasattr(it, "_shutdown_workers"):
            it._shutdown_workers()
        self.dl = None


def normalize(x, pre):
    mean = torch.tensor(pre["mean"], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(pre["std"], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def draw_augment(ops, n, gen):
    """The random parameters of a whole global batch of n examples, drawn in a fixed order."""
    u = lambda: torch.rand(n, generator=gen, dtype=torch.float64)  # noqa: E731
    p = {}
    for op in ops:
        k = op["kind"]
        if k == "flip":
            p["flip_h"], p["flip_v"] = u() < 0.5, u() < 0.5
        elif k == "rotate":
            p["angle"] = (u() * 2 - 1) * op["degrees"]
        elif k in ("zoom", "shift"):
            p[k] = u() * 2 - 1
            if k == "shift":
                p["shift_x"] = u() * 2 - 1
        else:
            p[k] = u() * 2 - 1
    return p


def augment(x, ops, p, rows):
    """Applies drawn parameters `p` (of the global batch) to `x`, the examples at `rows` of it."""
    if not ops:
        return x
    kinds = {op["kind"]: op for op in ops}
    n = x.shape[0]
    pick = lambda name: p[name][rows].to(x.dtype)  # noqa: E731
    if "flip" in kinds:
        mode = kinds["flip"]["mode"]
        if mode != "vertical":
            x = torch.where(pick("flip_h").bool().view(n, 1, 1, 1), x.flip(3), x)
        if mode != "horizontal":
            x = torch.where(pick("flip_v").bool().view(n, 1, 1, 1), x.flip(2), x)
    theta = torch.zeros((n, 2, 3), dtype=x.dtype)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    moved = False
    if "rotate" in kinds:
        a = pick("angle") * math.pi / 180
        theta[:, 0, 0], theta[:, 0, 1], theta[:, 1, 0], theta[:, 1, 1] = (
            torch.cos(a),
            -torch.sin(a),
            torch.sin(a),
            torch.cos(a),
        )
        moved = True
    if "zoom" in kinds or "shift" in kinds:
        z = kinds["zoom"]["amount"] if "zoom" in kinds else 0.0
        s = kinds["shift"]["amount"] if "shift" in kinds else 0.0
        side = 1 / (1 + (pick("zoom") if "zoom" in kinds else torch.zeros(n, dtype=x.dtype)) * z)
        theta[:, :, :2] *= side.view(n, 1, 1)
        if "shift" in kinds:
            theta[:, 0, 2] = pick("shift_x") * s * 2
            theta[:, 1, 2] = pick("shift") * s * 2
        moved = True
    if moved:
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        # Outside the picture is grey (0.5), as tlr's TensorFlow.js engine fills it.
        x = F.grid_sample(x - 0.5, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + 0.5
    if "brightness" in kinds:
        x = x + (pick("brightness") * kinds["brightness"]["amount"]).view(n, 1, 1, 1)
    if "contrast" in kinds:
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        x = (x - mean) * (1 + pick("contrast") * kinds["contrast"]["amount"]).view(n, 1, 1, 1) + mean
    return x.clamp(0, 1)
