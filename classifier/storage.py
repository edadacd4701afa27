"""Versioned model files with a JSON sidecar; a file is unpickled only if its hash matches.

Unpickling runs code, so a model is loaded only from the folder it was asked for and only
after the sha256 of its bytes equals the one its sidecar recorded when it was written.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import platform
import re
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from classifier.errors import ModelNotFound, TamperedModelError
from classifier.model import TrainedModel

log = logging.getLogger(__name__)

_NAME = re.compile(r"^model-(\d{14})(?:-(\d+))?\.pkl$")
_LIBRARIES = ("scikit-learn", "numpy", "scipy", "rjieba")


def save_model(model: TrainedModel, folder: Path | str, *, data_hash: str, metrics: dict[str, Any]) -> Path:
    """Write model-YYYYmmddHHMMSS.pkl and its .json sidecar; returns the model file's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    created = datetime.now(timezone.utc)
    path = _free_name(folder, created.strftime("%Y%m%d%H%M%S"))
    payload = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    sidecar = {
        "model_file": path.name,
        "sha256": hashlib.sha256(payload).hexdigest(),
        "data_hash": data_hash,
        "metrics": metrics,
        "labels": list(model.labels),
        "user_words": len(model.user_words),
        "created": created.isoformat(timespec="seconds"),
        "versions": {"python": platform.python_version(), **{name: _version(name) for name in _LIBRARIES}},
    }
    # Sidecar first, model last: a half-written folder never holds a model without its hash.
    _write_atomically(_sidecar(path), json.dumps(sidecar, ensure_ascii=False, indent=2).encode("utf-8"))
    _write_atomically(path, payload)
    log.info("classifier.model_saved path=%s sha256=%s", path, sidecar["sha256"])
    return path


def model_files(folder: Path | str) -> list[Path]:
    """Model files in the folder, oldest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [(match.group(1), int(match.group(2) or 0), path) for path in folder.iterdir()
             if (match := _NAME.match(path.name))]
    return [path for _, _, path in sorted(found)]


def load_model(folder: Path | str, name: str | None = None) -> TrainedModel:
    """Load the newest model in folder (or the file called name in it), hash checked first."""
    folder = Path(folder)
    path = _choose(folder, name)
    payload = path.read_bytes()
    actual = hashlib.sha256(payload).hexdigest()
    expected = read_sidecar(path).get("sha256", "")
    if actual != expected:
        raise TamperedModelError(path, expected, actual)
    model = pickle.loads(payload)  # noqa: S301 - the bytes are the ones we hashed when saving
    if not isinstance(model, TrainedModel):
        raise TamperedModelError(path, expected, f"{actual} (not a model)")
    log.info("classifier.model_loaded path=%s", path)
    return model


def read_sidecar(path: Path) -> dict[str, Any]:
    """The sidecar of a model file; empty when missing or unreadable (the load is refused)."""
    try:
        data = json.loads(_sidecar(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _choose(folder: Path, name: str | None) -> Path:
    if name is None:
        files = model_files(folder)
        if not files:
            raise ModelNotFound(folder)
        return files[-1]
    # Only a bare file name inside the folder: no paths, so nothing outside it is ever read.
    if not _NAME.match(name) or Path(name).name != name:
        raise ModelNotFound(folder, name)
    path = folder / name
    if not path.is_file():
        raise ModelNotFound(folder, name)
    return path


def _free_name(folder: Path, stamp: str) -> Path:
    path = folder / f"model-{stamp}.pkl"
    counter = 1
    while path.exists():
        path = folder / f"model-{stamp}-{counter}.pkl"
        counter += 1
    return path


def _sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"
