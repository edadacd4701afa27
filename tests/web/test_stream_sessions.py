"""A staff page's live stream holds only as long as its session: after a logout (from another
client, with the same session) or the account's deactivation it ends at the next keep-alive,
not when the stream's own time is up."""
from __future__ import annotations

import threading
import time

import httpx
from sqlalchemy import select

from dispatch import staff_admin
from dispatch.actors import Actor
from dispatch.models import StaffUser
from tests.web.pages_support import DEMO_PASSWORD, token_in
from tests.web.server import ServerThread
from web.app import create_app
from web.pages.streams import KEEPALIVE_SECONDS, STREAM_SECONDS
from web.services import Services


class Listener:
    """Reads a stream in a thread: when it said hello, and when it ended."""

    def __init__(self, client: httpx.Client, path: str) -> None:
        self.hello = threading.Event()
        self.ended_at: float | None = None
        self._thread = threading.Thread(target=self._listen, args=(client, path), daemon=True)
        self._thread.start()

    def _listen(self, client: httpx.Client, path: str) -> None:
        try:
            with client.stream("GET", path, timeout=STREAM_SECONDS + 10) as stream:
                for line in stream.iter_lines():
                    if line == "event: hello":
                        self.hello.set()
        except httpx.TransportError:   # the test closed its client first: the stream had not ended
            return
        self.ended_at = time.monotonic()

    def join(self, seconds: float) -> None:
        self._thread.join(seconds)


def _login(client: httpx.Client, username: str) -> None:
    page = client.get("/login").text
    response = client.post("/login", data={"csrf_token": token_in(page), "username": username,
                                           "password": DEMO_PASSWORD})
    assert response.status_code == 303, response.text


def test_a_stream_ends_within_a_keep_alive_of_a_logout_or_a_deactivation(services: Services) -> None:
    assert STREAM_SECONDS > 2 * KEEPALIVE_SECONDS   # else this would pass on the stream's own end
    with ServerThread(create_app(services.settings, services)) as server, \
            httpx.Client(base_url=server.url, timeout=30) as unit_page, \
            httpx.Client(base_url=server.url, timeout=30) as same_session, \
            httpx.Client(base_url=server.url, timeout=30) as operator_page:
        _login(unit_page, "ecology")
        _login(operator_page, "operator")
        console = operator_page.get("/operator").text
        assert operator_page.post("/operator/agent", data={"csrf_token": token_in(console),
                                                           "agent": "PJSIP/7001"}).status_code == 303
        notices = Listener(unit_page, "/unit/notices/events")
        pops = Listener(operator_page, "/operator/events")
        assert notices.hello.wait(10) and pops.hello.wait(10)

        # The inbox's session logged out from another client holding its cookie.
        same_session.cookies.update(unit_page.cookies)
        inbox = same_session.get("/unit").text
        assert same_session.post("/logout", data={"csrf_token": token_in(inbox)}).status_code == 303
        # The operator's account deactivated by an administrator.
        with services.sessions.begin() as session:
            operator_id = session.scalar(select(StaffUser.id).where(StaffUser.username == "operator"))
            staff_admin.set_active(session, Actor.system("test-admin"), operator_id, False)
        ended = time.monotonic()

        notices.join(KEEPALIVE_SECONDS + 5)
        pops.join(KEEPALIVE_SECONDS + 5)
        assert notices.ended_at is not None and notices.ended_at - ended < KEEPALIVE_SECONDS + 1.5
        assert pops.ended_at is not None and pops.ended_at - ended < KEEPALIVE_SECONDS + 1.5
        # And the pages' reconnect is refused.
        assert unit_page.get("/unit/notices/events", headers={"accept": "text/event-stream"}).status_code == 401
        assert operator_page.get("/operator/events", headers={"accept": "text/event-stream"}).status_code == 401


def test_a_stream_whose_session_holds_keeps_going_past_its_checks(services: Services) -> None:
    """The check leaves the session as it is: a live one keeps its stream to the stream's end."""
    with ServerThread(create_app(services.settings, services)) as server, \
            httpx.Client(base_url=server.url, timeout=30) as unit_page:
        _login(unit_page, "ecology")
        notices = Listener(unit_page, "/unit/notices/events")
        assert notices.hello.wait(10)
        notices.join(KEEPALIVE_SECONDS + 3)   # a check has passed
        assert notices.ended_at is None
        assert unit_page.get("/unit").status_code == 200
