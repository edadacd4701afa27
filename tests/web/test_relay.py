"""The live relay between processes on one PostgreSQL (LISTEN/NOTIFY): messages reach the
other process once and come back to nobody; requests get their answer, errors and silence
included; a listener that lost its connection listens again and says so. Then two servers
on one database and one PBX: the screen-pop seen by the bridge's process reaches an operator
served by the other, a call button pressed there is dialled by the holder, and a routing
rule added on one is followed by the other within 2 s."""
from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select, text

from callcenter.bridge import ActionFailed
from dispatch.models import Callback, Ticket
from tests.web.pages_support import demo_services
from tests.web.pbx_support import SimulatorThread
from tests.web.server import ServerThread
from web.app import create_app
from web.live import LiveHub
from web.relay import CONFIG_TOPIC, EVERYTHING, NoAnswer, Relay, RemoteError, conninfo
from web.services import Services


@pytest.fixture
def postgres(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("the relay joins processes on PostgreSQL; SQLite serves one process")
    return engine


class Heard:
    """What a hub's topic says, kept for the test to wait on (a timed-out wait does not end
    the subscription)."""

    def __init__(self, hub: LiveHub, topic: str) -> None:
        self.messages: asyncio.Queue[Any] = asyncio.Queue()
        self._task = asyncio.create_task(self._listen(hub, topic))

    async def _listen(self, hub: LiveHub, topic: str) -> None:
        async for message in hub.subscribe(topic):
            self.messages.put_nowait(message)

    async def next(self, seconds: float = 5.0) -> Any:
        return await asyncio.wait_for(self.messages.get(), seconds)

    def stop(self) -> None:
        self._task.cancel()


@contextlib.asynccontextmanager
async def two_relays(engine: Engine) -> AsyncIterator[tuple[tuple[LiveHub, LiveHub], tuple[Relay, Relay]]]:
    """Two processes' hubs joined by their relays on one database, both listening."""
    hubs = LiveHub(), LiveHub()
    relays = Relay(conninfo(engine), hubs[0]), Relay(conninfo(engine), hubs[1])
    for hub, relay in zip(hubs, relays):
        hub.relay = relay
    listeners = [asyncio.create_task(r.run()) for r in relays]
    try:
        await asyncio.wait_for(asyncio.gather(*(r.listening.wait() for r in relays)), 10)
        yield hubs, relays
    finally:
        for hub in hubs:
            hub.close()
        for task in listeners:
            task.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)
        for relay in relays:
            await relay.close()


def test_a_message_reaches_the_other_process_once_and_a_request_its_answer(postgres: Engine) -> None:
    async def scenario() -> None:
        async with two_relays(postgres) as (hubs, (one, other)):
            here, there = Heard(hubs[0], "screen-pop:PJSIP/7001"), Heard(hubs[1], "screen-pop:PJSIP/7001")
            await asyncio.sleep(0.05)  # both subscribed
            hubs[0].publish("screen-pop:PJSIP/7001", {"linkedid": "1700000000.1", "caller": "+8613803910001"})
            got_here, got_there = await here.next(), await there.next()
            assert got_here == got_there == {"linkedid": "1700000000.1", "caller": "+8613803910001"}
            # Only once here: the notice of our own message is not delivered again.
            with pytest.raises(asyncio.TimeoutError):
                await here.next(0.5)

            async def answer(name: str, arguments: dict[str, Any]) -> Any:
                if name == "refuse":
                    raise ActionFailed("Originate", "Channel not found")
                return {"asked": name, "with": arguments}

            one.answerer = answer
            assert await other.request("originate", {"channel": "PJSIP/7001"}, 5) == {
                "asked": "originate", "with": {"channel": "PJSIP/7001"}}
            with pytest.raises(RemoteError) as refused:
                await other.request("refuse", {}, 5)
            assert refused.value.kind == "ActionFailed" and "Channel not found" in refused.value.message
            one.answerer = None
            started = time.monotonic()
            with pytest.raises(NoAnswer):
                await other.request("originate", {}, 0.5)
            assert time.monotonic() - started < 2
            # Too large for NOTIFY: not relayed (and nothing breaks).
            hubs[0].publish("screen-pop:PJSIP/7001", {"big": "号" * 4000})
            assert (await here.next())["big"]
            with pytest.raises(asyncio.TimeoutError):
                await there.next(0.5)

    asyncio.run(scenario())


