"""Selective routing figures: how often the model is right on the messages it is sure of.

A message is routed without an operator when the probability of its top label (the model's
confidence) is at least the threshold. For a threshold t:
- coverage = messages with confidence >= t / messages;
- accuracy = those whose top label is right / messages with confidence >= t (None when none is).
The expected calibration error (ECE) over equal-width bins of confidence is
sum over bins of (messages in bin / messages) x |accuracy in bin - mean confidence in bin|;
a confidence c falls in bin ceil(c x bins) - 1 (bins are (lo, hi], 0 goes to the first).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

# The fast model alone: chosen on out-of-fold rows of the shipped data's grouped split
# (EXPERIMENTS.md, "Selective routing"). A second opinion brings its own (classifier/second_opinion.py):
# its revised probabilities are averages of two models, another scale.
DEFAULT_MIN_CONFIDENCE = 0.88

# The thresholds of the risk-coverage curve: every 0.05, and finer where routing happens.
CURVE_THRESHOLDS = tuple(round(0.05 * step, 2) for step in range(20)) + (0.97, 0.99)
ECE_BINS = 15


def routing_threshold(setting: float | None, second_opinion: Any = None) -> float:
    """The threshold routing uses: the setting when one is given (HOTLINE_ROUTING_MIN_CONFIDENCE),
    else the second opinion's own when one is asked, else the fast model's."""
    if setting is not None:
        return setting
    return second_opinion.min_confidence if second_opinion is not None else DEFAULT_MIN_CONFIDENCE


def selective_curve(confidence: Sequence[float] | np.ndarray, correct: Sequence[bool] | np.ndarray,
                    thresholds: Sequence[float] = CURVE_THRESHOLDS) -> list[dict[str, Any]]:
    """{"threshold", "coverage", "accuracy"} for each threshold, in the order given."""
    conf = np.asarray(confidence, dtype=float)
    right = np.asarray(correct, dtype=bool)
    if conf.shape != right.shape or conf.size == 0:
        raise ValueError("need one correct flag per confidence, and at least one of each")
    points = []
    for threshold in thresholds:
        kept = conf >= threshold
        count = int(kept.sum())
        points.append({"threshold": float(threshold), "coverage": count / conf.size,
                       "accuracy": float(right[kept].mean()) if count else None})
    return points


def expected_calibration_error(confidence: Sequence[float] | np.ndarray, correct: Sequence[bool] | np.ndarray,
                               bins: int = ECE_BINS) -> float:
    conf = np.asarray(confidence, dtype=float)
    right = np.asarray(correct, dtype=float)
    if conf.shape != right.shape or conf.size == 0:
        raise ValueError("need one correct flag per confidence, and at least one of each")
    index = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        members = index == b
        if members.any():
            total += members.sum() / conf.size * abs(right[members].mean() - conf[members].mean())
    return float(total)


def choose_threshold(confidence: Sequence[float] | np.ndarray, correct: Sequence[bool] | np.ndarray, *,
                     min_accuracy: float, min_coverage: float, step: float = 0.01) -> float:
    """The lowest threshold (on a grid of `step`) whose accuracy reaches min_accuracy: the most
    coverage for that accuracy. Raises ValueError when its coverage is below min_coverage."""
    grid = [round(step * i, 4) for i in range(int(round(1 / step)))]
    for point in selective_curve(confidence, correct, grid):
        if point["accuracy"] is not None and point["accuracy"] >= min_accuracy:
            if point["coverage"] < min_coverage:
                raise ValueError(f"accuracy {min_accuracy} needs threshold {point['threshold']}, "
                                 f"which covers only {point['coverage']:.3f}")
            return point["threshold"]
    raise ValueError(f"no threshold reaches accuracy {min_accuracy}")
