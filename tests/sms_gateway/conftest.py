"""The SMS loop on loopback: the hotline app and the Twilio stand-in, each a real uvicorn
server; webhooks signed by the real twilio library; sending through the real twilio Client."""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Callable, Iterator, TypeVar

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from twilio.request_validator import RequestValidator

from dispatch import outbox
from dispatch.models import OutboxMessage, Ticket
from sms_gateway.simulator import ServerThread, TwilioSimulator
from web.app import create_app
from web.config import Secret, Settings, SmsSettings
from web.sms import SmsChannel

ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "test-auth-token"
HOTLINE_NUMBER = "+12345550100"
CITIZEN = "+8613812345678"
T = TypeVar("T")
_sids = itertools.count(1)


def new_sid() -> str:
    return f"SM{next(_sids):032x}"


def eventually(check: Callable[[], T], timeout: float = 10.0) -> T:
    """Poll until `check` returns something truthy (work done by server threads)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout}s: {check}")
        time.sleep(0.02)


@pytest.fixture
def sim() -> Iterator[TwilioSimulator]:
    simulator = TwilioSimulator(ACCOUNT_SID, AUTH_TOKEN, callback_delay=0.01)
    server = ServerThread()
    simulator.url = server.url
    server.start(simulator.app())
    yield simulator
    server.stop()


@dataclass
class Hotline:
    url: str
    app: Starlette
    sim: TwilioSimulator
    client: httpx.Client

    @property
    def channel(self) -> SmsChannel:
        return self.app.state.sms

    def text(self, body: str, sender: str = CITIZEN, *, sid: str | None = None,
             token: str = AUTH_TOKEN, sign: bool = True, path: str = "/sms/twilio") -> httpx.Response:
        """A citizen's text as Twilio posts it."""
        form = {"MessageSid": sid or new_sid(), "AccountSid": ACCOUNT_SID, "From": sender,
                "To": HOTLINE_NUMBER, "Body": body, "NumMedia": "0", "NumSegments": "1"}
        return self.post(path, form, token=token, sign=sign)

    def post(self, path: str, form: dict[str, str], *, token: str = AUTH_TOKEN, sign: bool = True) -> httpx.Response:
        headers = {}
        if sign:
            headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(self.url + path, form)
        return self.client.post(path, data=form, headers=headers)


def sms_settings(database_url: str, public_url: str, api_base: str) -> Settings:
    return Settings(database_url=database_url,
                    sms=SmsSettings(account_sid=ACCOUNT_SID, auth_token=Secret(AUTH_TOKEN),
                                    from_number=HOTLINE_NUMBER, public_url=public_url, api_base=api_base))


@pytest.fixture
def hotline(database_url: str, sessions: sessionmaker[Session], sim: TwilioSimulator) -> Iterator[Hotline]:
    server = ServerThread()
    app = create_app(sms_settings(database_url, server.url, sim.url or ""))
    server.start(app)
    sim.hotline_webhook_url = server.url + "/sms/twilio"
    # Staff actions in these tests use the test's own sessions: they enqueue like the app's.
    outbox.install(sessions, on_commit=app.state.sms.worker.wake)
    with httpx.Client(base_url=server.url, timeout=10.0) as client:
        yield Hotline(url=server.url, app=app, sim=sim, client=client)
    server.stop()


# Readers end their transaction at once: on SQLite every transaction takes the write lock
# (BEGIN IMMEDIATE), and a test polling inside one would stall the servers it waits for.

def ticket_of(session: Session, phone: str = CITIZEN) -> Ticket:
    session.expire_all()
    ticket = session.scalars(select(Ticket).where(Ticket.phone == phone).order_by(Ticket.id.desc())).first()
    session.commit()
    return ticket


def outbox_rows(session: Session) -> list[OutboxMessage]:
    session.expire_all()
    rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    session.commit()
    return rows
