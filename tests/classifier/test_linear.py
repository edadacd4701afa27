"""The calibrated SVM fits its calibration folds and its final SVM side by side in threads,
and gets the same model as one after another."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.svm import LinearSVC

from classifier.linear import CalibratedLinearSVC, _fit_temperature
from classifier.model import ModelSettings, texts_of, train


def _data(seed: int = 0) -> tuple[sp.csr_matrix, list[str]]:
    rng = np.random.RandomState(seed)
    labels = ["甲", "乙", "丙"]
    targets = [labels[i % 3] for i in range(90)]
    dense = rng.rand(90, 40) * (rng.rand(90, 40) < 0.3)
    for row, label in enumerate(targets):
        dense[row, labels.index(label)] += 1.0  # one telling column per class, plus noise
    return sp.csr_matrix(dense), targets


def test_the_temperature_is_fitted_on_held_out_scores_as_cross_val_predict_gives_them() -> None:
    matrix, targets = _data()
    svm = CalibratedLinearSVC(folds=3).fit(matrix, targets)
    held_out = cross_val_predict(LinearSVC(C=1.0, class_weight="balanced", random_state=0), matrix, targets,
                                 cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=0),
                                 method="decision_function")
    expected = _fit_temperature(held_out, np.searchsorted(svm.classes_, targets))
    assert svm.temperature == pytest.approx(expected, rel=1e-3)
    assert list(svm.classes_) == ["丙", "乙", "甲"]


def test_threads_give_the_same_svm_as_one_after_another() -> None:
    matrix, targets = _data(1)
    alone = CalibratedLinearSVC().fit(matrix, targets)
    with ThreadPoolExecutor(max_workers=2) as pool:
        threaded = CalibratedLinearSVC().fit(matrix, targets, pool)
    assert threaded.temperature == pytest.approx(alone.temperature, rel=1e-3)
    assert threaded.coef_ == pytest.approx(alone.coef_, abs=1e-3)
    assert (threaded.predict(matrix) == alone.predict(matrix)).all()


def test_a_model_trained_with_two_threads_predicts_as_one_trained_with_one(slices) -> None:  # type: ignore[no-untyped-def]
    rows = slices[0][:400]
    texts = texts_of(slices[1][:50])
    one = train(rows, settings=ModelSettings(threads=1)).probabilities(texts)
    two = train(rows, settings=ModelSettings(threads=2)).probabilities(texts)
    assert two == pytest.approx(one, abs=1e-3)
    assert (two.argmax(1) == one.argmax(1)).all()
