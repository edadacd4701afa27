"""Twilio delivering one message twice at the same moment (a retry while the first attempt is
still running): one ticket, and both deliveries get the same reply."""
from __future__ import annotations

import threading
from typing import Callable, TypeVar

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from dispatch.intake import IntakeRules
from dispatch.models import IntakeSource, SmsInbound, Ticket
from dispatch.notifications import Throttle
from sms_gateway import conversation
from sms_gateway.webhook import InboundSms

T = TypeVar("T")


def test_two_simultaneous_deliveries_of_one_message_make_one_ticket_and_the_same_reply(
        engine: Engine, sessions: sessionmaker[Session], rules: IntakeRules) -> None:
    sms = InboundSms(message_sid="SM" + "7" * 32, sender="+8613812345678", to="+12345550100",
                     body="济水大街路灯坏了一周，晚上很黑。")
    # Hold each delivery's first look-up of the MessageSid until the other one has made it
    # too, so that both find the message new. On SQLite the first transaction holds the
    # write lock (BEGIN IMMEDIATE) and the second cannot get that far: the wait times out
    # and the deliveries run one after the other.
    both_looked = threading.Barrier(2)
    waited = threading.local()

    def hold_after_lookup(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if "FROM sms_inbound" in statement and "message_sid" in statement and not getattr(waited, "done", False):
            waited.done = True
            try:
                both_looked.wait(timeout=2)
            except threading.BrokenBarrierError:
                pass

    def run(work: Callable[[Session], T]) -> T:
        with sessions.begin() as session:
            return work(session)

    replies: list[str | None] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            replies.append(conversation.answer_once(run, sms, rules, Throttle()))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    event.listen(engine, "after_cursor_execute", hold_after_lookup)
    try:
        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        event.remove(engine, "after_cursor_execute", hold_after_lookup)

    if engine.dialect.name == "postgresql":
        assert not both_looked.broken, "the two deliveries did not overlap"
    assert errors == []
    assert len(replies) == 2 and replies[0] == replies[1] and "已受理" in (replies[0] or "")
    with sessions() as session:
        counts = [session.scalar(select(func.count()).select_from(model)) for model in (Ticket, IntakeSource,
                                                                                         SmsInbound)]
    assert counts == [1, 1, 1]
