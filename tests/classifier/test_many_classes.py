"""60 classes, as a city retraining on its own history may have: training, evaluation and
routing work the same as with the shipped data's seven."""
from __future__ import annotations

import pytest

from classifier.evaluation import evaluate
from classifier.model import TrainedModel, train
from dispatch.routing import city_router
from dispatch.units import City, UnitKind, UnitSpec
from tests.classifier.synthetic import synthetic_examples

CLASSES = 60


@pytest.fixture(scope="module")
def data() -> tuple[list, list]:
    examples = synthetic_examples(CLASSES, 16, seed=3)
    cut = CLASSES * 12
    return examples[:cut], examples[cut:]


@pytest.fixture(scope="module")
def model(data) -> TrainedModel:  # type: ignore[no-untyped-def]
    steps: list[str] = []
    trained = train(data[0], progress=lambda step, done, total: steps.append(step))
    assert "fitting" in steps
    return trained


def test_training_knows_every_class(model: TrainedModel) -> None:
    assert len(model.labels) == CLASSES


def test_evaluation_scores_every_class(model: TrainedModel, data) -> None:  # type: ignore[no-untyped-def]
    metrics = evaluate(model, data[1], min_confidence=0.5)
    assert len(metrics["per_class"]) == CLASSES and len(metrics["confusion_matrix"]) == CLASSES
    assert metrics["accuracy"] > 0.9 and metrics["macro_f1"] > 0.9
    assert metrics["selective"][0]["coverage"] == 1.0 and 0 <= metrics["ece"] < 0.3
    assert metrics["at_threshold"]["threshold"] == 0.5


def test_routing_sends_each_class_to_its_unit(model: TrainedModel, data) -> None:  # type: ignore[no-untyped-def]
    units = tuple(UnitSpec(f"unit-{k:03d}", f"单位{k:03d}", UnitKind.DEPARTMENT, None) for k in range(CLASSES))
    city = City(code="many", name="多类别市", units=units,
                categories={f"类别{k:03d}": f"unit-{k:03d}" for k in range(CLASSES)},
                local_categories=frozenset(), gazetteer={}, routing_rules=())
    router = city_router(city, model, min_confidence=0.0)
    held = data[1]
    answers = [router.route(e.title + "。" + e.body) for e in held]
    right = sum(a.unit_code == "unit-" + e.label[-3:] for a, e in zip(answers, held))
    assert right / len(held) > 0.9
    assert all(len(a.suggestions) == 3 for a in answers)
