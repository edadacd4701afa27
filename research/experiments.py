"""Model selection, reproducible: `python -m research.experiments [tune|more|report|cv]`.

dev.csv is split once BY dup_group into a tuning part (80%) and a report part (20%). Every
choice is made on 3-fold GroupKFold inside the tuning part; the report part is scored once,
for the chosen model and the plain baseline, and never used to choose. The titles-only rows
are added to every training fold and never scored. `cv` runs SOURCE.md's 5-fold group CV on all of dev.csv for comparison with its reference
(the choices were made on part of that data, so read it as a cross-check, not as the score).
`more` is the second sweep (ensembles, NB-SVM, sample weights, bias offsets): nothing in it
beat the chosen model by more than the noise, so none of it is in the model.
Results are in EXPERIMENTS.md.
"""
from __future__ import annotations

import csv
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GroupKFold, GroupShuffleSplit, StratifiedKFold, cross_val_predict
from sklearn.svm import LinearSVC

from classifier.dataset import SHIPPED_DATA, Example, read_examples
from classifier.features import FeatureSettings, Features, message_text
from classifier.linear import CalibratedLinearSVC
from classifier.model import ModelSettings, texts_of, train
from classifier.text import Tokenizer, read_user_dict

Split = tuple[list[Example], list[Example]]
# The competition's label taxonomy: the team's copy beside the repository, not shipped
# (classifier/data holds only what training reads).
TAXONOMY = Path(os.environ.get("TAXONOMY_CSV", Path(__file__).resolve().parents[2]
                               / "shared/data/tipdm2020c_gov_messages/label_taxonomy.csv"))


def taxonomy() -> set[tuple[str, str, str]]:
    """The distinct (level1, level2, level3) rows of the taxonomy."""
    with TAXONOMY.open(encoding="utf-8-sig", newline="") as handle:
        return {(r["level1"].strip(), r["level2"].strip(), r["level3"].strip()) for r in csv.DictReader(handle)}


def report_split(seed: int = 42) -> Split:
    """(tuning, report): dev.csv split by duplicate group, so no re-post crosses it."""
    dev = read_examples(SHIPPED_DATA[0])
    groups = [example.group for example in dev]
    tune, report = next(GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=seed).split(dev, groups=groups))
    return [dev[i] for i in tune], [dev[i] for i in report]


def study_parts() -> tuple[list[Example], list[Example], list[Split]]:
    """(tuning, report, parts): the 3 folds of the tuning part, then the whole tuning part
    against the report part; the titles-only rows in every training set."""
    extra = read_examples(SHIPPED_DATA[1])
    tune, report = report_split()
    return tune, report, [*tuning_folds(tune, extra), (list(tune) + extra, report)]


def tuning_folds(tune: Sequence[Example], extra: Sequence[Example], seed: int | None = None) -> list[Split]:
    """3-fold GroupKFold; a seed renumbers the groups first, giving another 3-way split of them."""
    groups: list[object] = [example.group for example in tune]
    if seed is not None:
        names = sorted(set(groups), key=str)
        renumber = dict(zip(names, np.random.RandomState(seed).permutation(len(names))))
        groups = [renumber[group] for group in groups]
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


