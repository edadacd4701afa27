"""Model selection, reproducible: `python -m classifier.experiments [tune|report|cv]`.

dev.csv is split once BY dup_group into a tuning part (80%) and a report part (20%). Every
choice is made on 3-fold GroupKFold inside the tuning part; the report part is scored once,
for the chosen model and the plain baseline, and never used to choose. The titles-only rows
are added to every training fold and never scored. `cv` runs SOURCE.md's 5-fold group CV on all of dev.csv for comparison with its reference
(the choices were made on part of that data, so read it as a cross-check, not as the score).
Results are in EXPERIMENTS.md.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GroupKFold, GroupShuffleSplit
from sklearn.svm import LinearSVC

from classifier.dataset import SHIPPED_DATA, Example, read_examples
from classifier.features import FeatureSettings, Features, message_text
from classifier.model import ModelSettings, train
from classifier.text import Tokenizer, read_user_dict

Split = tuple[list[Example], list[Example]]


def report_split(seed: int = 42) -> Split:
    """(tuning, report): dev.csv split by duplicate group, so no re-post crosses it."""
    dev = read_examples(SHIPPED_DATA[0])
    groups = [example.group for example in dev]
    tune, report = next(GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=seed).split(dev, groups=groups))
    return [dev[i] for i in tune], [dev[i] for i in report]


def tuning_folds(tune: Sequence[Example], extra: Sequence[Example]) -> list[Split]:
    groups = [example.group for example in tune]
    return [
        ([tune[i] for i in a] + list(extra), [tune[i] for i in b])
        for a, b in GroupKFold(n_splits=3).split(tune, groups=groups)
    ]


def classifiers() -> dict[str, Callable[[], object]]:
    return {
        "svc C=1": lambda: LinearSVC(C=1.0),
        "svc C=0.5": lambda: LinearSVC(C=0.5),
        "svc C=1 balanced": lambda: LinearSVC(C=1.0, class_weight="balanced"),
        "svc C=0.5 balanced": lambda: LinearSVC(C=0.5, class_weight="balanced"),
        "svc C=2 balanced": lambda: LinearSVC(C=2.0, class_weight="balanced"),
        "svc calibrated balanced": lambda: CalibratedClassifierCV(LinearSVC(C=1.0, class_weight="balanced"), cv=3),
        "logreg C=30 balanced": lambda: LogisticRegression(C=30, max_iter=300, class_weight="balanced"),
        "sgd modified_huber": lambda: SGDClassifier(loss="modified_huber", alpha=2e-5, random_state=0, class_weight="balanced"),
    }


def score(truth: Sequence[str], guess: Sequence[str]) -> tuple[float, float]:
    return f1_score(truth, guess, average="macro"), accuracy_score(truth, guess)


def tune(feature_grid: dict[str, tuple[FeatureSettings, int]], models: Sequence[str]) -> None:
    tune_part, _ = report_split()
    folds = tuning_folds(tune_part, read_examples(SHIPPED_DATA[1]))
    words = read_user_dict()
    for name, (settings, repeat) in feature_grid.items():
        results: dict[str, list[tuple[float, float]]] = {model: [] for model in models}
        started = time.perf_counter()
        for train_part, test_part in folds:
            features = Features(Tokenizer(words), settings)
            x_train = features.fit_transform([message_text(e.title, e.body, title_repeat=repeat) for e in train_part])
            x_test = features.transform([message_text(e.title, e.body, title_repeat=repeat) for e in test_part])
            y_train = [e.label for e in train_part]
            truth = [e.label for e in test_part]
            for model in models:
                results[model].append(score(truth, classifiers()[model]().fit(x_train, y_train).predict(x_test)))
        seconds = time.perf_counter() - started
        for model, rows in results.items():
            f1, accuracy = np.mean(rows, axis=0)
            print(f"| {name} | {model} | {f1:.4f} | {accuracy:.4f} | {seconds:.0f} s |", flush=True)


def baseline(train_part: Sequence[Example], test_part: Sequence[Example]) -> list[str]:
    """The plain recipe of SOURCE.md: title+body, word 1-2 + char 1-3 TF-IDF, LinearSVC."""
    features = Features(Tokenizer(), FeatureSettings(min_df=1, sublinear_tf=False, max_chars=20000, char_ngrams=(1, 3)))
    x_train = features.fit_transform([message_text(e.title, e.body, title_repeat=1) for e in train_part])
    x_test = features.transform([message_text(e.title, e.body, title_repeat=1) for e in test_part])
    return list(LinearSVC().fit(x_train, [e.label for e in train_part]).predict(x_test))


def group_cv() -> None:
    """5-fold GroupKFold on all of dev.csv, SOURCE.md's reference protocol (0.907 macro-F1)."""
    dev = read_examples(SHIPPED_DATA[0])
    extra = read_examples(SHIPPED_DATA[1])
    rows: dict[str, list[tuple[float, float]]] = {"baseline": [], "default model": []}
    for a, b in GroupKFold(n_splits=5).split(dev, groups=[e.group for e in dev]):
        train_part, test_part = [dev[i] for i in a], [dev[i] for i in b]
        truth = [e.label for e in test_part]
        rows["baseline"].append(score(truth, baseline(train_part, test_part)))
        model = train(train_part + extra, user_words=read_user_dict())
        rows["default model"].append(score(truth, model.predict_labels([message_text(e.title, e.body) for e in test_part])))
    for name, results in rows.items():
        f1, accuracy = np.mean(results, axis=0)
        spread = np.std(results, axis=0)
        print(f"{name}: macro-F1 {f1:.4f} ± {spread[0]:.4f}  accuracy {accuracy:.4f} ± {spread[1]:.4f}")


def report() -> None:
    """Score the baseline and the default model once on the report part."""
    tune_part, report_part = report_split()
    truth = [e.label for e in report_part]
    extra = read_examples(SHIPPED_DATA[1])
    guess = baseline(tune_part, report_part)
    print("baseline (tuning part only)  macro-F1 %.4f  accuracy %.4f" % score(truth, guess))
    started = time.perf_counter()
    model = train(tune_part + extra, user_words=read_user_dict(), settings=ModelSettings())
    guess = model.predict_labels([message_text(e.title, e.body) for e in report_part])
    print("default model (tuning part + titles-only)  macro-F1 %.4f  accuracy %.4f  (trained in %.0f s)"
          % (*score(truth, guess), time.perf_counter() - started))


def main(argv: Sequence[str]) -> None:
    if argv and argv[0] == "report":
        report()
        return
    if argv and argv[0] == "cv":
        group_cv()
        return
    # The first sweep (all classifiers); the later one-factor runs are in EXPERIMENTS.md and
    # are re-run with tune({...}, ["svc C=1 balanced"]).
    log_tf = {"sublinear_tf": True, "char_ngrams": (1, 3)}
    grid = {
        "title x1, min_df 1": (FeatureSettings(min_df=1, max_chars=3000, **log_tf), 1),
        "title x3": (FeatureSettings(max_chars=3000, **log_tf), 3),
        "title x3, char 2-3": (FeatureSettings(max_chars=3000, sublinear_tf=True, char_ngrams=(2, 3)), 3),
        "title x3, 1000 chars": (FeatureSettings(max_chars=1000, **log_tf), 3),
    }
    tune(grid, list(classifiers()))


if __name__ == "__main__":
    main(sys.argv[1:])
