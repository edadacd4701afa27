"""/readyz says, each in JSON, what a load balancer or a person at a terminal needs to know:
the database writable, its schema current, the model, the PBX link, SMS on or off."""
from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from dispatch.db import current_revision, head_revision
from tests.web.pbx_support import SimulatorThread
from web.app import create_app
from web.config import Settings


def test_readyz_names_each_part_and_its_state(database_url: str, sessions: sessionmaker[Session],
                                              tmp_path: Path) -> None:
    # An empty model folder of its own: a checkout's models/ (left by a benchmark) would load.
    with TestClient(create_app(Settings(database_url=database_url, model_dir=tmp_path))) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert checks["database"] == {"ok": True, "writable": True}
    assert checks["migrations"] == {"ok": True, "current": head_revision(), "head": head_revision()}
    assert checks["model"] == {"ok": True, "state": "none"}  # no model by choice: manual triage
    assert checks["pbx"] == {"ok": True, "state": "off"}
    assert checks["sms"] == {"ok": True, "state": "off"}


def test_a_database_behind_the_code_is_not_ready(database_url: str, engine: Engine,
                                                 sessions: sessionmaker[Session]) -> None:
    head = head_revision()
    with engine.begin() as connection:  # as if the code were upgraded and `hotline db upgrade` forgotten
        connection.execute(text("UPDATE alembic_version SET version_num = '0009'"))
    try:
        with TestClient(create_app(Settings(database_url=database_url))) as client:
            ready = client.get("/readyz")
    finally:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    assert current_revision(engine) == head
    assert ready.status_code == 503 and ready.headers["Retry-After"]
    assert ready.json()["checks"]["migrations"] == {"ok": False, "current": "0009", "head": head}


def test_the_pbx_link_shows_connected_while_the_bridge_is_logged_in(
        database_url: str, sessions: sessionmaker[Session]) -> None:
    with SimulatorThread() as pbx, TestClient(create_app(pbx.settings(Settings(database_url=database_url)))) as client:
        bridge = client.app.state.bridge  # type: ignore[attr-defined]
        deadline = time.monotonic() + 10
        while not bridge.connected:
            assert time.monotonic() < deadline, "the bridge did not log in"
            time.sleep(0.02)
        up = client.get("/readyz").json()["checks"]["pbx"]
        pbx.run(pbx.sim.stop())  # the PBX goes away
        while bridge.connected:
            assert time.monotonic() < deadline + 10, "the bridge did not notice the PBX leave"
            time.sleep(0.02)
        down = client.get("/readyz")
    assert up == {"ok": True, "state": "connected"}
    assert down.status_code == 503 and down.json()["checks"]["pbx"] == {"ok": False, "state": "disconnected"}
