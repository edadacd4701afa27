"""The windows of a message's model text that the second opinion reads. Its models were
fine-tuned on the first 256 characters ((title。) x 3 + body; at most 128 tokens), and more
than half of the messages are longer, so the rest is read too: in pieces of 256 characters,
each after the title part as the first window begins, up to 1,024 characters in all
(EXPERIMENTS.md, "Reading past the first 256 characters"). Found from the text alone, as
routing gives it to the second opinion: the title part is recognised at the text's start.
"""
from __future__ import annotations

from classifier.features import TITLE_END, TITLE_REPEAT

WINDOW = 256         # characters a window, as the models were fine-tuned
LATER_WINDOWS = 3    # after the first: the text up to 1,024 characters
SHORTEST = 32        # a shorter last piece is left out: too little to read


def title_part(text: str) -> str:
    """(title。) x 3 where the text begins with it, else ''."""
    at = text.find(TITLE_END)
    while 0 <= at < WINDOW:
        part = text[:at + 1]
        if text.startswith(part * TITLE_REPEAT):
            return part * TITLE_REPEAT
        at = text.find(TITLE_END, at + 1)
    return ""


def later_windows(text: str, titled: bool = True) -> list[str]:
    """The text past its first window, in pieces; `titled` (as shipped): each piece after the
    title part, so pieces of WINDOW less the title part; else plain pieces of WINDOW."""
    prefix = title_part(text) if titled else ""
    body, step = text[len(prefix):], WINDOW - len(prefix)   # the first window read body[:step]
    if step <= 0:
        return []
    pieces = (body[step * k:step * (k + 1)] for k in range(1, LATER_WINDOWS + 1))
    return [prefix + piece for piece in pieces if len(piece) >= SHORTEST]


def windows(text: str) -> list[str]:
    """Every window the second opinion reads: the first, then the later ones, titled."""
    return [text[:WINDOW], *later_windows(text)]
