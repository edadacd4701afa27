"""Labelled examples read from CSV files (title, body, label; other columns ignored)."""
from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from classifier.errors import DatasetError

DATA_DIR = Path(__file__).parent / "data"
# The default model is trained on all shipped rows; the titles-only rows are training-only.
SHIPPED_DATA = (DATA_DIR / "dev.csv", DATA_DIR / "titles_only_extra.csv")
TEXT_COLUMNS = ("title", "body")
# The fraction of the data held out (by duplicate group) to report a trained model's scores on.
HOLDOUT = 0.1


@dataclass(frozen=True, slots=True)
class Example:
    title: str
    body: str
    label: str
    group: str = ""  # duplicate group, for group-aware splits; empty when unknown


def read_examples(path: Path | str) -> list[Example]:
    """Read labelled examples; rows with no label or no text at all are skipped."""
    path = Path(path)
    try:
        # utf-8-sig reads files with and without a BOM alike (Excel exports add one).
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = tuple((name or "").strip() for name in reader.fieldnames or ())
            _check_columns(path, columns)
            reader.fieldnames = list(columns)
            return [example for row in reader if (example := _example(row)) is not None]
    except UnicodeDecodeError as error:
        raise DatasetError(path, f"not UTF-8 text ({error.reason})") from error
    except csv.Error as error:
        raise DatasetError(path, f"not a readable CSV file ({error})") from error
    except FileNotFoundError as error:
        raise DatasetError(path, "file not found") from error


def _check_columns(path: Path, columns: tuple[str, ...]) -> None:
    if not any(columns):
        raise DatasetError(path, "empty file: no header row (title, body, label)")
    if "label" not in columns:
        raise DatasetError(path, "no 'label' column", columns)
    if not any(name in columns for name in TEXT_COLUMNS):
        raise DatasetError(path, "no text column: need 'title', 'body' or both", columns)


def _example(row: dict[str, str | None]) -> Example | None:
    title = (row.get("title") or "").strip()
    body = (row.get("body") or "").strip()
    label = (row.get("label") or "").strip()
    if not label or not (title or body):
        return None
    return Example(title=title, body=body, label=label, group=(row.get("dup_group") or "").strip())


def shipped_examples() -> list[Example]:
    """Every example shipped in classifier/data, the default model's training set."""
    return [example for path in SHIPPED_DATA for example in read_examples(path)]


def data_hash(source: Path | str | Iterable[Example]) -> str:
    """sha256 of a data file's bytes, or of the examples' (title, body, label) content."""
    if isinstance(source, (str, Path)):
        digest = hashlib.sha256()
        with Path(source).open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    digest = hashlib.sha256()
    for example in source:
        for field in (example.title, example.body, example.label):
            digest.update(field.encode("utf-8"))
            digest.update(b"\x1f")  # unit separator: ("ab", "c") must differ from ("a", "bc")
        digest.update(b"\x1e")
    return digest.hexdigest()


def labels_of(examples: Sequence[Example]) -> list[str]:
    return sorted({example.label for example in examples})
