"""One routing threshold per answer label, chosen out of fold and scored cross-fitted.

    python -m research.label_thresholds choose   # out of fold, the 4-epoch fine-tuned fold tables
"""
from __future__ import annotations

import numpy as np

from research.finetuned_report import THRESHOLDS, _fold_tables, _rule

TARGET = 0.97
PENALTIES = np.round(np.concatenate([np.arange(1, 20, 0.5), np.arange(20, 201, 2)]), 1)


def _answers(fold: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Answer label index, its probability and whether it is right, on one tuning fold (rule as shipped)."""
    labels, truth, fast, tuned = _fold_tables((fold,), "_e4", "titled mean")
    mixed = _rule(fast, tuned, 0.88)
    answer = mixed.argmax(1)
    return answer, mixed.max(1), labels[answer] == truth


def one_threshold(top: np.ndarray, right: np.ndarray) -> float:
    """The lowest threshold on the grid whose routed accuracy reaches the target (the highest if none)."""
    for t in THRESHOLDS:
        routed = top >= t
        if routed.any() and right[routed].mean() >= TARGET:
            return float(t)
    return float(THRESHOLDS[-1])


def label_thresholds(answer: np.ndarray, top: np.ndarray, right: np.ndarray, count: int) -> np.ndarray:
    """Per label, the threshold maximising routed - penalty * wrong, for the penalty covering most
    while the routed accuracy over all labels reaches the target."""
    best, best_coverage = np.full(count, THRESHOLDS[-1]), -1.0
    for penalty in PENALTIES:
        chosen = np.empty(count)
        for k in range(count):
            mine = answer == k
            gains = [((top[mine] >= t).sum() - penalty * ((top[mine] >= t) & ~right[mine]).sum()) for t in THRESHOLDS]
            chosen[k] = THRESHOLDS[int(np.argmax(gains))]   # the lowest threshold on a tie
        routed = top >= chosen[answer]
        if routed.any() and right[routed].mean() >= TARGET and routed.mean() > best_coverage:
            best, best_coverage = chosen, routed.mean()
    return best


def choose() -> None:
    folds = {k: _answers(k) for k in (1, 2, 3)}
    count = int(max(a.max() for a, _, _ in folds.values())) + 1
    pooled = {"one": [], "per label": []}
    for k in folds:
        answer, top, right = (np.concatenate([folds[j][i] for j in folds if j != k]) for i in range(3))
        t = one_threshold(top, right)
        ts = label_thresholds(answer, top, right, count)
        a, p, r = folds[k]
        pooled["one"].append((p >= t, r))
        pooled["per label"].append((p >= ts[a], r))
        print(f"fold {k} scored with thresholds chosen on the other two: one {t:.2f}; per label "
              + " ".join(f"{x:.2f}" for x in ts))
        for name, (routed, right_k) in ((n, pooled[n][-1]) for n in pooled):
            print(f"    {name}: {routed.mean():.3f} / {right_k[routed].mean():.4f}")
    print("cross-fitted, pooled over the three folds:")
    for name, parts in pooled.items():
        routed = np.concatenate([x for x, _ in parts])
        right = np.concatenate([y for _, y in parts])
        print(f"  {name}: coverage {routed.mean():.3f}, accuracy {right[routed].mean():.4f} "
              f"({routed.sum()} routed, {(routed & ~right).sum()} wrong)")
    answer, top, right = (np.concatenate([folds[j][i] for j in folds]) for i in range(3))
    ts = label_thresholds(answer, top, right, count)
    routed = top >= ts[answer]
    print("chosen on all 5,060 rows (in sample): " + " ".join(f"{x:.2f}" for x in ts)
          + f"; {routed.mean():.3f} / {right[routed].mean():.4f}")


if __name__ == "__main__":
    import sys
    {"choose": choose}[sys.argv[1]]()
