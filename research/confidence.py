"""Confidence for selective routing, beyond the top probability of the default model.

`python -m research.confidence tables` trains, on each of the 3 GroupKFold folds of the
tuning part and once on the whole tuning part (titles-only rows in every training set), the
default model and a second calibrated SVM on the same grams with log tf (sublinear), and
writes their probability tables (out-of-fold rows, report rows) to cache/confidence.npz.
`... report` compares confidence scores: chosen on the out-of-fold rows, measured once on
the report rows.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from classifier.features import FeatureSettings
from classifier.model import ModelSettings, texts_of, train
from classifier.text import read_user_dict
from research.experiments import study_parts

CACHE = Path(__file__).parent.parent / "cache"
# Each SVM alone (the shipped model averages the two: `fusion` reads both tables).
VARIANTS = {"svm": ModelSettings(log_tf_partner=False),
            "svm_log": ModelSettings(features=FeatureSettings(sublinear_tf=True), log_tf_partner=False)}


def tables(names: list[str]) -> None:
    """One variant at a time, each saved as it ends (cache/confidence_NAME.npz)."""
    tune, report, parts = study_parts()
    words = tuple(read_user_dict())
    index = {id(e): i for i, e in enumerate(tune)}
    order = [index[id(e)] for _, test_part in parts[:3] for e in test_part]
    for name in names:
        out, labels = [], None
        for number, (train_part, test_part) in enumerate(parts, 1):
            started = time.perf_counter()
            model = train(train_part, user_words=words, settings=VARIANTS[name])
            labels = model.labels
            out.append(model.probabilities(texts_of(test_part)))
            print(f"{name} part {number}: {time.perf_counter() - started:.0f} s", flush=True)
        np.savez(CACHE / f"confidence_{name}.npz", labels=np.array(labels), oof_index=np.array(order),
                 oof_truth=np.array([tune[i].label for i in order]), report_truth=np.array([e.label for e in report]),
                 oof=np.concatenate(out[:3]), report=out[3])
        print("written", CACHE / f"confidence_{name}.npz", flush=True)


if __name__ == "__main__":
    {"tables": tables}[sys.argv[1]](sys.argv[2:])
