"""Errors of the classifier: small classes that carry what went wrong."""
from __future__ import annotations

from pathlib import Path


class ClassifierError(Exception):
    """Base class, so callers can catch every classifier failure at once."""


class DatasetError(ClassifierError):
    """A CSV file cannot be used as labelled examples."""

    def __init__(self, path: Path | str, reason: str, columns: tuple[str, ...] = ()) -> None:
        self.path = Path(path)
        self.reason = reason
        self.columns = columns
        found = f" (columns found: {', '.join(columns) or 'none'})" if columns else ""
        super().__init__(f"{self.path}: {reason}{found}")


class ModelNotFound(ClassifierError):
    """No model file (or not the named one) in the model folder."""

    def __init__(self, folder: Path | str, name: str | None = None) -> None:
        self.folder = Path(folder)
        self.name = name
        what = f"model {name!r}" if name else "no model file"
        super().__init__(f"{what} found in {self.folder}" if name else f"{what} in {self.folder}")


class TamperedModelError(ClassifierError):
    """A model file's sha256 differs from its sidecar, or its sidecar's signature is not the
    key's: it is refused, never unpickled."""

    def __init__(self, path: Path | str, expected: str, actual: str, reason: str | None = None) -> None:
        self.path = Path(path)
        self.expected = expected
        self.actual = actual
        self.reason = reason
        if reason is not None:
            super().__init__(f"refusing to load {self.path}: {reason}")
            return
        super().__init__(
            f"refusing to load {self.path}: its sha256 is {actual}, but its sidecar records "
            f"{expected or 'nothing'} (the file was changed or the sidecar is missing/corrupt)"
        )
