"""Signed webhooks for a unit's own system, told as the unit's IT person lives it: the
administrator registers the receiver's URL and hands over the secret; the receiver (a real
HTTP server on loopback, checking signatures as the README tells it to) gets each transfer,
escalation, reopen and notice; a receiver that is down is tried again with backoff; and
with a staff API token the unit's system accepts and resolves the ticket by itself."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import SAWarning
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from dispatch import api_tokens, catalogue, chasing, lifecycle, notices, webhooks
from dispatch.actions import ActionContext, perform
from dispatch.actors import Actor
from dispatch.errors import InvalidInput, Reason
from dispatch.intake import IntakeRequest, IntakeRules, intake
from dispatch.models import CatalogueEntry, Notice, StaffActivity, StaffUser, Ticket, UnitWebhook, WebhookDelivery
from dispatch.outbox import RetryPolicy
from dispatch.staff_view import staff_view
from dispatch.units import City, unit_by_code
from dispatch.vocabulary import Channel, Role
from sms_gateway.simulator import ServerThread
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket
from tests.sms_gateway.conftest import eventually
from tests.web.pages_support import client_for, csrf, login, seed_demo
from tests.web.server import ServerThread as UvicornThread
from web.pages.labels import WEBHOOK_EVENTS_ZH
from web.config import Settings
from web.services import Services
from web.webhook_sender import WebhookSender

ADMIN = Actor.system("test-admin")


# The receiver's check, as README.md gives it to units' developers (written apart from
# dispatch/webhooks.py on purpose: it is what a stranger would write from the README).
def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    t, v1 = parts.get("t", ""), parts.get("v1", "")
    if not t.isdigit() or abs(time.time() - int(t)) > tolerance:
        return False  # too old (or from the future): maybe a replay
    expected = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, v1)


@dataclass
class Receiver:
    """A unit's system: answers 204 to a delivery it can verify, 401 to one it cannot, 500
    while told to fail."""

    secret: str = ""
    failures: int = 0
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    refused: int = 0
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                if self.failures > 0:
                    self.failures -= 1
                    return Response("down for maintenance", status_code=500)
                if not verify(self.secret, request.headers.get("x-hotline-signature", ""), body):
                    self.refused += 1
                    return Response("bad signature", status_code=401)
                self.received.append((dict(request.headers), body))
            return Response(status_code=204)
        return Starlette(routes=[Route("/hotline-events", hook, methods=["POST"])])

    def events(self) -> list[dict[str, object]]:
        with self.lock:
            return [json.loads(body) for _, body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    server = ServerThread()
    found.url = server.url + "/hotline-events"
    server.start(found.app())
    yield found
    server.stop()


# ---- through the site: the administrator's page, the app's own sender ---------------------

@pytest.fixture
def closed_services(database_url: str, sessions: sessionmaker[Session]) -> Iterator[Services]:
    """The demo site on a closed city network (HOTLINE_WEBHOOK_ALLOW_PRIVATE=yes), as the
    receivers here listen on loopback."""
    services = Services.build(Settings(database_url=database_url, webhook_allow_private=True))
    seed_demo(services)
    yield services
    services.close()


@pytest.fixture
def closed_client(closed_services: Services) -> Iterator[TestClient]:
    yield from client_for(closed_services)


def test_a_transfer_reaches_the_units_system_signed_and_the_page_logs_it(
        closed_client: TestClient, closed_services: Services, receiver: Receiver) -> None:
    client, services = closed_client, closed_services
    login(client, "admin")
    housing = services.run_sync(lambda s: unit_by_code(s, "housing"))
    page = client.post(f"/admin/units/{housing.id}/webhook",
                       data={"csrf_token": csrf(client, f"/admin/units/{housing.id}"), "url": receiver.url})
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    secret = re.search(r'id="webhook-secret">.*?<code>([^<]+)</code>', page.text, re.S)
    assert secret is not None
    receiver.secret = secret.group(1)
    assert receiver.secret not in client.get(f"/admin/units/{housing.id}").text  # shown once only

    def transfer(session: Session) -> str:
        ticket = new_ticket(session, body="小区电梯停运三天，老人上下楼困难。")
        lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), Actor.system("test-operator"),
                           note="请尽快处理")
        return ticket.number
    number = services.run_sync(transfer)

    (event,) = eventually(receiver.events)
    assert event["type"] == "ticket.transferred" and event["note"] == "请尽快处理"
    assert event["ticket"]["number"] == number and "电梯" in event["ticket"]["body"]  # type: ignore[index]
    assert event["unit"] == {"code": "housing", "name": housing.name}
    headers = receiver.received[0][0]
    assert headers["x-hotline-delivery"] == event["id"] and headers["x-hotline-event"] == "ticket.transferred"

    # The sender records the delivery just after the receiver has answered: wait for that row.
    row = eventually(lambda: re.search(rf'data-delivery="{event["id"]}" data-status="delivered">(.*?)</tr>',
                                       client.get(f"/admin/units/{housing.id}").text, re.S))
    assert row is not None and number in row.group(1) and "已送达" in row.group(1) and "204" in row.group(1)

    login(client, "housing")   # the unit's own page shows the log too, never the secret
    inbox = client.get("/unit").text
    mine = re.search(rf'data-delivery="{event["id"]}" data-status="delivered">(.*?)</tr>', inbox, re.S)
    assert mine is not None and number in mine.group(1) and receiver.secret not in inbox


def test_a_url_that_is_not_http_is_refused_in_chinese(client: TestClient, services: Services) -> None:
    login(client, "admin")
    housing = services.run_sync(lambda s: unit_by_code(s, "housing"))
    page = client.post(f"/admin/units/{housing.id}/webhook",
                       data={"csrf_token": csrf(client, f"/admin/units/{housing.id}"), "url": "ftp://example"})
    assert page.status_code == 422 and "不是有效的网址" in page.text
    assert services.run_sync(lambda s: webhooks.webhook_of(s, housing.id)) is None


def test_a_refused_url_is_shown_back_to_correct_not_the_saved_one(client: TestClient, services: Services) -> None:
    login(client, "admin")
    housing = services.run_sync(lambda s: unit_by_code(s, "housing"))
    services.run_sync(lambda s: webhooks.register(s, ADMIN, unit_by_code(s, "housing"), "https://old.example.org/x"))
    typed = "http://169.254.169.254/hotline"
    page = client.post(f"/admin/units/{housing.id}/webhook",
                       data={"csrf_token": csrf(client, f"/admin/units/{housing.id}"), "url": typed})
    assert page.status_code == 422 and "不能作为单位系统的地址" in page.text
    field = re.search(r'<input name="url"[^>]*value="([^"]*)"', page.text)
    assert field is not None and field.group(1) == typed
    assert services.run_sync(lambda s: webhooks.webhook_of(s, housing.id).url) == "https://old.example.org/x"


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://[fe80::1]:8080/hook",
                                 "http://0.0.0.0:8000/hook", "https://[::ffff:169.254.169.254]/", "http://224.0.0.1/"])
def test_an_address_no_units_system_has_is_refused_in_chinese(client: TestClient, services: Services,
                                                              url: str) -> None:
    """A cloud's metadata service and the like: an administrator's account must not be able
    to make the hotline post to them."""
    login(client, "admin")
    housing = services.run_sync(lambda s: unit_by_code(s, "housing"))
    page = client.post(f"/admin/units/{housing.id}/webhook",
                       data={"csrf_token": csrf(client, f"/admin/units/{housing.id}"), "url": url})
    assert page.status_code == 422 and "不能作为单位系统的地址" in page.text
    assert services.run_sync(lambda s: webhooks.webhook_of(s, housing.id)) is None


@pytest.mark.parametrize("url", ["http://10.12.0.7/hotline", "http://192.168.3.20:8080/x", "http://127.0.0.1:9000/x",
                                 "http://localhost:9000/x", "http://[fd00::7]/x"])
def test_on_a_closed_network_a_units_system_on_a_private_network_or_this_host_is_taken(
        hooked: sessionmaker[Session], url: str) -> None:
    """HOTLINE_WEBHOOK_ALLOW_PRIVATE: the city's units' systems sit on 政务外网 (or this host)."""
    with hooked.begin() as session:
        secret = webhooks.register(session, ADMIN, unit_by_code(session, "qinyuan"), url, allow_private=True)
        assert secret.startswith("whsec_")


@pytest.mark.parametrize("url", ["http://10.12.0.7/hotline", "http://172.16.5.1/x", "http://192.168.3.20:8080/x",
                                 "http://127.0.0.1:9000/x", "http://[::1]:9000/x", "http://localhost:9000/x",
                                 "http://api.localhost/x", "http://[fd00::7]/x", "http://100.64.0.9/x",
                                 "http://127.1:9000/x", "http://2130706433/x", "http://127.0.0.1./x",
                                 "http://[::ffff:10.0.0.1]/x"])
def test_by_default_a_loopback_or_private_address_is_refused_at_registration(
        hooked: sessionmaker[Session], url: str) -> None:
    """SSRF: an administrator's account (or whoever holds it) must not make the server post
    to its own internal services, unless the city says its network is closed."""
    with hooked.begin() as session:
        with pytest.raises(InvalidInput) as refused:
            webhooks.register(session, ADMIN, unit_by_code(session, "qinyuan"), url)
        assert refused.value.reason is Reason.WEBHOOK_URL_PRIVATE
        assert session.scalars(select(UnitWebhook)).all() == []


def test_the_administrators_page_refuses_this_hosts_address_in_chinese(client: TestClient, services: Services) -> None:
    login(client, "admin")
    housing = services.run_sync(lambda s: unit_by_code(s, "housing"))
    page = client.post(f"/admin/units/{housing.id}/webhook",
                       data={"csrf_token": csrf(client, f"/admin/units/{housing.id}"),
                             "url": "http://127.0.0.1:8000/admin"})
    assert page.status_code == 422 and "指向本机或内部网络地址" in page.text
    assert "HOTLINE_WEBHOOK_ALLOW_PRIVATE" in page.text
    assert services.run_sync(lambda s: webhooks.webhook_of(s, housing.id)) is None


def test_by_default_a_name_resolving_to_this_host_is_refused_at_sending(
        hooked: sessionmaker[Session], receiver: Receiver) -> None:
    """The receiver's name was taken while the network was closed (or a public name was
    pointed at 127.0.0.1 since): with the setting off, the sender resolves `localhost`, finds
    loopback and posts nothing, though a server is listening there."""
    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
    with hooked.begin() as session:
        qinyuan = unit_by_code(session, "qinyuan")
        receiver.secret = webhooks.register(session, ADMIN, qinyuan, f"http://localhost:{port}/hotline-events",
                                            allow_private=True)
        lifecycle.transfer(session, new_ticket(session), qinyuan, Actor.system("op"))
    sender = WebhookSender(hooked, policy=RetryPolicy(max_attempts=1, base_delay=dt.timedelta(milliseconds=10)))
    try:
        assert sender.step()
    finally:
        sender.close()
    (row,) = deliveries(hooked)
    assert row.status == webhooks.FAILED and row.response_status is None
    assert re.search(r"refused: (127\.0\.0\.1|::1) is not a receiver's address", row.last_error or ""), row.last_error
    assert receiver.received == [] and receiver.refused == 0

    # The same delivery sent again on a closed network reaches the receiver.
    with hooked.begin() as session:
        assert webhooks.redeliver(session, ADMIN, unit_by_code(session, "qinyuan").id, row.id)
    sender = WebhookSender(hooked, allow_private=True, policy=FAST, timeout=5)
    try:
        assert sender.step()
    finally:
        sender.close()
    assert [e["type"] for e in receiver.events()] == ["ticket.transferred"]


def test_a_receiver_stored_at_such_an_address_is_never_posted_to(hooked: sessionmaker[Session]) -> None:
    """A URL stored before the check (or a name resolving there since) is refused when sending."""
    with hooked.begin() as session:
        qinyuan = unit_by_code(session, "qinyuan")
        webhooks.register(session, ADMIN, qinyuan, "http://127.0.0.1:9/hook", allow_private=True)
        session.get_one(UnitWebhook, qinyuan.id).url = "http://169.254.169.254/latest/meta-data/"
        lifecycle.transfer(session, new_ticket(session), qinyuan, Actor.system("op"))
    sender = WebhookSender(hooked, allow_private=True,
                           policy=RetryPolicy(max_attempts=1, base_delay=dt.timedelta(milliseconds=10)))
    try:
        assert sender.step()
    finally:
        sender.close()
    (row,) = deliveries(hooked)
    assert row.status == webhooks.FAILED and row.response_status is None
    assert "refused: 169.254.169.254" in (row.last_error or "")


def test_the_post_goes_to_the_address_checked_though_the_name_answers_otherwise_by_then(
        hooked: sessionmaker[Session], receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: the name's first answer passes the check, every later one points
    elsewhere (here another server on this host, in real life the metadata service). The
    POST still reaches the address checked, named in its Host header as registered."""
    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
    decoy = Receiver()
    decoy_server = ServerThread("127.0.0.2", port)
    decoy_server.start(decoy.app())
    name = "units-system.test"
    answers = iter(["127.0.0.1"])
    resolve = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        return resolve(next(answers, "127.0.0.2") if host == name else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    try:
        with hooked.begin() as session:
            qinyuan = unit_by_code(session, "qinyuan")
            receiver.secret = webhooks.register(session, ADMIN, qinyuan, f"http://{name}:{port}/hotline-events",
                                                allow_private=True)
            lifecycle.transfer(session, new_ticket(session), qinyuan, Actor.system("op"))
        sender = WebhookSender(hooked, allow_private=True, policy=FAST, timeout=5)
        try:
            assert sender.step()
        finally:
            sender.close()
    finally:
        decoy_server.stop()
    (row,) = deliveries(hooked)
    assert (row.status, row.response_status) == (webhooks.DELIVERED, 204), row.last_error
    assert decoy.refused == 0 and decoy.received == []
    assert receiver.received[0][0]["host"] == f"{name}:{port}"


def _certificate_for(name: str, folder: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for `name` only (no address in it), by the openssl tool."""
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=hotline test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={name}")
    (folder / "san.cnf").write_text(f"subjectAltName=DNS:{name}\n", encoding="ascii")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "san.cnf")
    return folder / "ca.pem", folder / "server.pem", folder / "server.key"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl tool to make a certificate")
def test_over_https_the_pinned_post_checks_the_certificate_against_the_name(
        hooked: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Connected to the address, the TLS server name and the certificate check stay on the
    name registered: a certificate naming the receiver is accepted, though it names no address."""
    name = "units-system.test"
    ca, certificate, key = _certificate_for(name, tmp_path)
    receiver = Receiver()
    resolve = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *args, **kwargs: resolve(
        "127.0.0.1" if host == name else host, *args, **kwargs))
    with UvicornThread(receiver.app(), ssl_certfile=str(certificate), ssl_keyfile=str(key)) as server:
        with hooked.begin() as session:
            qinyuan = unit_by_code(session, "qinyuan")
            receiver.secret = webhooks.register(session, ADMIN, qinyuan, f"https://{name}:{server.port}/hotline-events",
                                                allow_private=True)
            lifecycle.transfer(session, new_ticket(session), qinyuan, Actor.system("op"))
        sender = WebhookSender(hooked, allow_private=True, policy=FAST, timeout=5,
                               verify=ssl.create_default_context(cafile=str(ca)))
        try:
            assert sender.step()
        finally:
            sender.close()
    (row,) = deliveries(hooked)
    assert (row.status, row.response_status) == (webhooks.DELIVERED, 204), row.last_error
    assert receiver.received[0][0]["host"] == f"{name}:{server.port}"


def test_only_an_administrator_sets_a_webhook(client: TestClient, services: Services) -> None:
    login(client, "supervisor")
    housing = services.run_sync(lambda s: unit_by_code(s, "housing"))
    response = client.post(f"/admin/units/{housing.id}/webhook",
                           data={"csrf_token": csrf(client, "/supervisor"), "url": "https://example.org/x"})
    assert response.status_code == 403
    assert services.run_sync(lambda s: webhooks.webhook_of(s, housing.id)) is None


def test_the_units_system_closes_the_loop_with_its_api_token(
        closed_client: TestClient, closed_services: Services, receiver: Receiver) -> None:
    """Transfer -> webhook -> the unit's system accepts and resolves through the staff API."""
    client, services = closed_client, closed_services
    def setup(session: Session) -> str:
        receiver.secret = webhooks.register(session, ADMIN, unit_by_code(session, "housing"), receiver.url,
                                            allow_private=True)
        user = session.scalar(select(StaffUser).where(StaffUser.username == "housing"))
        return api_tokens.create(session, user, "住建局业务系统", lifetime=None)[1]
    token = services.run_sync(setup)

    def transfer(session: Session) -> None:
        ticket = new_ticket(session, body="楼道灯坏了，晚上看不见。")
        lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), Actor.system("test-operator"))
    services.run_sync(transfer)
    (event,) = eventually(receiver.events)
    api = event["ticket"]["api"]  # type: ignore[index]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.post(f"{api}/accept", json={}, headers=bearer).status_code == 200
    done = client.post(f"{api}/resolve", json={"reply": "已更换楼道灯，经现场核实问题已解决。"}, headers=bearer)
    assert done.status_code == 200 and done.json()["state"] == "resolved"


