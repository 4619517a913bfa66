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


def _list_files(top):
    """Every file under `top`, relative with / separators, sorted; links listed, never followed."""
    out = []
    for root, dirs, files in os.walk(top):
        rel = os.path.relpath(root, top)
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            out.append(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/"))
    return sorted(out)


def write_marker(folder, marker, fields):
    """The marker of a folder tlr writes whole: `fields` and the list of every file in it (written last)."""
    files = [f for f in _list_files(folder) if f != marker]
    with open(os.path.join(folder, marker), "w", encoding="utf-8") as f:
        f.write(json.dumps({**fields, "files": files}) + "\n")


def strangers(folder, marker):
    """Files under `folder` that its marker does not list (src/files/owned.ts's rule): tlr never removes them."""
    if not os.path.isdir(folder):
        return []
    try:
        with open(os.path.join(folder, marker), encoding="utf-8") as f:
            listed = json.load(f).get("files")
    except (OSError, ValueError, AttributeError):
        listed = None
    own = set(listed) if isinstance(listed, list) else set()
    return [f for f in _list_files(folder) if f != marker and f not in own]


def replace_dir_atomic(path, fill, owned=None):
    """Fills a fresh folder through `fill(tmp)`, then puts it in place of `path` in two renames. With `owned` (a
    marker file), an existing `path` is replaced only when the marker lists every file in it."""
    recover_dir(path)
    others = strangers(path, owned) if owned else []
    if others:
        raise EngineError(
            f"cannot replace {path}: it holds {', '.join(others[:3])}, which tlr did not write ({owned} does not list "
            "it); move it out of the folder, or choose another folder"
        )
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


LOCK_FILE = ".tlr-lock"


def lock_folder(folder):
    """Takes a run folder's lock as src/files/lock.ts does (O_EXCL, the holder's pid, host and start; a dead holder's
    lock on this host taken over). Returns the release. A job folder launched twice at once would train twice."""
    import datetime
    import socket

    path = os.path.join(folder, LOCK_FILE)
    me = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "command": "tlr_torch run",
    }
    text = json.dumps(me) + "\n"
    for _ in range(5):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            try:
                with open(path, encoding="utf-8") as f:
                    held = f.read()
                holder = json.loads(held)
            except (OSError, ValueError):
                continue
            if holder.get("host") == me["host"] and not _alive(int(holder.get("pid", 0))):
                aside = f"{path}.stale-{os.getpid()}"
                try:
                    os.rename(path, aside)
                    os.remove(aside)
                except OSError:
                    pass
                continue
            raise EngineError(
                f"{folder} is in use: another tlr (process {holder.get('pid')} on {holder.get('host')}, since "
                f"{holder.get('started')}) holds this run folder ({path}). Wait for it to finish; if that process is "
                f"gone on another machine, remove {path} by hand"
            )
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)

        def release():
            try:
                with open(path, encoding="utf-8") as f:
                    if f.read() == text:
                        os.remove(path)
            except OSError:
                pass

        return release
    raise EngineError(f"{folder}: could not take the run folder's lock ({path}); try again")
