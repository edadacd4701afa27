"""Two apps on one PostgreSQL, one of them holding the outbox sender's role: a text enqueued
by the other is sent at once, woken through the relay after the enqueue's commit, not at
the sender's next poll (every 5 s)."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine

from dispatch import outbox
from sms_gateway.simulator import ServerThread, TwilioSimulator
from tests.sms_gateway.conftest import CITIZEN, eventually, sms_settings
from web.app import create_app
from web.leadership import OUTBOX_SENDER

# Well under the 5 s poll; three texts enqueued over more than 2 s cannot all fall within
# this of a poll, so without the wake the test fails.
AT_ONCE = 1.0


def test_a_text_enqueued_on_the_other_process_is_sent_at_once(
        engine: Engine, database_url: str, sim: TwilioSimulator) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("several processes need PostgreSQL; with SQLite the one process wakes its own sender")
    threads = [ServerThread(), ServerThread()]
    apps = [create_app(sms_settings(database_url, thread.url, sim.url or "")) for thread in threads]
    started = []
    try:
        for thread, app in zip(threads, apps):
            started.append(thread.start(app))
        sender = eventually(lambda: [a for a in apps if a.state.leadership.held.get(OUTBOX_SENDER)])
        assert len(sender) == 1
        other = next(a for a in apps if a is not sender[0])
        assert not other.state.leadership.held.get(OUTBOX_SENDER)
        waits = []
        for n in range(3):
            body = f"测试短信{n}"
            other.state.services.run_sync(lambda s: outbox.enqueue_reply(s, CITIZEN, body))
            enqueued = time.monotonic()
            eventually(lambda: any(m.body.endswith(body) for m in sim.sent_to(CITIZEN)), timeout=6.0)
            waits.append(time.monotonic() - enqueued)
            time.sleep(0.3)
    finally:
        for thread in started:
            thread.stop()
    assert max(waits) < AT_ONCE, waits
