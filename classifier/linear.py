"""A linear SVM whose scores are turned into calibrated probabilities.

CalibratedClassifierCV keeps one float64 SVM per fold (about 40 MB each at our vocabulary
size) and its per-class sigmoids can reorder the classes. Here one SVM is fitted on all rows
and kept as float32 weights, and probabilities are softmax(scores / temperature), with the
temperature fitted on out-of-fold scores (temperature scaling): calibrated, and the most
probable label is always the SVM's own answer.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC


class CalibratedLinearSVC:
    def __init__(self, *, c: float = 1.0, class_weight: str | None = "balanced", folds: int = 3) -> None:
        self.c = c
        self.class_weight = class_weight
        self.folds = folds
        self.classes_ = np.array([], dtype=object)
        self.coef_ = np.zeros((0, 0), dtype=np.float32)
        self.intercept_ = np.zeros(0, dtype=np.float32)
        self.temperature = 1.0

    def _svm(self) -> LinearSVC:
        return LinearSVC(C=self.c, class_weight=self.class_weight)

    def fit(self, matrix: sp.csr_matrix, targets: Sequence[str], executor: Executor | None = None) -> CalibratedLinearSVC:
        """Fit; with an executor (threads), the calibration folds and the final SVM are fitted
        side by side: liblinear releases the GIL while it fits."""
        return self.fit_submit(matrix, targets, executor)()

    def fit_submit(self, matrix: sp.csr_matrix, targets: Sequence[str],
                   executor: Executor | None = None) -> Callable[[], CalibratedLinearSVC]:
        """Start fitting (on the executor, if any); the returned call waits and finishes."""
        y = np.asarray(targets)
        folds = list(StratifiedKFold(n_splits=self.folds, shuffle=True, random_state=0).split(matrix, y))

        def fitted(rows: np.ndarray | None) -> LinearSVC:
            return self._svm().fit(matrix, y) if rows is None else self._svm().fit(matrix[rows], y[rows])

        jobs: list[Future[LinearSVC] | LinearSVC] = [
            executor.submit(fitted, rows) if executor is not None else fitted(rows)
            for rows in [None] + [train for train, _ in folds]]

        def finish() -> CalibratedLinearSVC:
            svm, *fold_svms = [job.result() if isinstance(job, Future) else job for job in jobs]
            # Scores each row got from an SVM that did not see it: what calibration must map.
            # (Stratified folds of at most the smallest class's size: every fold sees every class.)
            held_out = np.zeros((len(y), *svm.decision_function(matrix[:1]).shape[1:]))
            for (_, test), fold_svm in zip(folds, fold_svms):
                held_out[test] = fold_svm.decision_function(matrix[test])
            self.temperature = _fit_temperature(held_out, np.searchsorted(svm.classes_, y))
            self.classes_ = svm.classes_
            self._by_feature = None
            self.coef_ = svm.coef_.astype(np.float32)
            self.intercept_ = svm.intercept_.astype(np.float32)
            return self

        return finish

    def decision_function(self, matrix: sp.csr_matrix) -> np.ndarray:
        return np.asarray(matrix @ self._coef_by_feature()) + self.intercept_

    def _coef_by_feature(self) -> np.ndarray:
        """coef_.T laid out in memory as scipy reads it. Given the transposed view, scipy
        copied the whole model (features x labels) on every product, a single text's too;
        the numbers it multiplies are the same, so the scores are identical to the bit."""
        kept = getattr(self, "_by_feature", None)
        if kept is None:
            kept = self._by_feature = np.ascontiguousarray(self.coef_.T)
        return kept

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state.pop("_by_feature", None)  # derived: model files stay as they were
        return state

    def predict_proba(self, matrix: sp.csr_matrix) -> np.ndarray:
        return softmax(self.decision_function(matrix) / self.temperature, axis=1)

    def predict_proba_row(self, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
        """predict_proba() of a single row given as (column indices, values)."""
        return softmax((self.coef_[:, columns] @ values + self.intercept_) / self.temperature)

    def predict(self, matrix: sp.csr_matrix) -> np.ndarray:
        return self.classes_[self.decision_function(matrix).argmax(axis=1)]


def _fit_temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of the true labels."""
    rows = np.arange(len(truth))

    def loss(log_t: float) -> float:
        return float(-log_softmax(scores / np.exp(log_t), axis=1)[rows, truth].mean())

    return float(np.exp(minimize_scalar(loss, bounds=(-5, 3), method="bounded").x))
