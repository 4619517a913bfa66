"""Writes that happen whole or not at all, named as tlr's Node side names them, so either side
recovers what the other left (src/files/atomic.ts): `.NAME.tmp-PID-RANDOM`, `.NAME.old-PID-RANDOM`."""

import json
import os
import re
import secrets
import shutil

from .errors import EngineError


def _suffix():
    return f"{os.getpid()}-{secrets.token_hex(6)}"


def _failed(target, e):
    why = {
        28: "the disk is full",
        122: "the disk quota is used up",
        13: "permission denied",
        30: "the file system is read-only",
    }.get(getattr(e, "errno", None), str(e))
    return EngineError(f"could not write {target}: {why}; nothing was changed there")


def write_atomic(path, data):
    """Writes bytes or text to `path` through an exclusively created temporary file and a rename."""
    folder, base = os.path.split(path)
    tmp = os.path.join(folder, f".{base}.tmp-{_suffix()}")
    try:
        os.makedirs(folder or ".", exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise _failed(path, e) from e


def write_json(path, value):
    write_atomic(path, json.dumps(value, indent=2) + "\n")


def append_line(path, line):
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line if line.endswith("\n") else line + "\n")
    except OSError as e:
        raise _failed(path, e) from e


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except PermissionError:
        return True
    except OSError:
        return False


def recover_dir(path):
    """What a killed replace left beside `path`: the old folder comes back when `path` is missing."""
    parent, base = os.path.split(path)
    try:
        names = os.listdir(parent)
    except OSError:
        return
    pattern = re.compile(r"^\.?" + re.escape(base) + r"\.(tmp|old)-(\d+)-")
    leftovers = [(n, m.group(1)) for n in names for m in [pattern.match(n)] if m and not _alive(int(m.group(2)))]
    old = next((n for n, kind in leftovers if kind == "old"), None)
    if old and not os.path.exists(path):
        os.rename(os.path.join(parent, old), path)
    for n, _ in leftovers:
        shutil.rmtree(os.path.join(parent, n), ignore_errors=True)


def replace_dir_atomic(path, fill):
    """Fills a fresh folder through `fill(tmp)`, then puts it in place of `path` in two renames."""
    recover_dir(path)
    parent, base = os.path.split(path)
    tmp = os.path.join(parent, f".{base}.tmp-{_suffix()}")
    try:
        os.makedirs(parent, exist_ok=True)
        os.mkdir(tmp)
        fill(tmp)
    except EngineError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _failed(path, e) from e
    old = os.path.join(parent, f".{base}.old-{_suffix()}")
    if os.path.exists(path):
        os.rename(path, old)
    os.rename(tmp, path)
    shutil.rmtree(old, ignore_errors=True)
