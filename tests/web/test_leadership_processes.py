"""Two `hotline serve` processes on one PostgreSQL and one PBX (the AMI simulator over TCP):
one of them alone runs the bridge; SIGKILL it and the other takes over within seconds, and
every call (before, during the gap, after) is recorded exactly once."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.models import Call
from tests.web.pbx_support import SECRET, USER, SimulatorThread
from web.leadership import PBX_BRIDGE, SCHEDULER

TAKEOVER_SECONDS = 5.0
# Starting is only guarded against a hang: importing the app in two or three processes at once
# waits for a core on a loaded machine (seen past 60 s beside other test workers).
START_SECONDS = 120


def parse(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Samples by (name, sorted labels), with prometheus_client's own parser."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(exposition) for sample in family.samples}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _until(check: Callable[[], object], seconds: float, what: str) -> float:
    """Poll until check() is true; returns how long it took."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < seconds, f"not within {seconds:g} s: {what}"
        time.sleep(0.05)
    return time.monotonic() - start


class Server:
    def __init__(self, database_url: str, ami_port: int, queue_log: Path, log: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "HOTLINE_DATABASE_URL": database_url, "HOTLINE_TRAIN_ON_START": "no",
               "HOTLINE_LOG_LEVEL": "INFO", "HOTLINE_AMI_HOST": "127.0.0.1", "HOTLINE_AMI_PORT": str(ami_port),
               "HOTLINE_AMI_USERNAME": USER, "HOTLINE_AMI_SECRET": SECRET, "HOTLINE_QUEUE_LOG": str(queue_log)}
        self.log = log
        with open(log, "wb") as stderr:
            self.process = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(self.port)],
                                            env=env, stdout=subprocess.DEVNULL, stderr=stderr)

    def roles(self) -> list[str] | None:
        """The roles /readyz says this process holds; None while it does not answer."""
        assert self.process.poll() is None, self.log.read_text(errors="replace")
        try:
            checks = httpx.get(self.base + "/readyz", timeout=2).json()["checks"]
        except (httpx.TransportError, ValueError, KeyError):
            return None
        return list(checks.get("roles", {}).get("held", []))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def test_killing_the_bridges_process_hands_the_bridge_to_the_other_and_loses_no_call(
        engine: Engine, database_url: str, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("several processes need PostgreSQL (SQLite serves one process, which holds every role)")

    def recorded() -> Counter[str]:
        with sessions() as session:
            return Counter(session.scalars(select(Call.linkedid)))

    with SimulatorThread(speed=20, queue_log=tmp_path / "queue_log") as pbx:
        servers = [Server(database_url, pbx.sim.port, tmp_path / "queue_log", tmp_path / f"server{n}.log")
                   for n in (1, 2)]
        try:
            _until(lambda: all(s.roles() is not None for s in servers), START_SECONDS,
                   "both servers answer /readyz")
            _until(lambda: sum(PBX_BRIDGE in (s.roles() or []) for s in servers) == 1, 10, "a bridge elected")
            time.sleep(2.0)  # a few election rounds: the other must not log in too
            held = [s.roles() or [] for s in servers]
            assert sum(PBX_BRIDGE in h for h in held) == 1, held
            assert sum(SCHEDULER in h for h in held) == 1, held
            assert len(pbx.sim.logins) == 1, pbx.sim.logins  # one AMI connection across both
            holder, other = servers if PBX_BRIDGE in held[0] else servers[::-1]

            before = pbx.run(pbx.sim.play("answered"))
            _until(lambda: set(before) <= set(recorded()), 10, "the first call recorded")

            holder.process.send_signal(signal.SIGKILL)
            holder.process.wait(5)
            killed = time.monotonic()
            # A call that comes and goes while no process listens: the PBX refuses AMI logins
            # meanwhile, so it exists only in queue_log when the new holder connects.
            pbx.run(pbx.sim.cut_link())
            playing = asyncio.run_coroutine_threadsafe(pbx.sim.play("abandoned"), pbx.loop)
            _until(lambda: PBX_BRIDGE in (other.roles() or []), TAKEOVER_SECONDS, "the other took the bridge")
            took_role = time.monotonic() - killed
            gap = playing.result(20)
            assert len(pbx.sim.logins) == 1, pbx.sim.logins
            pbx.run(pbx.sim.restore_link())
            took_login = _until(lambda: len(pbx.sim.logins) == 2, 10, "the new holder logged in to the PBX")
            assert SCHEDULER in (other.roles() or [])

            after = pbx.run(pbx.sim.play("answered")) + pbx.run(pbx.sim.play("timeout"))
            every = before + gap + after
            _until(lambda: set(every) <= set(recorded()), 15, "every call recorded")
            time.sleep(1.0)  # nothing more should arrive
            counts = recorded()
        finally:
            for server in servers:
                server.stop()
    print(f"takeover: role {took_role:.2f} s after the SIGKILL; AMI login {took_login:.2f} s after the link came back")
    assert counts == Counter(every), counts  # each call once, none else
    with sessions() as session:
        outcomes = {c.linkedid: c.outcome for c in session.scalars(select(Call))}
    assert outcomes[gap[0]] == "abandoned"  # recovered from queue_log, ended while nobody listened


def test_serve_with_two_workers_logs_in_to_the_pbx_once(engine: Engine, database_url: str, tmp_path: Path) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("--workers above 1 needs PostgreSQL (test_cli: SQLite refuses it)")
    with SimulatorThread(speed=20) as pbx:
        port = _free_port()
        env = {**os.environ, "HOTLINE_DATABASE_URL": database_url, "HOTLINE_TRAIN_ON_START": "no",
               "HOTLINE_AMI_HOST": "127.0.0.1", "HOTLINE_AMI_PORT": str(pbx.sim.port),
               "HOTLINE_AMI_USERNAME": USER, "HOTLINE_AMI_SECRET": SECRET}
        log = tmp_path / "serve.log"
        with open(log, "wb") as stderr:
            server = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port),
                                       "--workers", "2"], env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            def answers() -> bool:
                assert server.poll() is None, log.read_text(errors="replace")
                try:
                    return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
                except httpx.TransportError:
                    return False
            _until(answers, START_SECONDS, "the workers answer")
            _until(lambda: log.read_text(errors="replace").count("Application startup complete") == 2,
                   START_SECONDS, "both workers started")
            time.sleep(3.0)  # two election rounds: the second worker must not log in as well
            assert len(pbx.sim.logins) == 1, pbx.sim.logins
            assert log.read_text(errors="replace").count("event=leader_won role=pbx_bridge") == 1
            # /metrics counts every worker's requests, whichever worker answers the scrape.
            for _ in range(30):
                with httpx.Client() as fresh:  # a new connection each: either worker may take it
                    assert fresh.get(f"http://127.0.0.1:{port}/favicon.ico").status_code == 200
            for _ in range(6):
                with httpx.Client() as fresh:
                    scraped = parse(fresh.get(f"http://127.0.0.1:{port}/metrics").text)
                assert scraped[("hotline_http_requests_total",
                                (("method", "GET"), ("route", "/favicon.ico"), ("status", "200")))] == 30
                assert scraped[("hotline_leader", (("role", "pbx_bridge"),))] == 1
                assert scraped[("hotline_leader", (("role", "scheduler"),))] == 1
            _until(lambda: parse(httpx.get(f"http://127.0.0.1:{port}/metrics").text).get(
                ("hotline_ami_up", ())) == 1, 10, "the AMI link shows up in the shared metrics")
        finally:
            server.terminate()
            server.wait(20)
    assert server.returncode == 0, log.read_text(errors="replace")


