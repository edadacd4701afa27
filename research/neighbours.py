"""Do a message's nearest training rows agree with the answer? A second confidence signal beside
the fast pair's probability, for routing only (answers unchanged).

    python -m research.neighbours tables   # out of fold: each tuning fold's 20 nearest training rows
    python -m research.neighbours choose   # out of fold, with the 4-epoch fine-tuned fold tables
"""
from __future__ import annotations

import sys
import time

import numpy as np

from classifier.features import message_text
from classifier.model import train
from classifier.text import read_user_dict
from research.experiments import study_parts
from research.finetuned_report import CACHE, THRESHOLDS, _fold_tables, _rule

NEAREST = 20
SHARES = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def _nearest(model, train_texts: list[str], texts: list[str]) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Indices and cosine similarities of each text's nearest training rows (the raw-tf SVM's features)."""
    known = model.features.transform(train_texts)
    asked = model.features.transform(texts)
    known = known.multiply(1 / np.sqrt(known.multiply(known).sum(1)).clip(1e-12)).tocsr()
    asked = asked.multiply(1 / np.sqrt(asked.multiply(asked).sum(1)).clip(1e-12)).tocsr()
    sims = (asked @ known.T).toarray()
    order = np.argsort(-sims, axis=1)[:, :NEAREST]
    return order, np.take_along_axis(sims, order, 1)


def tables() -> None:
    words = tuple(read_user_dict())
    for number, (train_part, test_part) in enumerate(study_parts()[2][:3], 1):
        started = time.perf_counter()
        model = train(train_part, user_words=words)
        texts = [message_text(e.title, e.body) for e in test_part]
        order, sims = _nearest(model, [message_text(e.title, e.body) for e in train_part], texts)
        labels = np.array(sorted(model.labels))
        np.savez(CACHE / f"neighbours_part{number}.npz", order=order, sims=sims,
                 neighbour_labels=np.searchsorted(labels, [e.label for e in train_part])[order])
        print(f"fold {number}: {time.perf_counter() - started:.0f} s", flush=True)


def choose(k: int = 10) -> None:
    labels, truth, fast, tuned = _fold_tables((1, 2, 3), "_e4", "titled mean")
    near = [np.load(CACHE / f"neighbours_part{n}.npz") for n in (1, 2, 3)]
    neighbour_labels = np.concatenate([p["neighbour_labels"] for p in near])[:, :k]
    sims = np.concatenate([p["sims"] for p in near])[:, :k]
    mixed = _rule(fast, tuned, 0.88)
    answer, top = mixed.argmax(1), mixed.max(1)
    right = labels[answer] == truth
    same = neighbour_labels == answer[:, None]
    signals = {"share": same.mean(1), "weighted": (same * sims).sum(1) / sims.sum(1).clip(1e-12)}
    print(f"out of fold, {len(truth)} rows, {k} nearest")
    best = None
    for name, share in signals.items():
        print(f"  {name}: right where share >= 0.5 {right[share >= 0.5].mean():.4f} ({(share >= 0.5).mean():.3f}), "
              f"below {right[share < 0.5].mean():.4f}")
        for a in SHARES:
            points = [(t, ((top >= t) & (share >= a)).mean(), right[(top >= t) & (share >= a)].mean()) for t in THRESHOLDS]
            chosen = next(((t, c, r) for t, c, r in points if r >= 0.97), None)
            print(f"    share >= {a}: " + (f"lowest reaching 0.97 {chosen[0]:.2f}: {chosen[1]:.3f} / {chosen[2]:.4f}"
                                           if chosen else "never 0.97"))
            if chosen and (best is None or chosen[1] > best[3]):
                best = (name, a, *chosen)
    print(f"chosen: {best}")


if __name__ == "__main__":
    {"tables": tables, "choose": lambda: choose(*map(int, sys.argv[2:]))}[sys.argv[1]]()