def test_a_listener_that_lost_its_connection_listens_again_and_asks_for_everything(postgres: Engine) -> None:
    async def scenario() -> None:
        async with two_relays(postgres) as (hubs, (one, other)):
            config = Heard(hubs[1], CONFIG_TOPIC)
            await asyncio.sleep(0.05)
            with postgres.begin() as connection:  # the database drops every listener's connection
                dropped = connection.execute(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE query LIKE 'LISTEN hotline_live%' AND pid <> pg_backend_pid() AND datname = current_database()")).scalar()
            assert dropped and dropped >= 2
            assert await config.next(10) == {"what": EVERYTHING}
            await asyncio.wait_for(asyncio.gather(one.listening.wait(), other.listening.wait()), 10)
            board = Heard(hubs[1], "board")
            await asyncio.sleep(0.05)
            hubs[0].publish("board", {"stamp": 7})
            assert await board.next() == {"stamp": 7}

    asyncio.run(scenario())


# ---- two servers, one database, one PBX -------------------------------------------------

def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def _login(client: httpx.Client, username: str) -> None:
    page = client.get("/login")
    response = client.post("/login", data={"csrf_token": _token(page.text), "username": username,
                                           "password": "hotline-demo"})
    assert response.status_code == 303, response.text


def _until(check: Any, seconds: float, what: str) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, f"not within {seconds:g} s: {what}"
        time.sleep(0.02)
    return time.monotonic() - started


@pytest.fixture
def two_servers(postgres: Engine, database_url: str) -> Iterator[tuple[SimulatorThread, ServerThread, ServerThread]]:
    with SimulatorThread(speed=20) as pbx:
        seeded = demo_services(database_url)
        settings = pbx.settings(seeded.settings)
        seeded.close()
        holder_services, other_services = Services.build(settings), Services.build(settings)
        try:
            with ServerThread(create_app(settings, holder_services), proxy_headers=False) as holder:
                _until(lambda: getattr(holder.app.state, "bridge", None) is not None
                       and holder.app.state.bridge.connected, 20, "the first server holds the bridge")
                with ServerThread(create_app(settings, other_services), proxy_headers=False) as other:
                    assert other.app.state.bridge is None and other.app.state.remote_bridge is not None
                    yield pbx, holder, other
        finally:
            holder_services.close()
            other_services.close()


def test_an_operator_on_the_other_process_gets_the_screen_pop_and_dials_through_the_holder(
        two_servers: tuple[SimulatorThread, ServerThread, ServerThread], database_url: str) -> None:
    pbx, holder, other = two_servers
    with httpx.Client(base_url=other.url, follow_redirects=False, timeout=30) as client:
        _login(client, "operator")
        console = client.get("/operator").text
        assert client.post("/operator/agent", data={"csrf_token": _token(console), "agent": "PJSIP/7001"}
                           ).status_code == 303
        events: list[str] = []
        ready = threading.Event()

        def listen() -> None:
            with client.stream("GET", "/operator/events", timeout=30) as stream:
                for line in stream.iter_lines():
                    if line.startswith("event: hello"):
                        ready.set()
                    if line.startswith("data:") and events and events[-1] == "event: pop":
                        events.append(line)
                        return
                    if line.startswith("event:"):
                        events.append(line)

        reader = threading.Thread(target=listen, daemon=True)
        reader.start()
        assert ready.wait(10), "the stream did not open"
        pbx.start_call("answered")
        reader.join(15)
        assert events[-2:-1] == ["event: pop"], events
        assert "PJSIP/7001" in events[-1]

        # A missed call, then its 回拨 pressed on this process: the holder dials it.
        pbx.run(pbx.sim.play("abandoned"))
        with holder.app.state.services.sessions() as session:
            _until(lambda: session.scalar(select(Callback.id).where(Callback.status == "pending")) is not None,
                   10, "the missed call is on the callback list")
            callback_id = session.scalar(select(Callback.id).where(Callback.status == "pending"))
        console = client.get("/operator").text
        assert f'action="/operator/callbacks/{callback_id}/call"' in console
        before = len(pbx.sim.originated)
        response = client.post(f"/operator/callbacks/{callback_id}/call", data={"csrf_token": _token(console)})
        assert response.status_code == 303, response.text
        assert "done=calling" in response.headers["location"]
        _until(lambda: client.get(f"/operator/callbacks/{callback_id}/state").json()["done"], 15,
               "the holder dialled the citizen and the outcome was recorded")
        assert len(pbx.sim.originated) == before + 1
        assert pbx.sim.originated[-1]["channel"] == "PJSIP/7001"
        assert other.app.state.bridge is None  # this process never held the bridge


def test_an_operator_on_the_other_process_pauses_through_the_holder_and_sees_it(
        two_servers: tuple[SimulatorThread, ServerThread, ServerThread]) -> None:
    _pbx, _holder, other = two_servers
    with httpx.Client(base_url=other.url, follow_redirects=False, timeout=30) as client:
        _login(client, "operator")
        token = _token(client.get("/operator").text)
        assert client.post("/operator/agent", data={"csrf_token": token, "agent": "PJSIP/7001"}).status_code == 303
        response = client.post("/operator/pause", data={"csrf_token": token, "paused": "1", "reason": "training"})
        assert response.status_code == 303, response.text
        _until(lambda: "示忙（培训）" in client.get("/operator").text, 10, "the console shows 示忙（培训）")
        # A phone the PBX does not know: the holder's Error comes back as the refusal.
        response = client.post("/operator/pause", headers={"Accept": "application/json"}, data={
            "csrf_token": token, "paused": "0", "interface": "PJSIP/7001x"})
        assert response.status_code == 403  # not this operator's phone
        client.post("/operator/agent", data={"csrf_token": token, "agent": "PJSIP/7099"})
        response = client.post("/operator/pause", headers={"Accept": "application/json"},
                               data={"csrf_token": token, "paused": "0"})
        assert response.status_code == 409 and "交换机拒绝了 PJSIP/7099" in response.json()["error"]
        assert other.app.state.bridge is None


def test_a_rule_added_on_one_process_is_followed_by_the_other_within_two_seconds(
        two_servers: tuple[SimulatorThread, ServerThread, ServerThread]) -> None:
    _, holder, other = two_servers
    phrase = "桥洞积水观测点"
    with httpx.Client(base_url=holder.url, follow_redirects=False, timeout=30) as client:
        _login(client, "supervisor")
        page = client.get("/supervisor/rules").text
        response = client.post("/supervisor/rules", data={"csrf_token": _token(page), "phrases": phrase,
                                                          "unit": "ecology-environment", "note": ""})
        assert response.status_code == 303, response.text
    added = time.monotonic()
    elsewhere = other.app.state.services.router
    took = _until(lambda: any(phrase in rule.phrases for rule in elsewhere.rules), 2.0,
                  "the other process follows the new rule")
    assert took < 2.0 and time.monotonic() - added < 2.0
    created = httpx.post(f"{other.url}/api/v1/tickets", json={
        "body": f"{phrase}旁边的路面又积水了，请尽快处理。", "phone": "13803910002", "type": "投诉"}, timeout=30)
    assert created.status_code == 201, created.text
    with other.app.state.services.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == created.json()["number"]))
        assert ticket is not None and ticket.routing is not None
        assert "ecology-environment" in str(ticket.routing) and phrase in str(ticket.routing), ticket.routing


def test_a_catalogue_edit_on_one_process_is_followed_by_the_other_within_two_seconds(
        two_servers: tuple[SimulatorThread, ServerThread, ServerThread]) -> None:
    _, holder, other = two_servers
    elsewhere = other.app.state.services.router
    entry = next(item for item in elsewhere.catalogue.items if not item.local and item.unit_code != "gas")
    term = "测试用新匹配词甲乙"
    with httpx.Client(base_url=holder.url, follow_redirects=False, timeout=30) as client:
        _login(client, "supervisor")
        page = client.get("/supervisor/catalogue", params={"code": entry.code}).text
        response = client.post(f"/supervisor/catalogue/{entry.code}", data={
            "csrf_token": _token(page), "unit": "gas", "terms": "、".join((*entry.terms, term)),
            "deadline_class": "", "note": "换承办单位"})
        assert response.status_code == 303, response.text
    took = _until(lambda: any(item.code == entry.code and item.unit_code == "gas" and term in item.terms
                              for item in other.app.state.services.router.catalogue.items), 2.0,
                  "the other process follows the catalogue's new version")
    assert took < 2.0