# ---- the sender against a receiver that fails -------------------------------------------------

FAST = RetryPolicy(max_attempts=4, base_delay=dt.timedelta(milliseconds=500), max_delay=dt.timedelta(seconds=5),
                   lease=dt.timedelta(seconds=5))


@pytest.fixture
def hooked(sessions: sessionmaker[Session], units: City) -> sessionmaker[Session]:
    webhooks.install(sessions)
    return sessions


def deliveries(sessions: sessionmaker[Session]) -> list[WebhookDelivery]:
    with sessions() as session:
        rows = list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
        session.commit()
        return rows


def test_a_receiver_that_is_down_is_tried_again_with_growing_backoff(
        hooked: sessionmaker[Session], receiver: Receiver) -> None:
    with hooked.begin() as session:
        receiver.secret = webhooks.register(session, ADMIN, unit_by_code(session, "qinyuan"), receiver.url,
                                            allow_private=True)
        ticket = new_ticket(session)
        lifecycle.transfer(session, ticket, unit_by_code(session, "qinyuan"), Actor.system("test-operator"))
    receiver.failures = 2
    sender = WebhookSender(hooked, allow_private=True, policy=FAST, timeout=5)
    try:
        waits = []
        for _ in range(2):
            eventually(lambda: sender.step(), timeout=5)
            (row,) = deliveries(hooked)
            assert row.status == webhooks.PENDING and row.response_status == 500 and "HTTP 500" in (row.last_error or "")
            waits.append(row.next_attempt_at - row.updated_at)
            assert not sender.step(), "not due again before its backoff"
        assert waits == [FAST.base_delay, 2 * FAST.base_delay]   # exponential: base, 2 base, 4 base ...
        eventually(lambda: sender.step(), timeout=5)
    finally:
        sender.close()
    (row,) = deliveries(hooked)
    assert (row.status, row.attempts, row.response_status) == (webhooks.DELIVERED, 3, 204)
    assert [e["type"] for e in receiver.events()] == ["ticket.transferred"]


