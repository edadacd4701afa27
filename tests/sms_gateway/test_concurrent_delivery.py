"""Texts arriving at the same moment: Twilio delivering one message twice (a retry while the
first attempt is still running) makes one ticket and both deliveries get the same reply;
two texts from one number racing for its ticket are each answered and logged."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from dispatch import audit
from dispatch.actors import Actor
from dispatch.intake import IntakeRules
from dispatch.models import IntakeSource, SmsInbound, Ticket, TicketEvent
from dispatch.notifications import Throttle
from dispatch.units import City
from sms_gateway import conversation
from sms_gateway.webhook import InboundSms
from tests.held import held
from tests.sms_gateway.conftest import Hotline, new_sid, ticket_of
from tests.sms_gateway.test_notifications_loop import transfer_and_resolve

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


def test_ratings_texted_together_are_each_answered_and_logged_once(
        hotline: Hotline, session: Session, units: City, operator: Actor) -> None:
    hotline.text("小区门口垃圾三天没人清运，气味很大。")
    transfer_and_resolve(session, operator)
    engine = hotline.app.state.services.engine
    texts = 4
    # Hold each text after it found the ticket waiting for its rating, until all have:
    # each then rates a ticket another one has just rated. On SQLite the first holds the
    # write lock, the wait times out and the texts run one after the other.
    sids = [new_sid() for _ in range(texts)]
    with held(engine, lambda statement: "ORDER BY tickets.resolved_at DESC" in statement, texts) as all_found:
        with ThreadPoolExecutor(texts) as pool:
            answers = list(pool.map(lambda sid: hotline.text("1", sid=sid), sids))

    if engine.dialect.name == "postgresql":
        assert not all_found.broken, "the texts did not overlap"
    assert [a.status_code for a in answers] == [200] * texts
    assert all(a.headers["content-type"].startswith("application/xml") for a in answers)
    replies = sorted(a.text for a in answers)
    assert sum("感谢您的评价（满意）" in r for r in replies) == 1
    assert sum("没有待评价的工单" in r for r in replies) == texts - 1
    ticket = ticket_of(session)
    assert ticket.state == "closed" and ticket.rating == "satisfied"
    logged = session.scalars(select(SmsInbound.message_sid).where(SmsInbound.message_sid.in_(sids))).all()
    session.commit()
    assert sorted(logged) == sorted(sids)


def test_additions_texted_together_are_each_added_once_and_answered(
        hotline: Hotline, session: Session) -> None:
    first = hotline.text("小区门口垃圾三天没人清运，气味很大。")
    ticket = ticket_of(session)
    assert ticket.number in first.text
    engine = hotline.app.state.services.engine
    texts = 8
    sids = [new_sid() for _ in range(texts)]
    bodies = {sid: f"补充：第{n}条，垃圾堆在{n}号楼东侧。" for n, sid in enumerate(sids, 1)}
    # Hold each text after it looked its MessageSid up, until all have: they then go for
    # the ticket together. On SQLite the first holds the write lock, the wait times out and
    # the texts run one after the other.
    with held(engine, lambda statement: "FROM sms_inbound" in statement and "message_sid" in statement,
              texts) as all_looked:
        with ThreadPoolExecutor(texts) as pool:
            answers = list(pool.map(lambda sid: hotline.text(bodies[sid], sid=sid), sids))

    if engine.dialect.name == "postgresql":
        assert not all_looked.broken, "the texts did not overlap"
    assert [a.status_code for a in answers] == [200] * texts, [a.text[:200] for a in answers]
    assert all(f"已将您的补充内容加入工单{ticket.number}" in a.text for a in answers)
    added = session.execute(select(IntakeSource.channel_ref, IntakeSource.body)
                            .where(IntakeSource.ticket_id == ticket.id, IntakeSource.channel_ref.in_(sids))).all()
    assert sorted(ref for ref, _ in added) == sorted(sids)
    assert all(f"第{sids.index(ref) + 1}条" in body for ref, body in added)
    events = session.scalars(select(TicketEvent.data).where(TicketEvent.ticket_id == ticket.id,
                                                           TicketEvent.action == "addition")).all()
    assert sorted(e["channel_ref"] for e in events) == sorted(sids)
    logged = session.scalars(select(SmsInbound.message_sid).where(SmsInbound.message_sid.in_(sids))).all()
    assert sorted(logged) == sorted(sids)
    assert audit.verify(session)[1] == []
    session.commit()
