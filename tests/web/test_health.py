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

# The probes read /readyz from the same host: the docker healthcheck, an orchestrator's agent.
LOOPBACK = ("127.0.0.1", 50000)
OUTSIDE = ("203.0.113.7", 50000)


def test_readyz_names_each_part_and_its_state(database_url: str, sessions: sessionmaker[Session],
                                              tmp_path: Path) -> None:
    # An empty model folder of its own: a checkout's models/ (left by a benchmark) would load.
    with TestClient(create_app(Settings(database_url=database_url, model_dir=tmp_path)), client=LOOPBACK) as client:
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
        with TestClient(create_app(Settings(database_url=database_url)), client=LOOPBACK) as client:
            ready = client.get("/readyz")
    finally:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    assert current_revision(engine) == head
    assert ready.status_code == 503 and ready.headers["Retry-After"]
    assert ready.json()["checks"]["migrations"] == {"ok": False, "current": "0009", "head": head}


def test_the_pbx_link_shows_connected_while_the_bridge_is_logged_in(
        database_url: str, sessions: sessionmaker[Session]) -> None:
    with SimulatorThread() as pbx, \
            TestClient(create_app(pbx.settings(Settings(database_url=database_url))), client=LOOPBACK) as client:
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


def test_an_anonymous_caller_from_outside_learns_only_whether_the_hotline_is_ready(
        database_url: str, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    with TestClient(create_app(Settings(database_url=database_url, model_dir=tmp_path)), client=OUTSIDE) as client:
        ready = client.get("/readyz")
        # Loopback behind an undeclared proxy: the real client is unknown, so it is outside too.
        proxied = client.get("/readyz", headers={"X-Forwarded-For": "198.51.100.9"})
    assert ready.status_code == 200 and ready.json() == {"ready": True}
    assert "head" not in ready.text and "roles" not in ready.text
    assert proxied.json() == {"ready": True}


def test_a_database_behind_the_code_answers_503_to_outsiders_without_saying_why(
        database_url: str, engine: Engine, sessions: sessionmaker[Session]) -> None:
    head = head_revision()
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0009'"))
    try:
        with TestClient(create_app(Settings(database_url=database_url)), client=OUTSIDE) as client:
            ready = client.get("/readyz")
    finally:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    assert ready.status_code == 503 and ready.headers["Retry-After"]
    assert ready.json() == {"ready": False}


def test_a_staff_token_the_metrics_token_or_the_setting_shows_the_detail_from_outside(
        database_url: str, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    from dispatch import api_tokens, staff
    from dispatch.actors import Actor
    from dispatch.vocabulary import Role
    from web.config import Secret

    with sessions.begin() as session:
        user = staff.create_user(session, "ops", "a-long-password-1", Role.OPERATOR)
        _, raw = api_tokens.issue(session, Actor.system("cli"), user.id, "probe", days=None)
    settings = Settings(database_url=database_url, model_dir=tmp_path, metrics_token=Secret("scrape-me"))
    with TestClient(create_app(settings), client=OUTSIDE) as client:
        by_staff = client.get("/readyz", headers={"Authorization": f"Bearer {raw}"})
        by_scraper = client.get("/readyz", headers={"Authorization": "Bearer scrape-me"})
        wrong = client.get("/readyz", headers={"Authorization": "Bearer not-a-token"})
    public = Settings(database_url=database_url, model_dir=tmp_path, readyz_detail="public")
    with TestClient(create_app(public), client=OUTSIDE) as client:
        anyone = client.get("/readyz")
    for answer in (by_staff, by_scraper, anyone):
        assert answer.status_code == 200 and answer.json()["checks"]["migrations"]["head"] == head_revision()
    assert wrong.json() == {"ready": True}
