"""A second opinion that reads both kinds of evidence at once: the fast model's own TF-IDF
features with the message's e5 embedding appended (weight w), one calibrated SVM per tf kind,
probabilities averaged as the fast pair's are. Asked only below the routing threshold, in place
of the log-linear pool (research/fusion.py).

    python -m research.joint tables 0 0.5 1 2     # probability tables per weight (0 = the fast pair)
    python -m research.joint choose               # out-of-fold only: every weight, every threshold
    python -m research.joint report W             # the report part, scored once for the chosen W

Same split and folds as research/confidence.py (3 GroupKFold folds of the tuning part, the
titles-only rows in every training set; then the whole tuning part against the report part).
e5 vectors come from cache/e5 (`python -m research.e5_cache report|tune|extra`).
"""
from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import f1_score

from classifier.features import FeatureSettings, Features, message_text
from classifier.linear import CalibratedLinearSVC
from research.frozen_e5 import e5_text
from classifier.text import Tokenizer, read_user_dict
from research.e5_cache import key, load
from research.experiments import study_parts

CACHE = Path(__file__).parent.parent / "cache"
THRESHOLDS = (0.85, 0.86, 0.87, 0.88, 0.89, 0.90)


def _vectors(examples, have):  # type: ignore[no-untyped-def]
    missing = [e for e in examples if key(e5_text(message_text(e.title, e.body))) not in have]
    assert not missing, f"{len(missing)} rows have no e5 vector: run research.e5_cache first"
    return np.array([have[key(e5_text(message_text(e.title, e.body)))] for e in examples], dtype=np.float64)


def _probabilities(train_part, test_part, weight: float, words, have) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The pair (raw tf, log tf), each SVM on its features with weight x e5 appended."""
    block = (weight * _vectors(train_part, have), weight * _vectors(test_part, have)) if weight else None
    return pair_with_block(train_part, test_part, Tokenizer(words), block)


def pair_with_block(train_part, test_part, tokenizer, block=None):  # type: ignore[no-untyped-def]
    """The fast pair's probabilities averaged, each SVM on its TF-IDF features with the dense
    `block` (training rows, test rows) appended when given."""
    texts = [message_text(e.title, e.body) for e in train_part]
    test_texts = [message_text(e.title, e.body) for e in test_part]
    targets = [e.label for e in train_part]
    extra, test_extra = (sp.csr_matrix(block[0]), sp.csr_matrix(block[1])) if block is not None else (None, None)
    tables = []
    for settings in (FeatureSettings(), replace(FeatureSettings(), sublinear_tf=True)):
        features = Features(tokenizer, settings)
        cleaned, tokens = features.prepare(texts)
        matrix = features.fit_prepared(cleaned, tokens)
        test_matrix = features.transform(test_texts)
        if block is not None:
            matrix, test_matrix = sp.hstack([matrix, extra]).tocsr(), sp.hstack([test_matrix, test_extra]).tocsr()
        svm = CalibratedLinearSVC().fit(matrix, targets)
        tables.append(svm.predict_proba(test_matrix))
        labels = [str(x) for x in svm.classes_]
    return (tables[0] + tables[1]) / 2, labels


def tables(weights: list[str]) -> None:
    words, have = tuple(read_user_dict()), load()
    write_tables("joint", weights, lambda train_part, test_part, weight: _probabilities(
        train_part, test_part, weight, words, have))


def write_tables(name: str, weights: list[str], probabilities) -> None:  # type: ignore[no-untyped-def]
    """cache/{name}_{w}.npz for each weight: out-of-fold and report-part probability tables of
    probabilities(train_part, test_part, w) -> (table, labels)."""
    tune, report, parts = study_parts()
    index = {id(e): i for i, e in enumerate(tune)}
    order = [index[id(e)] for _, test_part in parts[:3] for e in test_part]
    for weight in map(float, weights):
        out = []
        for number, (train_part, test_part) in enumerate(parts, 1):
            started = time.perf_counter()
            table, labels = probabilities(train_part, test_part, weight)
            out.append(table)
            print(f"w={weight} part {number}: {time.perf_counter() - started:.0f} s", flush=True)
        np.savez(CACHE / f"{name}_{weight}.npz", labels=np.array(labels), oof_index=np.array(order),
                 oof_truth=np.array([tune[i].label for i in order]), report_truth=np.array([e.label for e in report]),
                 oof=np.concatenate(out[:3]), report=out[3])


def _figures(fast: np.ndarray, second: np.ndarray, truth: np.ndarray, labels: np.ndarray, t: float):  # type: ignore[no-untyped-def]
    """Routing at t: the fast answer at or above t; below, the second opinion's, routed when its
    confidence reaches t. Returns (macro-F1, accuracy) of every final answer, coverage, accuracy
    of the routed ones, share asked."""
    asked = fast.max(1) < t
    final = np.where(asked[:, None], second, fast)
    guess = labels[final.argmax(1)]
    routed = final.max(1) >= t
    right = guess == truth
    return (f1_score(truth, guess, average="macro"), right.mean(), routed.mean(),
            right[routed].mean(), asked.mean())


def _load(weight: float):  # type: ignore[no-untyped-def]
    return np.load(CACHE / f"joint_{weight}.npz")


def choose() -> None:
    fast = _load(0.0)
    labels, truth = fast["labels"], fast["oof_truth"]
    weights = sorted(float(p.stem.split("_")[1]) for p in CACHE.glob("joint_*.npz"))
    print("out-of-fold (5,060 rows): weight, threshold -> macro-F1 / accuracy of all, coverage / accuracy routed, asked")
    for weight in weights:
        second = _load(weight)["oof"]
        alone = labels[second.argmax(1)]
        print(f"w={weight}: alone macro-F1 {f1_score(truth, alone, average='macro'):.4f} "
              f"accuracy {(alone == truth).mean():.4f}")
        for t in THRESHOLDS:
            f1, acc, cov, sel, asked = _figures(fast["oof"], second, truth, labels, t)
            print(f"  t={t:.2f}: {f1:.4f} / {acc:.4f}   {cov:.3f} / {sel:.4f}   asked {asked:.3f}")


def report(weight: float) -> None:
    fast, second = _load(0.0), _load(weight)
    labels, truth = fast["labels"], fast["report_truth"]
    print(f"report part ({len(truth)} rows), w={weight}")
    for t in THRESHOLDS:
        for name, table in (("fast pair alone", fast["report"]), ("joint below t", second["report"])):
            f1, acc, cov, sel, asked = _figures(fast["report"], table, truth, labels, t)
            print(f"  t={t:.2f} {name:16s}: {f1:.4f} / {acc:.4f}   {cov:.3f} / {sel:.4f}   asked {asked:.3f}")


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    {"tables": lambda: tables(rest), "choose": choose, "report": lambda: report(float(rest[0]))}[command]()
