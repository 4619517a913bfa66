"""The decoded-image cache, the twin of tlr's src/runtime/data/pixel-cache.ts (the two engines share
its entries): TLR_CACHE/pixels/RESIZER/SIZE/ab/SHA256.px, keyed by the sha256 of the encoded file,
holding "TLRPX1\\0\\0", the size and the CRC-32 of the pixels (little-endian uint32), then SIZE x SIZE
x 3 bytes of RGB. A damaged entry is removed and decoded again; writes are atomic; TLR_PIXEL_CACHE_MB
bounds it (default 4096: the oldest entries past 90% go when a process first opens it, and nothing
is written past the bound); TLR_PIXEL_CACHE=0 turns it off."""

import hashlib
import os
import re
import struct
import threading
import zlib

MAGIC = b"TLRPX1\0\0"
HEADER = len(MAGIC) + 8
_DEFAULT_MB = 4096
_USED = {}


def cache_root(env=os.environ):
    return env.get("TLR_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "tlr")


def bound(env=os.environ):
    if env.get("TLR_PIXEL_CACHE") == "0":
        return 0
    try:
        mb = float(env.get("TLR_PIXEL_CACHE_MB", _DEFAULT_MB))
    except ValueError:
        return 0
    return int(mb * 2**20) if mb > 0 else 0


def _trimmed(root, limit):
    if root in _USED:
        return _USED[root]
    found = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith(".px"):
                p = os.path.join(dirpath, name)
                try:
                    st = os.stat(p)
                except OSError:
                    continue
                found.append((st.st_mtime, st.st_size, p))
    found.sort()
    total = sum(s for _, s, _ in found)
    for _, size, p in found:
        if total <= limit * 0.9:
            break
        try:
            os.remove(p)
        except OSError:
            pass
        total -= size
    _USED[root] = total
    return total


class PixelCache:
    def __init__(self, resizer, size, env=os.environ):
        self.limit = bound(env)
        self.root = os.path.join(cache_root(env), "pixels")
        self.dir = os.path.join(self.root, re.sub(r"[^\w.-]", "_", resizer), str(size))
        self.size = size
        if self.limit:
            _trimmed(self.root, self.limit)

    @property
    def on(self):
        return self.limit > 0

    @staticmethod
    def key(encoded):
        return hashlib.sha256(encoded).hexdigest()

    def _file(self, key):
        return os.path.join(self.dir, key[:2], key + ".px")

    def get(self, key):
        """The pixels under `key` as bytes (size * size * 3), or None; a damaged entry is removed."""
        try:
            with open(self._file(key), "rb") as f:
                raw = f.read()
        except OSError:
            return None
        n = self.size * self.size * 3
        ok = (
            len(raw) == HEADER + n
            and raw[: len(MAGIC)] == MAGIC
            and struct.unpack_from("<II", raw, len(MAGIC)) == (self.size, zlib.crc32(memoryview(raw)[HEADER:]))
        )
        if not ok:
            try:
                os.remove(self._file(key))
            except OSError:
                pass
            return None
        return memoryview(raw)[HEADER:]

    def put(self, key, rgb):
        """Stores `rgb` (bytes) under `key`, unless at the bound; a failed write only skips the entry."""
        total = _USED.get(self.root, 0)
        size = HEADER + len(rgb)
        if total + size > self.limit:
            return
        path = self._file(key)
        # The loader's threads may decode the same file twice (a data set with copies): each writes its own.
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(MAGIC + struct.pack("<II", self.size, zlib.crc32(rgb)) + bytes(rgb))
            os.replace(tmp, path)
            _USED[self.root] = total + size
        except OSError:
            try:
                os.remove(tmp)
            except OSError:
                pass
