"""Scoring a model on labelled examples, and the plain-text report of the scores."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from classifier.dataset import Example
from classifier.model import TrainedModel, texts_of
from classifier.selective import expected_calibration_error, selective_curve

if TYPE_CHECKING:
    from classifier.second_opinion import SecondOpinion


def evaluate(model: TrainedModel, examples: Sequence[Example], *,
             min_confidence: float | None = None,
             second_opinion: SecondOpinion | None = None) -> dict[str, Any]:
    """accuracy, macro_f1, per-class scores, the confusion matrix, and the selective figures
    (classifier/selective.py): the risk-coverage curve, ECE and, given the routing threshold,
    the curve's point there.

    With a second opinion and a threshold, every figure is routing's: a message the second
    opinion is asked for at that threshold (SecondOpinion.asked: below its ceiling or the
    threshold) is revised by it, as dispatch.routing.Router does, and its revised top label and
    probability are the ones scored (`second_opinion_asked` counts them). The curve's other
    thresholds keep the messages asked at the configured one.

    A row whose label the model does not know is scored like any other: it can only be
    wrong, and its label gets a row and a column of its own (so it lowers macro-F1 too).
    """
    if not examples:
        raise ValueError("nothing to evaluate: no labelled examples")
    truth = [example.label for example in examples]
    texts = texts_of(examples)
    table = model.probabilities(texts)
    best = table.argmax(axis=1)
    guess = [model.labels[column] for column in best]
    confidence = table[np.arange(len(best)), best]
    asked = 0
    if second_opinion is not None and min_confidence is not None:
        for row in [r for r in range(len(texts)) if second_opinion.asked(confidence[r], min_confidence)]:
            fast = model.predictions_of(table[row])
            top = second_opinion.revise(texts[row], fast, 1)[0]
            guess[row], confidence[row] = top.label, top.probability
            asked += 1
    correct = [g == t for g, t in zip(guess, truth)]
    unknown = sorted(set(truth) - set(model.labels))
    labels = list(model.labels) + unknown
    # Macro averages run over the labels present in the data, known or not.
    scored = [label for label in labels if label in set(truth)]
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, guess, labels=labels, zero_division=0
    )
    macro = precision_recall_fscore_support(truth, guess, labels=scored, average="macro", zero_division=0)
    return {
        "examples": len(examples),
        "accuracy": float(accuracy_score(truth, guess)),
        "macro_f1": float(macro[2]),
        "macro_precision": float(macro[0]),
        "macro_recall": float(macro[1]),
        "unknown_labels": unknown,
        "unknown_label_rows": sum(1 for label in truth if label in unknown),
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "labels": labels,
        "confusion_matrix": confusion_matrix(truth, guess, labels=labels).tolist(),
        "selective": selective_curve(confidence, correct),
        "at_threshold": (selective_curve(confidence, correct, [min_confidence])[0]
                         if min_confidence is not None else None),
        "ece": expected_calibration_error(confidence, correct),
        "second_opinion_asked": asked,
    }


def format_report(metrics: dict[str, Any]) -> str:
    """A per-class table and a confusion matrix (rows: true label, columns: predicted)."""
    labels: list[str] = metrics["labels"]
    width = max(8, *(_width(label) for label in labels))
    lines = [
        f"examples  {metrics['examples']}",
        f"accuracy  {metrics['accuracy']:.4f}",
        f"macro-F1  {metrics['macro_f1']:.4f}",
    ]
    if metrics["unknown_labels"]:
        lines.append(
            f"labels the model does not know (counted as errors): {', '.join(metrics['unknown_labels'])}"
            f" ({metrics['unknown_label_rows']} rows)"
        )
    if metrics.get("second_opinion_asked"):
        lines.append(f"second opinion asked for {metrics['second_opinion_asked']} messages")
    lines += ["", f"ECE (15 bins)  {metrics['ece']:.4f}", "",
              "selective routing (routed alone when the top label's probability >= threshold)",
              "threshold  coverage  accuracy"]
    at = metrics.get("at_threshold")
    for point in metrics["selective"] + ([at] if at else []):
        accuracy = "-" if point["accuracy"] is None else f"{point['accuracy']:.4f}"
        mark = "  <- HOTLINE_ROUTING_MIN_CONFIDENCE" if point is at else ""
        lines.append(f"{point['threshold']:9.2f}  {point['coverage']:8.4f}  {accuracy:>8}{mark}")
    lines += ["", f"{_pad('label', width)}  precision  recall      f1  support"]
    for label in labels:
        row = metrics["per_class"][label]
        lines.append(
            f"{_pad(label, width)}  {row['precision']:9.4f}  {row['recall']:6.4f}  {row['f1']:6.4f}  {row['support']:7d}"
        )
    lines += ["", "confusion matrix (rows: true, columns: predicted, in the order of the table)"]
    for label, counts in zip(labels, metrics["confusion_matrix"]):
        lines.append(f"{_pad(label, width)}  " + " ".join(f"{count:5d}" for count in counts))
    return "\n".join(lines)


def _width(text: str) -> int:
    # CJK characters take two terminal columns.
    return sum(2 if ord(char) > 0x2E80 else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
