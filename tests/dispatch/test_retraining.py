"""Guarded retraining: a new model replaces the current one only if it is no worse on the
newest corrections, held out; every attempt is logged with both scores."""
from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from classifier import Example, TrainedModel, load_model
from classifier.dataset import SHIPPED_DATA, read_examples
from classifier.model import train
from classifier.storage import model_files
from dispatch import retraining
from dispatch.models import RoutingExample, StaffActivity
from dispatch.retraining import CityData, guarded_retrain, split_corrections


@pytest.fixture(scope="module")
def rows() -> list[Example]:
    dev = read_examples(SHIPPED_DATA[0])
    random.Random(11).shuffle(dev)
    return dev


def rotated(examples: list[Example]) -> list[Example]:
    """Every label replaced by the next one: a model trained on these is wrong on purpose."""
    labels = sorted({e.label for e in examples})
    after = dict(zip(labels, labels[1:] + labels[:1]))
    return [Example(e.title, e.body, after[e.label]) for e in examples]


@pytest.fixture(scope="module")
def corrections(rows: list[Example], small_model: TrainedModel) -> list[Example]:
    """30 examples the small model gets right (rows it never saw: beyond the first 1,500 shuffled)."""
    right = [e for e in rows[3000:3300] if small_model.predict(e.title + e.body)[0].label == e.label]
    return right[:30]


def test_the_newest_fifth_of_corrections_is_held_out() -> None:
    examples = [Example("t", str(i), "a") for i in range(56)]
    learn, held = split_corrections(examples)
    assert [e.body for e in held] == [str(i) for i in range(44, 56)] and len(learn) == 44
    # Never fewer than ten held out: a tie over one or two says nothing.
    learn, held = split_corrections(examples[:20])
    assert [e.body for e in held] == [str(i) for i in range(10, 20)] and len(learn) == 10


def test_a_worse_model_is_refused_saved_nowhere_and_logged(tmp_path: Path, session: Session, rows: list[Example],
                                                          small_model: TrainedModel, corrections: list[Example]) -> None:
    folder = tmp_path / "models"

    result = guarded_retrain(CityData(resolved=[], corrections=corrections), rotated(rows[:500]), small_model, folder)

    assert not result.swapped
    assert result.old_score == 1.0 and result.new_score is not None and result.new_score < 0.5
    assert result.held_out == 10 and model_files(folder) == []
    retraining.log_result(session, result, actor="scheduler", trigger="weekly")
    logged = session.scalars(select(StaffActivity)).one()
    assert logged.kind == "model_kept"
    assert logged.detail["old_score"] == 1.0 and logged.detail["new_score"] == round(result.new_score, 4)
    assert logged.detail["reason"] == retraining.WORSE


def test_a_model_no_worse_is_saved_and_is_the_newest(tmp_path: Path, rows: list[Example],
                                                     corrections: list[Example]) -> None:
    folder = tmp_path / "models"
    current = train(rotated(rows[:500]))

    result = guarded_retrain(CityData(resolved=[], corrections=corrections), rows[:500], current, folder)

    assert result.swapped and result.new_score is not None and result.old_score is not None
    assert result.new_score >= result.old_score
    assert model_files(folder) == [result.model_path]
    assert load_model(folder).labels == result.model.labels  # type: ignore[union-attr]


def test_too_few_corrections_trains_nothing(tmp_path: Path, small_model: TrainedModel,
                                            corrections: list[Example]) -> None:
    result = guarded_retrain(CityData([], corrections[:retraining.MIN_CORRECTIONS - 1]), [], small_model, tmp_path)
    assert not result.swapped and result.new_score is None and result.reason == retraining.TOO_FEW
    assert "fewer than 20" in result.reason_text


def test_due_weekly_and_only_with_new_corrections(session: Session, units) -> None:  # type: ignore[no-untyped-def]
    from tests.dispatch.helpers import new_ticket

    now = dt.datetime(2026, 12, 3, 2, tzinfo=dt.timezone.utc)
    assert not retraining.due(session, now)                     # no corrections
    for i in range(retraining.MIN_CORRECTIONS):
        ticket = new_ticket(session)
        session.add(RoutingExample(ticket_id=ticket.id, title="t", body="b", label="城乡建设", unit_code="housing",
                                   source="operator_correction", created_at=now - dt.timedelta(days=10)))
    session.flush()
    assert retraining.due(session, now)
    refused = retraining.RetrainResult(False, 1.0, 0.5, 1, 10, "worse")
    retraining.log_result(session, refused, actor="scheduler", trigger="weekly", now=now - dt.timedelta(days=8))
    assert not retraining.due(session, now)                     # nothing new since the last attempt
    session.add(RoutingExample(ticket_id=new_ticket(session).id, title="t", body="b", label="城乡建设",
                               unit_code="housing", source="operator_correction", created_at=now - dt.timedelta(days=1)))
    session.flush()
    assert retraining.due(session, now)                         # a new one, and a week since day -8
    assert not retraining.due(session, now - dt.timedelta(days=2))   # day -2: not a week since day -8
