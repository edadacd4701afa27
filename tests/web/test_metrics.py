"""/metrics as Prometheus reads it: a real server on loopback, a real AMI peer, the text
parsed by prometheus_client's own parser."""
from __future__ import annotations

import dataclasses
import ipaddress
import time
from typing import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import Route

from dispatch import outbox
from dispatch.models import Call, OutboxMessage
from sms_gateway.simulator import ServerThread as TwilioThread
from sms_gateway.simulator import TwilioSimulator
from tests.web.pbx_support import SimulatorThread
from tests.web.server import ServerThread
from web.app import create_app
from web.config import Secret, Settings, SmsSettings

PHONE = "13812345678"
FAMILIES = ("hotline_http_requests", "hotline_http_request_duration_seconds", "hotline_tickets_received",
            "hotline_tickets_received_today", "hotline_tickets_open", "hotline_tickets_overdue",
            "hotline_outbox_messages", "hotline_outbox_depth", "hotline_outbox_retrying", "hotline_ami_up",
            "hotline_ami_configured", "hotline_calls_offered_today", "hotline_calls_answered_today",
            "hotline_calls_abandoned_today", "hotline_leader", "hotline_metrics_database_ok")


def scrape(base: str, **options: object) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Every sample of /metrics as {sample name: {sorted labels: value}}."""
    response = httpx.get(base + "/metrics", **options)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    families = list(text_string_to_metric_families(response.text))
    for family in families:
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    samples["_families"] = {((f.name, f.type),): 0.0 for f in families}
    return samples


def families(samples: dict[str, dict[tuple[tuple[str, str], ...], float]]) -> set[str]:
    return {key[0][0] for key in samples["_families"]}


def value(samples: dict[str, dict[tuple[tuple[str, str], ...], float]], name: str, **labels: str) -> float:
    return samples[name][tuple(sorted(labels.items()))]


@pytest.fixture
def server(database_url: str, sessions: sessionmaker[Session]) -> Iterator[ServerThread]:
    with ServerThread(create_app(Settings(database_url=database_url))) as running:
        yield running


def test_requests_are_counted_by_route_template_with_no_ticket_or_phone_number_in_any_label(
        server: ServerThread, sessions: sessionmaker[Session]) -> None:
    base = server.url
    made = httpx.post(base + "/api/v1/tickets", json={"body": "小区门口路灯不亮已经一周了", "phone": PHONE}).json()
    number = made["number"]
    assert httpx.get(f"{base}/api/v1/tickets/{number}", params={"code": made["query_code"]}).status_code == 200
    httpx.get(f"{base}/tickets/{number}")  # a staff page: the login redirect, counted all the same
    httpx.get(f"{base}/no/such/{PHONE}")
    with sessions.begin() as session:  # a reply waiting in the outbox (SMS is off: nobody sends it)
        outbox.enqueue_reply(session, "+86" + PHONE, "您的工单已受理")
    for _ in range(3):
        assert httpx.get(base + "/healthz").status_code == 200

    first = scrape(base)
    assert set(FAMILIES) <= families(first), set(FAMILIES) - families(first)
    assert value(first, "hotline_http_requests_total", method="GET", route="/healthz", status="200") == 3
    assert value(first, "hotline_http_requests_total", method="POST", route="/api/v1/tickets", status="201") == 1
    assert value(first, "hotline_http_requests_total", method="GET", route="/api/v1/tickets/{number}",
                 status="200") == 1
    assert value(first, "hotline_http_requests_total", method="GET", route="/tickets/{number}", status="303") == 1
    assert value(first, "hotline_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert value(first, "hotline_http_request_duration_seconds_count", method="GET", route="/healthz") == 3
    labels = {v for samples in first.values() for key in samples for _, v in key}
    assert not any(number in label or PHONE in label for label in labels), labels

    assert value(first, "hotline_tickets_received_total") == 1
    assert value(first, "hotline_tickets_received_today") == 1
    assert sum(first["hotline_tickets_open"].values()) == 1
    assert value(first, "hotline_outbox_messages", status="pending") == 1
    assert value(first, "hotline_outbox_depth") == 1
    assert value(first, "hotline_ami_configured") == 0 and value(first, "hotline_ami_up") == 0
    assert value(first, "hotline_leader", role="scheduler") == 1
    assert value(first, "hotline_leader", role="pbx_bridge") == 0
    assert value(first, "hotline_leader", role="outbox_sender") == 0  # SMS off

    httpx.get(base + "/healthz")
    second = scrape(base)
    assert value(second, "hotline_http_requests_total", method="GET", route="/healthz", status="200") == 4
    assert value(second, "hotline_http_requests_total", method="GET", route="/metrics", status="200") >= 1


def test_the_ami_link_its_events_and_the_bridge_role_show_while_a_pbx_is_connected(
        database_url: str, sessions: sessionmaker[Session]) -> None:
    with SimulatorThread(speed=20) as pbx, \
            ServerThread(create_app(pbx.settings(Settings(database_url=database_url)))) as server:
        bridge = server.app.state.bridge
        deadline = time.monotonic() + 10
        while not bridge.connected:
            assert time.monotonic() < deadline, "the bridge did not log in"
            time.sleep(0.02)
        pbx.start_call("abandoned")
        while not recorded(sessions, "abandoned"):
            assert time.monotonic() < deadline + 20, "the abandoned call was not recorded"
            time.sleep(0.05)
        samples = scrape(server.url)
    assert value(samples, "hotline_ami_configured") == 1 and value(samples, "hotline_ami_up") == 1
    assert value(samples, "hotline_ami_events_total") >= 3
    assert value(samples, "hotline_ami_connections_total") == 1
    assert value(samples, "hotline_leader", role="pbx_bridge") == 1
    assert value(samples, "hotline_calls_offered_today") == 1
    assert value(samples, "hotline_calls_abandoned_today") == 1
    assert value(samples, "hotline_calls_answered_today") == 0


def recorded(sessions: sessionmaker[Session], outcome: str) -> bool:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Call).where(Call.outcome == outcome)) == 1


# -- who may read it ---------------------------------------------------------------------

def serve(database_url: str, **settings: object) -> ServerThread:
    """Headers untouched by uvicorn, as `hotline serve` runs it: the app alone judges X-Forwarded-For."""
    return ServerThread(create_app(dataclasses.replace(Settings(database_url=database_url), **settings)),
                        proxy_headers=False)


def from_address(address: str) -> httpx.Client:
    """A client whose connections leave from another loopback address."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=10)


