"""The later windows of a message's model text, for the second opinion to read past its first
256 characters (EXPERIMENTS.md, "Reading past the first 256 characters"). From the text alone,
as the app's second opinion gets it: the title part, (title。) x 3, is found at its start."""
from __future__ import annotations

import numpy as np

from classifier.features import TITLE_END, TITLE_REPEAT

WINDOW = 256         # characters a window, as the first is cut (classifier/second_opinion.py, MAX_CHARS)
TAIL_WINDOWS = 3     # after the first: the text up to 1,024 characters
SHORTEST_TAIL = 32   # a shorter last piece is left out
VARIANTS = ("plain mean", "plain first half", "titled mean", "titled first half")


def title_part(text: str) -> str:
    """(title。) x 3 where the text begins with it, else ''."""
    at = text.find(TITLE_END)
    while 0 <= at < WINDOW:
        part = text[:at + 1]
        if text.startswith(part * TITLE_REPEAT):
            return part * TITLE_REPEAT
        at = text.find(TITLE_END, at + 1)
    return ""


def tail_windows(text: str, titled: bool) -> list[str]:
    """The text past its first WINDOW characters, in pieces of WINDOW; `titled`: each piece
    after the title part, as the first window begins (so pieces of WINDOW less the title part)."""
    prefix = title_part(text) if titled else ""
    body, step = text[len(prefix):], WINDOW - len(prefix)   # the first window read body[:step]
    if step <= 0:
        return []
    pieces = (body[step * k:step * (k + 1)] for k in range(1, TAIL_WINDOWS + 1))
    return [prefix + piece for piece in pieces if len(piece) >= SHORTEST_TAIL]


def combine(first: np.ndarray, tails: list[np.ndarray], how: str) -> np.ndarray:
    """One message's opinion from its windows' probabilities: `mean`, all alike; `first half`,
    the first at 0.5 and the later ones sharing 0.5. No later window: the first's."""
    if not tails:
        return first
    if how == "mean":
        return np.mean([first, *tails], axis=0)
    return 0.5 * first + 0.5 * np.mean(tails, axis=0)