def nb_svm(x: sp.csr_matrix, y: np.ndarray, beta: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-vs-rest NB-SVM (Wang & Manning 2012) on binarised features, folded back into one
    weight matrix over x, so it would cost nothing extra at prediction time."""
    classes, weights, biases = np.unique(y), [], []
    present = (x > 0).astype(np.float64)
    for label in classes:
        mine = y == label
        p = 1 + np.asarray(present[mine].sum(axis=0)).ravel()
        q = 1 + np.asarray(present[~mine].sum(axis=0)).ravel()
        ratio = np.log((p / p.sum()) / (q / q.sum()))
        balance = np.where(mine, len(y) / (2 * mine.sum()), len(y) / (2 * (~mine).sum()))
        svm = LinearSVC().fit(x.multiply(ratio).tocsr(), mine, sample_weight=balance)
        w = svm.coef_.ravel()
        weights.append(((1 - beta) * np.abs(w).mean() + beta * w) * ratio)
        biases.append(svm.intercept_[0])
    return classes, np.array(weights), np.array(biases)


def macro_f1_offsets(scores: np.ndarray, truth: np.ndarray, steps: np.ndarray = np.linspace(-0.3, 0.3, 25)) -> np.ndarray:
    """Per-class score offsets maximising macro-F1 on held-out scores (coordinate ascent)."""
    offsets = np.zeros(scores.shape[1])
    for _ in range(3):
        for column in range(len(offsets)):
            def f1_with(step: float) -> float:
                trial = offsets.copy()
                trial[column] = step
                return f1_score(truth, (scores + trial).argmax(axis=1), average="macro")
            offsets[column] = max([offsets[column], *steps], key=f1_with)
    return offsets


def more() -> None:
    """The second sweep: 3-fold GroupKFold on the tuning part, twice (two group splits)."""
    tune_part, _ = report_split()
    extra = read_examples(SHIPPED_DATA[1])
    folds = tuning_folds(tune_part, extra) + tuning_folds(tune_part, extra, seed=1)
    words = read_user_dict()
    chosen = FeatureSettings()
    views = {  # other features, for LinearSVC alone or as an ensemble's second member
        "min_df 1": FeatureSettings(min_df=1),
        "log tf": FeatureSettings(sublinear_tf=True),
        "char 1-3": FeatureSettings(char_ngrams=(1, 3)),
        "words 1-1": FeatureSettings(word_ngrams=(1, 1)),
        "char 2-4 + words 1-1, log tf": FeatureSettings(word_ngrams=(1, 1), char_ngrams=(2, 4), sublinear_tf=True),
        "words 1-3 + char 1-1, log tf": FeatureSettings(word_ngrams=(1, 3), char_ngrams=(1, 1), sublinear_tf=True),
    }
    results: dict[str, list[tuple[float, float]]] = {}

    def matrices(settings: FeatureSettings, train_part: list[Example], test_part: list[Example]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        features = Features(Tokenizer(words), settings)
        return features.fit_transform(texts_of(train_part)), features.transform(texts_of(test_part))

    for train_part, test_part in folds:
        truth = [e.label for e in test_part]
        y = np.array([e.label for e in train_part])
        x_train, x_test = matrices(chosen, train_part, test_part)
        base = CalibratedLinearSVC().fit(x_train, y)
        classes, base_proba = base.classes_, base.predict_proba(x_test)
        guesses: dict[str, Sequence[str]] = {"chosen (LinearSVC C=1 balanced)": base.predict(x_test)}
        guesses["LinearSVC unweighted"] = LinearSVC().fit(x_train, y).predict(x_test)
        # Near-duplicate re-posts count once (titles-only rows have no group: their own).
        groups = [e.group or f"row-{i}" for i, e in enumerate(train_part)]
        sizes = Counter(groups)
        guesses["LinearSVC, rows weighted 1/dup-group size"] = LinearSVC(class_weight="balanced").fit(
            x_train, y, sample_weight=np.array([1 / sizes[g] for g in groups])).predict(x_test)
        firsts = sorted({group: i for i, group in reversed(list(enumerate(groups)))}.values())
        guesses["LinearSVC, one row per dup-group"] = LinearSVC(class_weight="balanced").fit(
            x_train[firsts], y[firsts]).predict(x_test)
        for beta in (0.25, 1.0):
            names, weights, biases = nb_svm(x_train, y, beta)
            guesses[f"NB-SVM beta={beta}"] = names[(x_test @ weights.T + biases).argmax(axis=1)]
        guesses["ridge alpha=1 balanced"] = RidgeClassifier(class_weight="balanced").fit(x_train, y).predict(x_test)
        logreg = LogisticRegression(C=30, max_iter=500, class_weight="balanced").fit(x_train, y)
        guesses["LinearSVC + logreg C=30 (same features, mean probability)"] = classes[(base_proba + logreg.predict_proba(x_test)).argmax(axis=1)]
        held_out = cross_val_predict(LinearSVC(class_weight="balanced"), x_train, y, method="decision_function",
                                     cv=StratifiedKFold(3, shuffle=True, random_state=0))
        offsets = macro_f1_offsets(held_out, np.searchsorted(classes, y))
        guesses["chosen + per-class offsets for macro-F1"] = classes[(base.decision_function(x_test) + offsets).argmax(axis=1)]
        for name, settings in views.items():
            other_train, other_test = matrices(settings, train_part, test_part)
            other = CalibratedLinearSVC().fit(other_train, y)
            guesses[f"{name}, alone"] = other.predict(other_test)
            guesses[f"chosen + ({name}), mean probability"] = classes[(base_proba + other.predict_proba(other_test)).argmax(axis=1)]
        for name, guess in guesses.items():
            results.setdefault(name, []).append(score(truth, guess))
        print(f"fold {len(results[name])} of {len(folds)} done", file=sys.stderr, flush=True)
    for name, rows in results.items():
        f1, accuracy = np.mean(rows, axis=0)
        print(f"| {name} | {f1:.4f} | {accuracy:.4f} |")


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
    if argv and argv[0] == "more":
        more()
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


def tuning_folds_plain(tune: Sequence[Example]) -> list[tuple[list[int], list[int]]]:
    """tuning_folds()'s 3 folds (seed None) as row indices into tune, without the extra rows."""
    return [(list(a), list(b)) for a, b in GroupKFold(n_splits=3).split(tune, groups=[e.group for e in tune])]
