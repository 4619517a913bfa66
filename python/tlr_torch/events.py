"""tlr's run events as NDJSON lines on stdout (src/runtime/events.ts has their types). Only rank 0
speaks, except for errors and
warnings, which every rank reports (the launcher says which rank failed; each rank reads its own
share of the images)."""

import json
import math
import sys


def _clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


class Events:
    def __init__(self, rank, out=None):
        self.rank = rank
        self.out = out or sys.stdout

    def emit(self, type_, **fields):
        if self.rank != 0 and type_ not in ("error", "warning"):
            return
        self.out.write(json.dumps(_clean({"type": type_, **fields}), allow_nan=False) + "\n")
        self.out.flush()

    def warning(self, message, file=None):
        self.emit("warning", message=message, **({"file": file} if file else {}))
