"""`hotline serve --demo` as someone trying it from a fresh clone: a real process, its first
start writes the history, the month's figures count hundreds of tickets with categories,
and a second start adds nothing. The SMS stand-in's usual port being busy stops nothing."""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.clock import local_date, utcnow
from dispatch.models import Ticket, TicketEvent
from web import cli

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _listening(port: int = 0) -> Iterator[int]:
    """A socket that holds a port, as another program would."""
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        s.listen()
    except OSError:  # somebody else already holds it: busy all the same
        s.close()
        yield port
        return
    try:
        yield int(s.getsockname()[1])
    finally:
        s.close()


@contextlib.contextmanager
def _serve_demo(database_url: str, folder: Path, log: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "HOTLINE_DATABASE_URL": database_url, "HOTLINE_DEMO_HISTORY_DAYS": "5",
           "HOTLINE_TRAIN_ON_START": "no", "HOTLINE_MODEL_DIR": str(folder / "models"),
           "HOTLINE_SMS_SPOOL": str(folder / "spool.jsonl"), "HOTLINE_DEMO_CALL_INTERVAL_SECONDS": "600",
           "PYTHONPATH": str(ROOT)}
    env.pop("HOTLINE_SMS_SIM_PORT", None)
    env.pop("HOTLINE_AMI_HOST", None)
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--demo", "--port", str(port)],
                                   cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(30)


def _counts(sessions: sessionmaker[Session]) -> tuple[int | None, int | None]:
    with sessions() as session:
        return (session.scalar(select(func.count(Ticket.id))), session.scalar(select(func.count(TicketEvent.id))))


def test_the_demo_shows_a_month_of_figures_and_a_second_start_adds_nothing(
        database_url: str, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    until = local_date(utcnow())
    since = until - dt.timedelta(days=29)
    log = tmp_path / "first.log"
    with _listening(cli.SMS_SIM_PORT), _serve_demo(database_url, tmp_path, log) as url:
        with urllib.request.urlopen(f"{url}/api/v1/stats?since={since}&until={until}", timeout=30) as response:
            stats = json.load(response)
    output = log.read_text()
    assert "件历史工单（5 天）" in output, output
    assert "短信模拟器改用空闲端口" in output, output
    received = stats["tickets"]["received"]
    assert received >= 300  # five days of history and the seven samples
    categories = {name: f["received"] for name, f in stats["categories"].items() if name}
    assert len(categories) == 7 and sum(categories.values()) > 0.9 * received

    report = CliRunner().invoke(cli.main, ["report"], env={"HOTLINE_DATABASE_URL": database_url},
                                catch_exceptions=False)
    assert report.exit_code == 0
    assert re.search(rf"受理 received\s*│\s*{received}\s*│", report.output), report.output
    assert "By category" in report.output and "劳动和社会保障" in report.output

    first = _counts(sessions)
    again = tmp_path / "second.log"
    with _serve_demo(database_url, tmp_path, again):
        pass
    assert "件历史工单" not in again.read_text()
    assert _counts(sessions) == first


def test_a_busy_sms_simulator_port_that_was_asked_for_stops_the_start_in_one_line(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with _listening() as port:
        monkeypatch.setenv("HOTLINE_SMS_SIM_PORT", str(port))
        with pytest.raises(click.ClickException) as refused:
            cli._sms_simulator_server("127.0.0.1", 8000)
    assert f"短信模拟器端口 {port} 已被占用" in refused.value.message
    assert "HOTLINE_SMS_SIM_PORT" in refused.value.message and "\n" not in refused.value.message


def test_the_sms_simulator_takes_a_free_port_when_its_own_is_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTLINE_SMS_SIM_PORT", raising=False)
    with _listening() as busy:
        monkeypatch.setattr(cli, "SMS_SIM_PORT", busy)
        server = cli._sms_simulator_server("127.0.0.1", 8000)
    try:
        assert server.port not in (busy, 8000, 0)
    finally:
        server.stop()
