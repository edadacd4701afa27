"""Research side of the later windows (classifier/text_windows.py, which the app uses): the
variants compared on fold 1 (EXPERIMENTS.md, "Reading past the first 256 characters") and how
a message's windows' probabilities were combined in each."""
from __future__ import annotations

import numpy as np

VARIANTS = ("plain mean", "plain first half", "titled mean", "titled first half")


def combine(first: np.ndarray, tails: list[np.ndarray], how: str) -> np.ndarray:
    """One message's opinion from its windows' probabilities: `mean`, all alike (shipped);
    `first half`, the first at 0.5 and the later ones sharing 0.5. No later window: the first's."""
    if not tails:
        return first
    if how == "mean":
        return np.mean([first, *tails], axis=0)
    return 0.5 * first + 0.5 * np.mean(tails, axis=0)