def test_a_receiver_never_answering_well_is_given_up_after_the_last_attempt(
        hooked: sessionmaker[Session], receiver: Receiver) -> None:
    with hooked.begin() as session:
        webhooks.register(session, ADMIN, unit_by_code(session, "qinyuan"), receiver.url, allow_private=True)
        receiver.secret = "not-the-secret"   # the receiver refuses every signature: 401
        lifecycle.transfer(session, new_ticket(session), unit_by_code(session, "qinyuan"), Actor.system("op"))
    sender = WebhookSender(hooked, allow_private=True,
                           policy=RetryPolicy(max_attempts=2, base_delay=dt.timedelta(milliseconds=10)))
    try:
        assert sender.step()
        eventually(lambda: sender.step(), timeout=5)
    finally:
        sender.close()
    (row,) = deliveries(hooked)
    assert (row.status, row.attempts, row.response_status) == (webhooks.FAILED, 2, 401)
    assert receiver.refused == 2 and receiver.events() == []

    # 重发: the row is reset in place, so the activity log keeps who sent it again and what was given up.
    with hooked.begin() as session:
        qinyuan = unit_by_code(session, "qinyuan")
        assert webhooks.redeliver(session, ADMIN, qinyuan.id, row.id)
        assert not webhooks.redeliver(session, ADMIN, qinyuan.id, row.id)   # pending now: nothing to log
        [logged] = session.scalars(select(StaffActivity).where(StaffActivity.kind == "webhook_redelivered")).all()
        assert (logged.actor, logged.target) == ("test-admin", "qinyuan")
        assert logged.detail == {"delivery": row.delivery_id, "event": "ticket.transferred", "attempts": 2,
                                 "last_error": row.last_error}


