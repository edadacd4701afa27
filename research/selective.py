"""Selective routing: confidences on the split, for choosing the routing threshold.

`python -m research.selective scores` trains the default model on 3 GroupKFold folds of the
tuning part (out-of-fold confidences: where the threshold is chosen) and once on the whole
tuning part (confidences on the report part: where the chosen threshold is measured), the
titles-only rows in every training set; it writes research/out/selective.npz.
`python -m research.selective report` reads that file and prints the curve and the choice.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from classifier.dataset import SHIPPED_DATA, read_examples
from classifier.model import texts_of, train
from classifier.selective import choose_threshold, expected_calibration_error, selective_curve
from classifier.text import read_user_dict
from research.experiments import report_split, tuning_folds

OUT = Path(__file__).parent / "out" / "selective.npz"


def _scores(model, examples) -> tuple[np.ndarray, np.ndarray, list[str]]:
    table = model.probabilities(texts_of(examples))
    _TABLES.append((model.labels, table))
    best = table.argmax(axis=1)
    guess = [model.labels[i] for i in best]
    return table.max(axis=1), np.array([g == e.label for g, e in zip(guess, examples)]), guess


_TABLES: list = []


def scores() -> None:
    extra = read_examples(SHIPPED_DATA[1])
    tune, report = report_split()
    words = tuple(read_user_dict())
    oof_conf, oof_ok, oof_truth, oof_guess = [], [], [], []
    for number, (train_part, test_part) in enumerate(tuning_folds(tune, extra), 1):
        started = time.perf_counter()
        model = train(train_part, user_words=words)
        conf, ok, guess = _scores(model, test_part)
        oof_conf.append(conf)
        oof_ok.append(ok)
        oof_guess += guess
        oof_truth += [e.label for e in test_part]
        print(f"fold {number}: {len(test_part)} rows, accuracy {ok.mean():.4f}, {time.perf_counter() - started:.0f} s",
              flush=True)
    model = train(list(tune) + extra, user_words=words)
    conf, ok, guess = _scores(model, report)
    OUT.parent.mkdir(exist_ok=True)
    np.savez(OUT, oof_conf=np.concatenate(oof_conf), oof_ok=np.concatenate(oof_ok),
             oof_truth=np.array(oof_truth), oof_guess=np.array(oof_guess),
             report_conf=conf, report_ok=ok, report_truth=np.array([e.label for e in report]),
             report_guess=np.array(guess), labels=np.array(_TABLES[0][0]),
             oof_table=np.concatenate([t for _, t in _TABLES[:-1]]), report_table=_TABLES[-1][1])
    print(f"written {OUT}")


def report() -> None:
    from sklearn.metrics import f1_score

    data = np.load(OUT)
    try:
        threshold = choose_threshold(data["oof_conf"], data["oof_ok"], min_accuracy=0.97, min_coverage=0.85)
    except ValueError as error:
        print(f"no threshold meets both targets on the out-of-fold rows: {error}")
        threshold = float(sys.argv[2]) if len(sys.argv) > 2 else 0.9
    for part in ("oof", "report"):
        conf, ok = data[f"{part}_conf"], data[f"{part}_ok"]
        f1 = f1_score(data[f"{part}_truth"], data[f"{part}_guess"], average="macro")
        print(f"{part}: {len(ok)} rows, accuracy {ok.mean():.4f}, macro-F1 {f1:.4f}, "
              f"ECE {expected_calibration_error(conf, ok):.4f}")
        for point in selective_curve(conf, ok):
            print(f"  {point['threshold']:.2f}  coverage {point['coverage']:.4f}  accuracy {point['accuracy']:.4f}")
        (at,) = selective_curve(conf, ok, [threshold])
        print(f"  chosen {threshold:.2f}: coverage {at['coverage']:.4f}, accuracy {at['accuracy']:.4f}")


def main(argv: Sequence[str]) -> None:
    {"scores": scores, "report": report}[argv[0] if argv else "report"]()


if __name__ == "__main__":
    main(sys.argv[1:])
