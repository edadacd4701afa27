"""`hotline classifier`: predictions name the unit, exports feed training, retraining folds in
operators' corrections and changes the model's answer."""
from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from classifier import TrainedModel, load_model, save_model
from classifier.dataset import SHIPPED_DATA, read_examples
from dispatch import lifecycle, retraining
from dispatch.actors import Actor
from dispatch.models import StaffActivity
from dispatch.intake import IntakeRequest, IntakeRules, intake
from dispatch.routing import city_router
from dispatch.units import City, unit_by_code
from dispatch.vocabulary import Channel, Role
from web.cli import main
from web.pages.labels import activity_value

PARCELS = "小区门口的快递驿站取件乱收费，每件快递额外收两元，快递员还把包裹随意堆放在路边。"


def invoke(database_url: str, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), env={"HOTLINE_DATABASE_URL": database_url},
                              catch_exceptions=False)


@pytest.fixture
def base_csv(tmp_path: Path) -> Path:
    rows = read_examples(SHIPPED_DATA[0])
    random.Random(3).shuffle(rows)
    path = tmp_path / "base.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "body", "label"])
        for row in rows[:800]:
            writer.writerow([row.title, row.body, row.label])
    return path


def test_predict_names_the_unit_each_label_routes_to(database_url: str, tmp_path: Path,
                                                    small_model: TrainedModel) -> None:
    save_model(small_model, tmp_path, data_hash="t", metrics={})
    result = invoke(database_url, "classifier", "predict", "老板拖欠农民工工资三个月", "--model-dir", str(tmp_path))
    assert result.exit_code == 0
    first = result.stdout.splitlines()[0]
    assert "劳动和社会保障" in first and "人力资源和社会保障局" in first


def test_export_writes_resolved_tickets_with_their_category(database_url: str, sessions: sessionmaker[Session],
                                                            units: City, tmp_path: Path) -> None:
    operator = Actor(label="op", role=Role.OPERATOR)
    with sessions.begin() as session:
        ticket = intake(session, IntakeRequest(channel=Channel.WEB, body="路灯坏了", category="城乡建设"), IntakeRules()).ticket
        lifecycle.answer(session, ticket, operator, "已转告有关部门并告知市民")
        intake(session, IntakeRequest(channel=Channel.WEB, body="还没办完的事", category="城乡建设"), IntakeRules())
    out = tmp_path / "history.csv"
    result = invoke(database_url, "classifier", "export", "--out", str(out))
    assert "1 tickets written" in result.output
    assert [e.label for e in read_examples(out)] == ["城乡建设"]


def test_retrain_folds_in_corrections_and_changes_the_answer(database_url: str, sessions: sessionmaker[Session],
                                                            units: City, tmp_path: Path, base_csv: Path) -> None:
    models = tmp_path / "models"
    assert invoke(database_url, "classifier", "train", "--data", str(base_csv), "--model-dir", str(models),
                  "--holdout", "0").exit_code == 0
    before = load_model(models).predict(PARCELS)[0].label
    target = "交通运输" if before != "交通运输" else "商贸旅游"
    target_unit = units.categories[target]
    operator = Actor(label="op", role=Role.OPERATOR)
    with sessions.begin() as session:
        router = city_router(units, load_model(models), min_confidence=0.0)
        for i in range(retraining.MIN_CORRECTIONS):
            ticket = intake(session, IntakeRequest(channel=Channel.WEB, body=PARCELS + "！" * i,
                                                   phone=f"138039100{i:02}"), IntakeRules(), router=router).ticket
            assert ticket.routing is not None and ticket.routing["category"] == before
            lifecycle.transfer(session, ticket, unit_by_code(session, target_unit), operator, learn_from=units)
    result = invoke(database_url, "classifier", "retrain", "--base", str(base_csv), "--model-dir", str(models))
    assert result.exit_code == 0, result.output
    # The newest ten corrections are held out: the current model got them wrong, the new one right.
    line = next(l for l in result.stdout.splitlines() if l.startswith("accuracy on them"))
    assert line.split()[-2:] == ["0.000", "1.000"]
    assert "new model in use" in result.stdout
    assert load_model(models).predict(PARCELS)[0].label == target
    with sessions() as session:
        logged = session.scalars(select(StaffActivity).where(StaffActivity.kind == "model_swapped")).one()
    assert logged.detail["old_score"] == 0.0 and logged.detail["new_score"] == 1.0
    assert logged.detail["held_out"] == retraining.MIN_HELD_OUT and logged.actor == "cli"
    # The activity page words the logged reason in Chinese; the command line said it in English.
    assert activity_value(logged.detail["reason"]) == "新模型在留出的改派样本上不比原模型差"
    assert "(no worse on the held-out corrections)" in result.stdout


def test_retrain_without_corrections_says_so(database_url: str, sessions: sessionmaker[Session]) -> None:
    result = CliRunner().invoke(main, ["classifier", "retrain"], env={"HOTLINE_DATABASE_URL": database_url})
    assert result.exit_code != 0 and "no corrections" in result.output