def test_escalation_reopen_and_notices_reach_the_unit_and_other_units_hear_nothing(
        hooked: sessionmaker[Session], receiver: Receiver) -> None:
    with hooked.begin() as session:
        receiver.secret = webhooks.register(session, ADMIN, unit_by_code(session, "qinyuan"), receiver.url,
                                            allow_private=True)
        ticket = new_ticket(session)
        lifecycle.transfer(session, ticket, unit_by_code(session, "qinyuan"), Actor.system("op"))
        escalation = lifecycle.escalate(session, ticket, Actor.system("supervisor"), "三天未受理")
        notices.tell_escalation(session, ticket, escalation)
        other = new_ticket(session)
        lifecycle.transfer(session, other, unit_by_code(session, "housing"), Actor.system("op"))
    assert [d.event_type for d in deliveries(hooked)] == ["ticket.transferred", "ticket.escalated"]
    sender = WebhookSender(hooked, allow_private=True, policy=FAST)
    try:
        sender.drain()
    finally:
        sender.close()
    escalated = receiver.events()[1]
    assert escalated["notice"] == {"kind": "escalation", "text": f"工单{ticket.number}被督办：三天未受理"}


def test_a_ticket_first_found_overdue_at_a_step_reaches_the_units_system_as_overdue(
        hooked: sessionmaker[Session], receiver: Receiver) -> None:
    """The scheduler was down past the first 督办 step: the unit hears one notice saying both,
    and its system hears what happened first, the ticket going overdue (notice.overdue), not
    a supervisor's ticket.escalated."""
    with hooked.begin() as session:
        webhooks.register(session, ADMIN, unit_by_code(session, "qinyuan"), receiver.url, allow_private=True)
        ticket = new_ticket(session)
        lifecycle.transfer(session, ticket, unit_by_code(session, "qinyuan"), Actor.system("op"))
        assert ticket.deadline is not None
        policy = chasing.ChasePolicy()
        step_one = policy.calendar.add_working_days(ticket.deadline, 2) + dt.timedelta(minutes=1)
        assert chasing.mark_overdue(session, step_one, policy) == [ticket.number]
        [told] = session.scalars(select(Notice).where(Notice.ticket_id == ticket.id)).all()
        assert told.kind == "escalation"   # the inbox shows the 督办 it also is
    assert [d.event_type for d in deliveries(hooked)] == ["ticket.transferred", "notice.overdue"]


