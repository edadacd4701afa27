"""Repeat calls: precision and recall of dispatch.repeats' score at a threshold, for pairs.

    .venv/bin/python bench/repeats.py [--threshold 0.15] [--grid]

Two sets, both shipped:
- classifier/data/dev.csv: every pair of messages; a pair is a repeat when both are in one
  dup_group (504 such pairs among 20 million). Those groups are near-copies (the same body
  under another title), so this mostly says how many unrelated pairs reach the threshold.
- bench/data/similar_paraphrases.jsonl: 126 hand-written rewordings of a ticket (the repeat
  "in other words" this is for) against their original; as non-repeats each same-kind near
  miss (same problem elsewhere, or another problem at the same place) against the original
  and against the rewording (186 pairs). The threshold was chosen on this set.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dispatch import repeats  # noqa: E402

DEV = ROOT / "classifier" / "data" / "dev.csv"
PARAPHRASES = ROOT / "bench" / "data" / "similar_paraphrases.jsonl"
GRID = (0.10, 0.12, 0.15, 0.18, 0.20, 0.25, 0.30, 0.40, 0.50, 0.60, 0.70)


def dev_pairs(thresholds: list[float]) -> list[tuple[float, int, int, int, int]]:
    """(threshold, true positives, false positives, positives, negatives) over all pairs of dev.csv."""
    rows = list(csv.DictReader(DEV.open(encoding="utf-8")))
    groups = np.array([r["dup_group"] for r in rows])
    unit = repeats.gram_rows([repeats.repeat_text(r["title"], r["body"]) for r in rows])
    sizes = np.unique(groups, return_counts=True)[1]
    positives = int(sum(n * (n - 1) // 2 for n in sizes))
    low = min(thresholds)
    found_scores, found_same = [], []
    for start in range(0, unit.shape[0], 1000):   # a block of rows at a time: never the n x n matrix
        block = (unit[start:start + 1000] @ unit.T).tocoo()
        row = block.row + start
        keep = (row < block.col) & (block.data >= low)
        found_scores.append(block.data[keep])
        found_same.append(groups[row[keep]] == groups[block.col[keep]])
    score, same = np.concatenate(found_scores), np.concatenate(found_same)
    negatives = len(rows) * (len(rows) - 1) // 2 - positives
    return [(t, int(((score >= t) & same).sum()), int(((score >= t) & ~same).sum()), positives, negatives)
            for t in thresholds]


def paraphrase_pairs(thresholds: list[float]) -> list[tuple[float, int, int, int, int]]:
    """(threshold, rewordings found, of all, near misses proposed, of all)."""
    dev = {r["id"]: r for r in csv.DictReader(DEV.open(encoding="utf-8"))}
    same, other = [], []
    for line in PARAPHRASES.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item.get("original_ref") is not None:
            row = dev[str(item["original_ref"])]
            original = repeats.repeat_text(row["title"], row["body"])
        else:
            original = repeats.repeat_text(item["original_title"], item["original_body"])
        same.append(repeats.scores(item["duplicate"], [original])[0])
        if item.get("near_miss"):
            other += repeats.scores(item["near_miss"], [original, item["duplicate"]])
    s, o = np.array(same), np.array(other)
    return [(t, int((s >= t).sum()), len(s), int((o >= t).sum()), len(o)) for t in thresholds]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threshold", type=float, default=repeats.REPEAT_MIN_SCORE)
    parser.add_argument("--grid", action="store_true", help="also the thresholds of a grid")
    args = parser.parse_args()
    thresholds = sorted({args.threshold, *(GRID if args.grid else ())})
    print("paraphrases (rewordings vs same-kind near misses)")
    for t, tp, pos, fp, neg in paraphrase_pairs(thresholds):
        precision = tp / (tp + fp) if tp + fp else float("nan")
        print(f"  {t:.2f}  recall {tp / pos:.3f} ({tp}/{pos})  precision {precision:.3f}  "
              f"near misses proposed {fp}/{neg}")
    print("dev.csv, all pairs (dup_group = repeat)")
    for t, tp, fp, pos, neg in dev_pairs(thresholds):
        precision = tp / (tp + fp) if tp + fp else float("nan")
        print(f"  {t:.2f}  recall {tp / pos:.3f} ({tp}/{pos})  precision {precision:.3f}  "
              f"other pairs reaching it {fp:,} of {neg:,} ({fp / neg:.5%})")


if __name__ == "__main__":
    main()
