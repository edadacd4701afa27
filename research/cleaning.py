"""Training rows whose label the model's own out-of-fold answer contradicts, left out of the fast
pair's training (confident learning, by hand): does the fast pair grow surer where it is right?

    python -m research.cleaning tables     # out of fold: for each tuning fold, its training rows
                                           # cross-fitted, flagged, dropped; the fast pair's tables
    python -m research.cleaning choose     # out of fold, with the 4-epoch fine-tuned fold tables
    python -m research.cleaning report VARIANT   # the report part, once
"""
from __future__ import annotations

import sys
import time
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold

from classifier.dataset import SHIPPED_DATA, Example, read_examples
from classifier.features import message_text
from classifier.model import train
from classifier.text import read_user_dict
from research.finetuned_report import CACHE, CEILINGS, THRESHOLDS, _fold_tables, _rule
from research.experiments import study_parts

VARIANTS = ("flagged", "strong")


def _texts(rows: Sequence[Example]) -> list[str]:
    return [message_text(e.title, e.body) for e in rows]


def _flags(dev: Sequence[Example], extra: Sequence[Example]) -> dict[str, np.ndarray]:
    """Each dev row's out-of-fold probabilities (3-fold GroupKFold by duplicate group, the
    titles-only rows in every training set); a row is flagged where some other label is above
    that label's own threshold (the mean probability of it over the rows that carry it) and is
    the likeliest such label, while the row's own label is under its threshold; strong: flagged
    and its own label at 0.1 or less."""
    words = tuple(read_user_dict())
    table, labels = None, None
    for a, b in GroupKFold(n_splits=3).split(dev, groups=[e.group for e in dev]):
        model = train([dev[i] for i in a] + list(extra), user_words=words)
        part = model.probabilities(_texts([dev[i] for i in b]))
        if table is None:
            labels = np.array(model.labels)
            table = np.zeros((len(dev), len(labels)))
        table[b] = part
    given = np.searchsorted(labels, [e.label for e in dev])
    floor = np.array([table[given == k, k].mean() for k in range(len(labels))])
    above = np.where(table >= floor, table, -1.0)
    above[np.arange(len(dev)), given] = -1.0
    other = above.argmax(1)
    own = table[np.arange(len(dev)), given]
    flagged = (above.max(1) >= 0) & (own < floor[given])
    return {"flagged": flagged, "strong": flagged & (own <= 0.1), "other": other}


def tables() -> None:
    tune, _, parts = study_parts()
    extra = read_examples(SHIPPED_DATA[1])
    words = tuple(read_user_dict())
    for number, (train_part, test_part) in enumerate(parts[:3], 1):
        dev = train_part[: len(train_part) - len(extra)]
        assert train_part[len(dev):] == extra
        started = time.perf_counter()
        flags = _flags(dev, extra)
        saved = {}
        for variant in VARIANTS:
            kept = [e for e, f in zip(dev, flags[variant]) if not f]
            model = train(kept + extra, user_words=words)
            saved[variant] = model.probabilities(_texts(test_part))[:, np.argsort(model.labels)]
            print(f"fold {number} {variant}: {int(flags[variant].sum())} of {len(dev)} rows left out", flush=True)
        np.savez(CACHE / f"cleaning_part{number}.npz", **saved)
        print(f"fold {number}: {time.perf_counter() - started:.0f} s", flush=True)


def _frontier(labels, truth, fast, tuned, ceiling: float = 0.88) -> str:  # type: ignore[no-untyped-def]
    mixed = _rule(fast, tuned, ceiling)
    right, top = labels[mixed.argmax(1)] == truth, mixed.max(1)
    points = [(t, (top >= t).mean(), right[top >= t].mean()) for t in THRESHOLDS if (top >= t).any()]
    chosen = next(((t, cov, acc) for t, cov, acc in points if acc >= 0.97), None)
    at = next((cov, acc) for t, cov, acc in points if t == 0.88)
    return (f"macro-F1 {f1_score(truth, labels[mixed.argmax(1)], average='macro'):.4f} / {right.mean():.4f}; "
            f"asked {(fast.max(1) < ceiling).mean():.3f}; at 0.88 {at[0]:.3f} / {at[1]:.4f}; "
            + (f"lowest reaching 0.97: {chosen[0]:.2f}, {chosen[1]:.3f} / {chosen[2]:.4f}" if chosen else "never 0.97")
            + "\n    " + ", ".join(f"{t:.2f}: {cov:.3f}/{acc:.4f}" for t, cov, acc in points if 0.78 <= t <= 0.92))


def choose() -> None:
    labels, truth, fast, tuned = _fold_tables((1, 2, 3), "_e4", "titled mean")
    print(f"out of fold, {len(truth)} rows, asked below 0.88")
    print("  shipped fast pair: " + _frontier(labels, truth, fast, tuned))
    for variant in VARIANTS:
        cleaned = np.concatenate([np.load(CACHE / f"cleaning_part{k}.npz")[variant] for k in (1, 2, 3)])
        print(f"  {variant}: " + _frontier(labels, truth, cleaned, tuned))


if __name__ == "__main__":
    {"tables": tables, "choose": choose}[sys.argv[1]]()