def test_reopening_tells_the_unit(hooked: sessionmaker[Session], receiver: Receiver) -> None:
    with hooked.begin() as session:
        webhooks.register(session, ADMIN, unit_by_code(session, "qinyuan"), receiver.url, allow_private=True)
        ticket = new_ticket(session)
        lifecycle.transfer(session, ticket, unit_by_code(session, "qinyuan"), Actor.system("op"))
    with hooked.begin() as session:
        ticket = session.scalars(select(Ticket)).one()
        unit_actor = Actor.system("unit")
        lifecycle.accept(session, ticket, unit_actor)
        lifecycle.resolve(session, ticket, unit_actor, "已修好，经现场核实问题已解决")
        lifecycle.reopen(session, ticket, Actor.system("op"), "市民不满意")
    assert [d.event_type for d in deliveries(hooked)][-1] == "ticket.reopened"


def test_a_confidential_ticket_reaches_the_units_system_as_its_staff_see_it(
        hooked: sessionmaker[Session], receiver: Receiver) -> None:
    """保密: the unit's staff never learn who filed it, so neither does the unit's system."""
    with hooked.begin() as session:
        qinyuan = unit_by_code(session, "qinyuan")
        receiver.secret = webhooks.register(session, ADMIN, qinyuan, receiver.url, allow_private=True)
        request = IntakeRequest(channel=Channel.WEB, body="我是孙八，住在幸福小区5号楼301，楼上违建阳台，请保密处理。",
                                phone="13903910055", name="孙八", location="幸福小区5号楼301", confidential=True)
        ticket = intake(session, request, IntakeRules()).ticket
        lifecycle.transfer(session, ticket, qinyuan, Actor.system("op"), note="孙八（13903910055）要求保密")
        seen = staff_view(session, Actor(label="qinyuan-staff", role=Role.UNIT_STAFF, unit_id=qinyuan.id), ticket)
    sender = WebhookSender(hooked, allow_private=True, policy=FAST)
    try:
        sender.drain()
    finally:
        sender.close()
    (event,) = receiver.events()
    sent = event["ticket"]
    assert {k: sent[k] for k in ("title", "body", "location", "phone")} == {  # type: ignore[index]
        k: seen[k] for k in ("title", "body", "location", "phone")}
    payload = receiver.received[0][1].decode()
    assert "孙八" not in payload and "13903910055" not in payload and sent["location"] == "（保密）"  # type: ignore[index]
    assert event["note"] == "孙*（139****0055）要求保密"


