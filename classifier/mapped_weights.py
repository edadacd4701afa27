"""Weights kept in one float32 file and mapped read-only, so that the processes of one server
(`hotline serve --workers N`) share a single copy in the page cache instead of each holding
its own: the three fine-tuned e5 models are 255 MB of float32 a process when built in memory.

The file is named after a digest of everything it is built from, written once by one process
while the others wait (to a temporary name, then renamed, so a reader never sees half of it)
and checked against the digest of its bytes, recorded beside it, each time it is mapped: a
file that does not match is built again. It holds numbers only and is read without pickle.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from classifier.storage import file_signature

log = logging.getLogger(__name__)

FORMAT = 1                        # bumped when the layout of the arrays changes
_NAME = re.compile(r"^[0-9a-f]{64}\.(f32|json)$")
_CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def cache_name(sources: Iterable[Path], *, layout: str) -> str:
    """The cache file's name: the digest of the layout's name, the format and each source's bytes."""
    digest = hashlib.sha256(f"{layout}\n{FORMAT}\n".encode())
    for path in sources:
        digest.update(file_digest(path).encode())
    return digest.hexdigest()


def mapped_arrays(folder: Path, name: str, build: Callable[[], Iterable[tuple[str, np.ndarray]]],
                  secret: str | None = None) -> dict[str, np.ndarray]:
    """The arrays `build` yields, by name, as read-only float32 views into folder/<name>.f32:
    mapped when that file is there and sound, else built, written as they come (so the builder
    holds few of them at once) and then mapped. Where the file cannot be written, the arrays
    as built, in memory. With a `secret` (HOTLINE_SECRET_KEY) the digest beside the file is
    signed, as model files are, so that a file written by someone without it is built again."""
    arrays = _read(folder, name, secret)
    if arrays is not None:
        return arrays
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with _lock(folder):
            arrays = _read(folder, name, secret)   # another process may have built it while this one waited
            if arrays is None:
                _write(folder, name, build(), secret)
                _remove_others(folder, name)
                arrays = _read(folder, name, secret)
            if arrays is None:
                raise OSError(f"{folder / name}.f32: written but not readable")
            return arrays
    except OSError as exc:   # a read-only or full disk: this process keeps its own copy
        log.warning("weight cache not written in %s (%s): weights kept in this process's memory", folder, exc,
                    extra={"event": "weight_cache_unwritable"})
        return dict(build())


def _read(folder: Path, name: str, secret: str | None) -> dict[str, np.ndarray] | None:
    data, index = folder / f"{name}.f32", folder / f"{name}.json"
    if not data.exists() or not index.exists():
        return None
    try:
        recorded = json.loads(index.read_text(encoding="utf-8"))
        sha256 = file_digest(data)
        if not hmac.compare_digest(sha256, str(recorded["sha256"])) or (secret is not None and not hmac.compare_digest(
                file_signature(secret, data.name, sha256), str(recorded.get("signature", "")))):
            log.warning("weight cache %s does not match its digest or signature: building it again", data,
                        extra={"event": "weight_cache_mismatch"})
            return None
        flat = np.memmap(data, dtype="<f4", mode="r")
        arrays, at = {}, 0
        for array, shape in recorded["arrays"]:
            size = int(np.prod(shape))
            arrays[array] = flat[at:at + size].reshape(shape)
            at += size
        if at != len(flat):
            raise ValueError("the arrays do not fill the file")
        return arrays
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("weight cache %s unreadable (%s): building it again", data, exc,
                    extra={"event": "weight_cache_unreadable"})
        return None


def _write(folder: Path, name: str, arrays: Iterable[tuple[str, np.ndarray]], secret: str | None) -> None:
    data, index = folder / f"{name}.f32", folder / f"{name}.json"
    shapes, digest = [], hashlib.sha256()
    try:
        with open(_temporary(data), "wb") as file:
            for array_name, array in arrays:
                values = np.ascontiguousarray(array, dtype="<f4")
                file.write(values.data)
                digest.update(values.data)
                shapes.append([array_name, list(values.shape)])
    except BaseException:
        _temporary(data).unlink(missing_ok=True)   # a full disk keeps no half file
        raise
    _replace(_temporary(data), data)
    recorded: dict[str, object] = {"sha256": digest.hexdigest(), "arrays": shapes}
    if secret is not None:
        recorded["signature"] = file_signature(secret, data.name, digest.hexdigest())
    _temporary(index).write_text(json.dumps(recorded), encoding="utf-8")
    _replace(_temporary(index), index)
    log.info("weight cache written: %s (%.0f MB)", data, data.stat().st_size / 1e6,
             extra={"event": "weight_cache_written"})


@contextlib.contextmanager
def _lock(folder: Path) -> Iterator[None]:
    """One builder at a time: workers starting together wait for the first one's file."""
    with open(folder / ".lock", "a") as file:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)


def _temporary(path: Path) -> Path:
    # Named by process, so that what a builder that died left is told apart from this one's.
    return path.with_name(f"{path.name}.{os.getpid()}.tmp")


def _replace(temporary: Path, path: Path) -> None:
    with open(temporary, "rb") as file:
        os.fsync(file.fileno())
    os.replace(temporary, path)


def _remove_others(folder: Path, name: str) -> None:
    """Files of other sources (an earlier version's weights; a process still mapping one keeps
    its pages until it ends) and half files of builders that died (under the lock, no builder
    is at work)."""
    for path in folder.iterdir():
        if (_NAME.match(path.name) and not path.name.startswith(name)) or path.name.endswith(".tmp"):
            path.unlink(missing_ok=True)
