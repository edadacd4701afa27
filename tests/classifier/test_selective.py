"""Selective routing figures on cases small enough to work out by hand."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from classifier.cli import cli
from classifier.selective import choose_threshold, expected_calibration_error, selective_curve
from tests.classifier.test_cli import _csv

# Four messages: confidences and whether the top label was right.
CONFIDENCE = [0.9, 0.8, 0.6, 0.4]
CORRECT = [True, True, False, True]


def test_curve_counts_coverage_and_accuracy_above_each_threshold() -> None:
    # 0.5 keeps 0.9, 0.8, 0.6 (two right); 0.7 keeps 0.9, 0.8 (both right); 0.95 keeps none.
    assert selective_curve(CONFIDENCE, CORRECT, [0.5, 0.7, 0.95]) == [
        {"threshold": 0.5, "coverage": 0.75, "accuracy": pytest.approx(2 / 3)},
        {"threshold": 0.7, "coverage": 0.5, "accuracy": 1.0},
        {"threshold": 0.95, "coverage": 0.0, "accuracy": None},
    ]


def test_a_confidence_equal_to_the_threshold_is_routed() -> None:
    assert selective_curve(CONFIDENCE, CORRECT, [0.6])[0]["coverage"] == 0.75


def test_ece_of_messages_in_separate_bins() -> None:
    # Bins of 1/15: 0.9 -> bin 13, 0.8 -> bin 11 (0.8 is its upper edge), 0.6 -> 8, 0.4 -> 5.
    # (|1 - 0.9| + |1 - 0.8| + |0 - 0.6| + |1 - 0.4|) / 4 = 1.5 / 4
    assert expected_calibration_error(CONFIDENCE, CORRECT) == pytest.approx(0.375)


def test_ece_averages_within_a_bin() -> None:
    # 0.95 and 0.96 share the last bin: accuracy 0.5 against mean confidence 0.955.
    assert expected_calibration_error([0.95, 0.96], [True, False]) == pytest.approx(0.455)
    assert expected_calibration_error([0.95, 0.96, 0.1], [True, False, False]) == pytest.approx(
        (2 * 0.455 + 0.1) / 3)


def test_threshold_is_the_lowest_that_reaches_the_accuracy() -> None:
    # Accuracy is 3/4 up to 0.40, 2/3 up to 0.60, and 1.0 from 0.61 (coverage 0.5).
    assert choose_threshold(CONFIDENCE, CORRECT, min_accuracy=0.9, min_coverage=0.5) == 0.61
    with pytest.raises(ValueError, match="covers only 0.500"):
        choose_threshold(CONFIDENCE, CORRECT, min_accuracy=0.9, min_coverage=0.6)


def test_eval_json_has_the_curve_ece_and_the_configured_threshold(tmp_path, model_dir, slices) -> None:
    data = _csv(tmp_path, slices[1][:80])

    result = CliRunner().invoke(cli, ["eval", "--data", str(data), "--model-dir", str(model_dir), "--json",
                                      "--fast-only"],
                                env={"HOTLINE_ROUTING_MIN_CONFIDENCE": "0.7"})

    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    curve = {point["threshold"]: point for point in metrics["selective"]}
    assert curve[0.0]["coverage"] == 1.0 and curve[0.0]["accuracy"] == pytest.approx(metrics["accuracy"])
    coverages = [point["coverage"] for point in metrics["selective"]]
    assert coverages == sorted(coverages, reverse=True)
    assert metrics["at_threshold"]["threshold"] == 0.7
    assert 0 <= metrics["at_threshold"]["coverage"] <= 1
    assert 0 <= metrics["ece"] < 0.5


def test_eval_text_prints_the_curve_as_a_table(tmp_path, model_dir, slices) -> None:
    data = _csv(tmp_path, slices[1][:80])

    result = CliRunner().invoke(cli, ["eval", "--data", str(data), "--model-dir", str(model_dir),
                                      "--min-confidence", "0.8", "--fast-only"])

    assert result.exit_code == 0, result.output
    assert "threshold  coverage  accuracy" in result.stdout
    assert "ECE (15 bins)" in result.stdout
    assert "<- HOTLINE_ROUTING_MIN_CONFIDENCE" in result.stdout


def test_eval_with_a_second_opinion_scores_what_routing_does(small_model, slices) -> None:
    from classifier.evaluation import evaluate
    from classifier.features import message_text
    from classifier.second_opinion import SecondOpinion
    from tests.classifier.test_second_opinion import CharHashOpinion

    rows = slices[0][:300]
    stand_in = CharHashOpinion([message_text(e.title, e.body) for e in rows], [e.label for e in rows])
    opinion = SecondOpinion(stand_in, stand_in.labels, ask_below=0.95)
    held = slices[1][:120]
    # Worked out message by message as the router does it: the fast answer at or above the
    # ceiling 0.95, the averaged one below, routed when its probability reaches 0.9.
    routed = right = asked = asked_above = 0
    for example in held:
        text = message_text(example.title, example.body)
        top = small_model.predict(text, 1000)
        if top[0].probability < 0.95:
            asked_above += top[0].probability >= 0.9
            top = opinion.revise(text, top, 1)
            asked += 1
        if top[0].probability >= 0.9:
            routed += 1
            right += top[0].label == example.label

    metrics = evaluate(small_model, held, min_confidence=0.9, second_opinion=opinion)

    assert asked and asked_above and metrics["second_opinion_asked"] == asked
    assert metrics["at_threshold"]["coverage"] == pytest.approx(routed / len(held))
    assert metrics["at_threshold"]["accuracy"] == pytest.approx(right / routed)
    fast_only = evaluate(small_model, held, min_confidence=0.9)
    assert fast_only["second_opinion_asked"] == 0
    sure = [small_model.predict(message_text(e.title, e.body), 1)[0].probability >= 0.9 for e in held]
    assert fast_only["at_threshold"]["coverage"] == pytest.approx(sum(sure) / len(held))