# ---- the signature, as a receiver checks it ----------------------------------------------------

def test_a_tampered_body_or_an_old_timestamp_fails_the_receivers_check() -> None:
    secret, body = webhooks.new_secret(), json.dumps({"type": "ticket.transferred", "n": 1}).encode()
    now = int(time.time())
    header = webhooks.signature_header(secret, now, body)
    assert verify(secret, header, body) and webhooks.verify(secret, header, body)
    tampered = body.replace(b"1", b"2")
    assert not verify(secret, header, tampered) and not webhooks.verify(secret, header, tampered)
    assert not verify("whsec_other", header, body)
    replayed = webhooks.signature_header(secret, now - 301, body)   # captured, replayed later
    assert not verify(secret, replayed, body) and not webhooks.verify(secret, replayed, body)
    assert not verify(secret, "v1=" + header.split("v1=")[1], body)   # no timestamp at all


def test_a_delivery_is_signed_over_the_exact_bytes_sent(hooked: sessionmaker[Session], receiver: Receiver) -> None:
    with hooked.begin() as session:
        receiver.secret = webhooks.register(session, ADMIN, unit_by_code(session, "qinyuan"), receiver.url,
                                            allow_private=True)
        lifecycle.transfer(session, new_ticket(session), unit_by_code(session, "qinyuan"), Actor.system("op"))
    sender = WebhookSender(hooked, allow_private=True, policy=FAST)
    try:
        assert sender.step()
    finally:
        sender.close()
    headers, body = receiver.received[0]
    stamp = int(dict(p.split("=", 1) for p in headers["x-hotline-signature"].split(","))["t"])
    assert abs(stamp - time.time()) < 60
    (row,) = deliveries(hooked)
    assert body == row.payload.encode()
    # Sending the same bytes with the header of another body is refused by the receiver.
    other = webhooks.signature_header(receiver.secret, stamp, body + b" ")
    answer = httpx.post(receiver.url, content=body, headers={"x-hotline-signature": other})
    assert answer.status_code == 401