def test_only_allowed_addresses_read_metrics(database_url: str, sessions: sessionmaker[Session]) -> None:
    allow = (ipaddress.ip_network("127.0.0.1/32"),)
    with serve(database_url, metrics_allow=allow) as server, \
            from_address("127.0.0.1") as allowed, from_address("127.0.0.2") as other:
        assert allowed.get(server.url + "/metrics").status_code == 200
        refused = other.get(server.url + "/metrics")
        assert refused.status_code == 403 and "hotline_" not in refused.text and "HOTLINE_METRICS_ALLOW" in refused.text
        assert other.get(server.url + "/healthz").status_code == 200  # health stays open to the balancer


def test_a_request_through_an_undeclared_proxy_is_refused_even_from_loopback(
        database_url: str, sessions: sessionmaker[Session]) -> None:
    with serve(database_url) as server:
        assert httpx.get(server.url + "/metrics").status_code == 200  # default: loopback
        proxied = httpx.get(server.url + "/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
        assert proxied.status_code == 403


def test_a_trusted_proxy_is_judged_by_the_client_it_forwards(database_url: str, sessions: sessionmaker[Session]) -> None:
    loopback = (ipaddress.ip_network("127.0.0.1/32"),)
    with serve(database_url, trusted_proxies=loopback, metrics_allow=(ipaddress.ip_network("10.1.0.0/16"),)) as server:
        assert httpx.get(server.url + "/metrics", headers={"X-Forwarded-For": "10.1.2.3"}).status_code == 200
        assert httpx.get(server.url + "/metrics", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 403


def test_the_token_opens_metrics_from_any_address(database_url: str, sessions: sessionmaker[Session]) -> None:
    with serve(database_url, metrics_allow=(), metrics_token=Secret("scrape-me-0123456789")) as server:
        assert httpx.get(server.url + "/metrics").status_code == 403  # no address is allowed
        wrong = httpx.get(server.url + "/metrics", headers={"Authorization": "Bearer guess"})
        assert wrong.status_code == 403
        samples = scrape(server.url, headers={"Authorization": "Bearer scrape-me-0123456789"})
        assert "hotline_http_requests" in families(samples)


def test_metrics_settings_are_read_from_the_environment() -> None:
    settings = Settings.from_env({"HOTLINE_METRICS_ALLOW": "10.0.0.0/8, ::1", "HOTLINE_METRICS_TOKEN": "t0ken"})
    assert settings.metrics_allow == (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1"))
    assert settings.metrics_token == "t0ken" and "t0ken" not in repr(settings)
    assert Settings.from_env({"HOTLINE_METRICS_ALLOW": "none"}).metrics_allow == ()
    assert ipaddress.ip_address("127.0.0.1") in Settings.from_env({}).metrics_allow[0]
    with pytest.raises(ValueError, match="HOTLINE_METRICS_ALLOW"):
        Settings.from_env({"HOTLINE_METRICS_ALLOW": "10.0.0.300"})


def test_with_sms_on_the_outbox_sender_role_is_held_and_a_sent_notification_leaves_the_depth(
        database_url: str, sessions: sessionmaker[Session]) -> None:
    account, token = "AC" + "3" * 32, "metrics-auth-token"
    twilio = TwilioThread()
    twilio.start(TwilioSimulator(account, token, url=twilio.url).app())
    settings = Settings(database_url=database_url, sms=SmsSettings(
        account_sid=account, auth_token=Secret(token), from_number="+12345550100",
        public_url="http://127.0.0.1", api_base=twilio.url))
    try:
        with ServerThread(create_app(settings)) as server:
            assert httpx.get(server.url + "/readyz").json()["checks"]["sms"] == {"ok": True, "state": "on"}
            made = httpx.post(server.url + "/api/v1/tickets", json={"body": "小区门口路灯不亮已经一周了", "phone": PHONE})
            assert made.status_code == 201
            deadline = time.monotonic() + 20
            while not sent(sessions):
                assert time.monotonic() < deadline, "the received notification was not sent"
                time.sleep(0.05)
            samples = scrape(server.url)
    finally:
        twilio.stop()
    assert value(samples, "hotline_leader", role="outbox_sender") == 1
    assert value(samples, "hotline_outbox_depth") == 0
    assert value(samples, "hotline_outbox_messages", status="failed") == 0


def sent(sessions: sessionmaker[Session]) -> bool:
    with sessions() as session:
        statuses = list(session.scalars(select(OutboxMessage.status)))
    return bool(statuses) and all(status == outbox.SUBMITTED for status in statuses)


def test_a_request_that_crashes_is_counted_as_500_under_its_route(database_url: str,
                                                                   sessions: sessionmaker[Session]) -> None:
    async def crash(_request: object) -> None:
        raise RuntimeError("a bug")

    app = create_app(Settings(database_url=database_url))
    app.router.routes.append(Route("/crash/{number}", crash))
    with ServerThread(app) as server:
        assert httpx.get(server.url + "/crash/20261203001").status_code == 500
        samples = scrape(server.url)
    assert value(samples, "hotline_http_requests_total", method="GET", route="/crash/{number}", status="500") == 1
