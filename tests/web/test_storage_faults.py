"""A database that cannot take writes: the hotline starts, says it is not ready, refuses
each write with a clear 503 in Chinese and Retry-After, and serves what only reads."""
from __future__ import annotations

import logging
import sqlite3

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from dispatch.db import storage_fault
from dispatch.models import Ticket
from tests.read_only import read_only_url
from web.app import create_app
from web.config import Settings

LOOPBACK = ("127.0.0.1", 50000)   # the probes' side: /readyz tells them each check
COMPLAINT = {"body": "济水大街路灯坏了一周，晚上很黑。", "phone": "13803910001", "type": "投诉"}


def tickets(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Ticket)) or 0


def test_a_writable_database_is_ready_and_alive(database_url, sessions):
    with TestClient(create_app(Settings(database_url=database_url)), client=LOOPBACK) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        body = ready.json()
        assert body["ready"] is True and body["checks"]["database"] == {"ok": True, "writable": True}
        assert body["checks"]["model"]["state"] == "none"  # no model, by choice: manual triage
        assert body["checks"]["pbx"] == {"ok": True, "state": "off"}  # no PBX configured


def test_a_read_only_database_starts_not_ready_and_refuses_writes_with_503(database_url, sessions, caplog):
    with caplog.at_level(logging.ERROR), \
            TestClient(create_app(Settings(database_url=read_only_url(database_url))), client=LOOPBACK) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.headers["Retry-After"]
        database = ready.json()["checks"]["database"]
        assert database["ok"] is False and database["reason"] == "read_only"
        assert "只读" in database["message"]

        refused = client.post("/api/v1/tickets", json=COMPLAINT)
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"] == "30"
        assert refused.json()["error"] == "storage_unavailable"
        assert refused.json()["reason"] == "read_only"
        assert "只读" in refused.json()["message"] and "请稍后再试" in refused.json()["message"]

        # what only reads still works: the board and the figures
        assert client.get("/api/v1/stats").status_code == 200
        assert client.get("/board").status_code == 200
    assert "database_not_writable" in caplog.text or "数据库不可写" in caplog.text
    assert tickets(sessions) == 0


def test_the_same_request_works_once_the_database_takes_writes_again(database_url, sessions):
    with TestClient(create_app(Settings(database_url=read_only_url(database_url))), client=LOOPBACK) as client:
        assert client.post("/api/v1/tickets", json=COMPLAINT).status_code == 503
    with TestClient(create_app(Settings(database_url=database_url)), client=LOOPBACK) as client:
        assert client.post("/api/v1/tickets", json=COMPLAINT).status_code == 201
        assert client.get("/readyz").status_code == 200
    assert tickets(sessions) == 1


def test_a_full_sqlite_disk_is_a_storage_fault_not_a_bug(tmp_path):
    # SQLite's own "database or disk is full", from a database capped at its current size.
    connection = sqlite3.connect(tmp_path / "full.db")
    connection.execute("CREATE TABLE t (x TEXT)")
    connection.commit()
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(sqlite3.OperationalError) as raised:
        connection.execute("INSERT INTO t VALUES (?)", ("x" * 100_000,))
    connection.close()
    fault = storage_fault(OperationalError("INSERT", {}, raised.value))
    assert fault is not None and fault.reason == "disk_full"
    assert storage_fault(OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: t"))) is None


def test_a_read_only_database_that_needs_migrating_refuses_to_start(tmp_path):
    from click.testing import CliRunner

    from web.cli import main

    path = tmp_path / "old.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE kept (x TEXT)")  # someone's database, never migrated
    connection.commit()
    connection.close()
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    result = CliRunner().invoke(main, ["db", "upgrade"], env={"HOTLINE_DATABASE_URL": url})
    assert result.exit_code == 1
    assert "数据库不可写（read_only）" in result.output and "pending migrations" in result.output