# ---- every notice of a unit's inbox, and what a payload carries --------------------------------

def test_every_kind_of_notice_a_unit_can_get_has_its_webhook_event() -> None:
    """A unit's system learns of all that its inbox does: a new kind of notice needs its event."""
    told = set(webhooks.NOTICE_TYPES) | webhooks.TOLD_BY_EVENT
    assert told == {kind.value for kind in notices.NoticeKind}
    assert webhooks.NOTICE_TYPES["co_handling"] == "notice.co_handling"
    assert webhooks.NOTICE_TYPES["escalation"] == "ticket.escalated"   # the names already given stay
    assert webhooks.NOTICE_TYPES["near_due"] == "notice.near_due"
    # and the delivery logs name each event in Chinese
    assert set(WEBHOOK_EVENTS_ZH) == set(webhooks.NOTICE_TYPES.values()) | set(webhooks.EVENT_TYPES.values())


def test_a_supervisors_notice_goes_to_no_units_system(hooked: sessionmaker[Session]) -> None:
    """督办已反馈 and 延期申请 are told to supervisors: the unit's system hears its own 督办,
    and nothing of what its answer and its request told the supervisors."""
    from dispatch import staff

    with hooked.begin() as session:
        webhooks.register(session, ADMIN, unit_by_code(session, "housing"), "http://127.0.0.1:9/housing",
                          allow_private=True)
        ticket = new_ticket(session, body="小区燃气管道漏气，路面也被挖开没有恢复。")
        number = ticket.number
        li = staff.create_user(session, "li", "long enough 1", Role.SUPERVISOR)
        session.flush()
        supervisor = Actor(label="li", user_id=li.id, role=Role.SUPERVISOR)
    with warnings.catch_warnings(), hooked.begin() as session:
        warnings.simplefilter("error", SAWarning)   # no unit's webhook looked up for a notice with no unit
        housing = unit_staff(session, "housing")
        perform(session, Actor(label="operator-wang", role=Role.OPERATOR), number, "transfer", {"unit": "housing"},
                ActionContext())
        perform(session, housing, number, "accept", {}, ActionContext())
        perform(session, supervisor, number, "escalate", {"note": "请说明维修时间"}, ActionContext())
        perform(session, housing, number, "progress", {"text": "明天维修。"}, ActionContext())
        perform(session, housing, number, "request_extension", {"days": 2, "reason": "等待燃气公司"}, ActionContext())
    with hooked() as session:
        told = {n.kind for n in session.scalars(select(Notice).where(Notice.unit_id.is_(None)))}
    assert told == {"escalation_answered", "extension_request"}
    assert [d.event_type for d in deliveries(hooked)] == ["ticket.transferred", "ticket.escalated"]


