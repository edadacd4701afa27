"""Versioned model files with a JSON sidecar; a file is unpickled only if its hash matches
and, when a key is given, only if the sidecar's signature of that hash is the key's.

Unpickling runs code, so a model is loaded only from the folder it was asked for, from
bytes read once and checked before pickle sees them: their sha256 must equal the one the
sidecar recorded when it was written. A hash alone proves nothing against someone who can
write to the folder (they write a sidecar too), so with a key (the hotline passes
HOTLINE_SECRET_KEY when it is set) the sidecar also carries an HMAC of the file's name and
hash, and a file without the right one is refused unread.
"""
from __future__ import annotations

import hashlib
import hmac
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


def save_model(model: TrainedModel, folder: Path | str, *, data_hash: str, metrics: dict[str, Any],
               key: str | None = None) -> Path:
    """Write model-YYYYmmddHHMMSS.pkl and its .json sidecar, signed when a key is given;
    returns the model file's path."""
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
    if key is not None:
        sidecar["signature"] = file_signature(key, path.name, sidecar["sha256"])
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


def load_model(folder: Path | str, name: str | None = None, *, key: str | None = None) -> TrainedModel:
    """Load the newest model in folder (or the file called name in it); its hash, and with a
    key its signature, are checked before a byte of it is unpickled."""
    folder = Path(folder)
    path = _choose(folder, name)
    payload = path.read_bytes()  # read once: what is checked is what is unpickled
    actual = hashlib.sha256(payload).hexdigest()
    sidecar = read_sidecar(path)
    expected = sidecar.get("sha256", "")
    if not isinstance(expected, str) or not hmac.compare_digest(actual, expected):
        raise TamperedModelError(path, str(expected), actual)
    if key is not None:
        signature = sidecar.get("signature")
        if not isinstance(signature, str) or not signature.isascii() or \
                not hmac.compare_digest(signature, file_signature(key, path.name, actual)):
            raise TamperedModelError(path, expected, actual, reason="its sidecar has no valid signature "
                                     "(unsigned, or signed with another HOTLINE_SECRET_KEY)")
    model = pickle.loads(payload)  # noqa: S301 - the bytes are the ones we hashed (and signed) when saving
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


def file_signature(key: str, file_name: str, sha256: str) -> str:
    # A key of its own, derived from the secret: a model signature is never a valid cookie.
    own_key = hmac.new(key.encode("utf-8"), b"hotline classifier model files", hashlib.sha256).digest()
    return hmac.new(own_key, f"{file_name}\n{sha256}".encode("utf-8"), hashlib.sha256).hexdigest()


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
