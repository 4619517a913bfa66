"""The image loader: the same tensors, in the same order, from a thread pool and from 1 or 2 loader
processes; unreadable images reported alike; a loader process that dies is a named error."""

import os

import numpy as np
import pytest
import torch
from PIL import Image

from tlr_torch import data
from tlr_torch.data import Item, Loader
from tlr_torch.errors import EngineError


@pytest.fixture()
def images(tmp_path, monkeypatch):
    monkeypatch.setenv("TLR_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(3)
    items = []
    for i in range(11):
        p = tmp_path / f"{i}.png"
        Image.fromarray(rng.integers(0, 256, (20 + i, 30, 3), dtype=np.uint8)).save(p)
        items.append(Item(str(p), i % 2))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    items.insert(4, Item(str(bad), 0))
    return items


def _pass(loader, items):
    lists = [items[0:5], items[5:9], items[9:]]
    return [(x.clone(), kept) for x, kept in loader.batches(lists)]


def test_threads_and_loader_processes_give_the_same_batches(images):
    results = []
    for workers in (0, 1, 2):
        loader = Loader(16, threads=2, workers=workers)
        try:
            results.append((_pass(loader, images), _pass(loader, images), dict(loader.bad)))
        finally:
            loader.close()
    first, again, bad = results[0]
    assert [k for _, k in first] == [[0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2]]
    assert list(bad) == [images[4].path] and "cannot be read as an image" in bad[images[4].path]
    for other, other_again, other_bad in results[1:]:
        assert other_bad == bad
        for (x, k), (y, j) in zip(first + again, other + other_again):
            assert k == j and torch.equal(x, y)


def test_a_loader_process_that_dies_is_a_named_error(images, monkeypatch):
    def dies(item, size, cache=None):
        os._exit(9)

    monkeypatch.setattr(data, "decode", dies)
    loader = Loader(16, workers=1)
    try:
        with pytest.raises(EngineError, match="an image loader process died .*--workers N, or 0"):
            _pass(loader, images)
    finally:
        loader.close()