def test_co_handling_and_part_news_reach_each_units_system(
        hooked: sessionmaker[Session], city: City) -> None:
    """协办: the unit given a part hears of it, the lead hears of the part's reply,
    and the transfer is told once (as ticket.transferred, not again as its notice)."""
    with hooked.begin() as session:
        catalogue.seed(session, city)
        for code in ("housing", "transport"):
            webhooks.register(session, ADMIN, unit_by_code(session, code), f"http://127.0.0.1:9/{code}",
                              allow_private=True)
        ticket = new_ticket(session, body="小区燃气管道漏气，路面也被挖开没有恢复。")
        number = ticket.number
    operator = Actor(label="operator-wang", role=Role.OPERATOR)
    with hooked.begin() as session:
        perform(session, operator, number, "transfer",
                {"unit": "housing", "co_units": ["transport"], "category": "城乡建设/城市建设和市政管理/自来水供应"},
                ActionContext())
    with hooked.begin() as session:
        transport = unit_staff(session, "transport")
        perform(session, transport, number, "accept", {}, ActionContext())
        perform(session, transport, number, "part_reply", {"reply": "路面已恢复。"}, ActionContext())

    sent = {(d.unit_id, d.event_type): json.loads(d.payload) for d in deliveries(hooked)}
    with hooked() as session:
        housing, transport_id = unit_by_code(session, "housing").id, unit_by_code(session, "transport").id
        entry = session.scalars(select(CatalogueEntry).where(CatalogueEntry.level3 == "自来水供应")).one()
        kinds = {(n.unit_id, n.kind) for n in session.scalars(select(Notice))}
    assert sorted(sent) == sorted([(housing, "ticket.transferred"), (transport_id, "notice.co_handling"),
                                   (housing, "notice.part")])
    # every notice of these units went out, but the transfer's own, told by its event
    assert {(u, webhooks.NOTICE_TYPES[k]) for u, k in kinds if k not in webhooks.TOLD_BY_EVENT} <= set(sent)
    co = sent[(transport_id, "notice.co_handling")]
    assert co["notice"]["kind"] == "co_handling" and number in co["notice"]["text"]
    assert co["ticket"]["number"] == number
    transferred = sent[(housing, "ticket.transferred")]
    assert transferred["note"] is None   # no note given: null, not ""
    assert transferred["ticket"]["category"] == "城乡建设"
    assert transferred["ticket"]["catalogue_entry"] == {
        "code": entry.code, "name": "自来水供应", "path": "城乡建设/城市建设和市政管理/自来水供应"}
    assert transferred["ticket"]["api"] == f"/api/v1/staff/tickets/{number}"
    assert transferred["ticket"]["api_url"] is None   # no HOTLINE_PUBLIC_URL


def test_a_payload_gives_the_tickets_absolute_address_and_times_to_the_second(sessions: sessionmaker[Session],
                                                                             units: City) -> None:
    webhooks.install(sessions, public_url="https://hotline.example.gov.cn/")
    with sessions.begin() as session:
        webhooks.register(session, ADMIN, unit_by_code(session, "qinyuan"), "http://127.0.0.1:9/hook",
                          allow_private=True)
        ticket = new_ticket(session)
        number = ticket.number
        lifecycle.transfer(session, ticket, unit_by_code(session, "qinyuan"), Actor.system("op"), note="请核实")
    (row,) = deliveries(sessions)
    sent = json.loads(row.payload)
    assert sent["ticket"]["api_url"] == f"https://hotline.example.gov.cn/api/v1/staff/tickets/{number}"
    assert sent["ticket"]["api"] == f"/api/v1/staff/tickets/{number}" and sent["note"] == "请核实"
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
    assert all(stamp.match(value) for value in (sent["created_at"], sent["ticket"]["received_at"],
                                                sent["ticket"]["deadline"]))
    assert sent["ticket"]["deadline"].endswith("T15:59:59Z")   # 23:59:59 China time


def test_the_readmes_payload_example_has_the_fields_a_payload_has(hooked: sessionmaker[Session]) -> None:
    with hooked.begin() as session:
        webhooks.register(session, ADMIN, unit_by_code(session, "qinyuan"), "http://127.0.0.1:9/hook",
                          allow_private=True)
        lifecycle.transfer(session, new_ticket(session), unit_by_code(session, "qinyuan"), Actor.system("op"))
    (row,) = deliveries(hooked)
    sent = json.loads(row.payload)
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    example = re.search(r'X-Hotline-Signature: t=\d+,v1=\S+\n\n(\{.*?\}\})\n```', readme, re.S)
    assert example is not None
    shown = json.loads(example.group(1).replace("……", ""))
    assert set(shown) == set(sent) and set(shown["ticket"]) == set(sent["ticket"])
    assert shown["ticket"]["deadline"].endswith("T15:59:59Z")
    assert shown["ticket"]["category"] in {"城乡建设"} and shown["ticket"]["catalogue_entry"]["name"]