def test_pbx_bridge_run_apart_and_serve_share_one_bridge(engine: Engine, database_url: str, tmp_path: Path) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("several processes need PostgreSQL")
    with SimulatorThread(speed=20) as pbx:
        env = {**os.environ, "HOTLINE_DATABASE_URL": database_url, "HOTLINE_AMI_HOST": "127.0.0.1",
               "HOTLINE_AMI_PORT": str(pbx.sim.port), "HOTLINE_AMI_USERNAME": USER, "HOTLINE_AMI_SECRET": SECRET}
        log = tmp_path / "bridge.log"
        with open(log, "wb") as stderr:
            bridge = subprocess.Popen([sys.executable, "-m", "web.cli", "pbx-bridge"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=stderr)
        server = None
        try:
            _until(lambda: len(pbx.sim.logins) == 1, START_SECONDS, "pbx-bridge logged in")
            server = Server(database_url, pbx.sim.port, tmp_path / "no_queue_log", tmp_path / "server.log")
            _until(lambda: server.roles() is not None, START_SECONDS, "the server answers")
            time.sleep(3.0)
            assert len(pbx.sim.logins) == 1, pbx.sim.logins
            ready = httpx.get(server.base + "/readyz", timeout=5).json()["checks"]
            assert ready["pbx"]["state"] == "elsewhere" and PBX_BRIDGE not in ready["roles"]["held"]
            bridge.terminate()
            assert bridge.wait(10) == 0, log.read_text(errors="replace")
            _until(lambda: len(pbx.sim.logins) == 2, TAKEOVER_SECONDS, "serve took the bridge over")
            assert PBX_BRIDGE in (server.roles() or [])
        finally:
            if bridge.poll() is None:
                bridge.kill()
                bridge.wait()
            if server is not None:
                server.stop()
