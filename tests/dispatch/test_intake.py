"""One intake for every channel: validation, numbering, repeats and retries."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch import audit, lifecycle
from dispatch.actors import Actor
from dispatch.clock import CHINA
from dispatch.errors import InvalidInput, Reason
from dispatch.intake import IntakeRequest, IntakeRules, intake
from dispatch.models import IntakeSource, Ticket, TicketEvent
from dispatch.units import City
from dispatch.vocabulary import Channel, RequestType, Urgency
from tests.held import held

BODY = "济水大街路灯已经坏了一周，晚上很黑，请尽快维修。"


def request(**fields: object) -> IntakeRequest:
    values: dict[str, object] = {"channel": Channel.WEB, "body": BODY, "phone": "13803910001"}
    values.update(fields)
    return IntakeRequest(**values)  # type: ignore[arg-type]


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_web_request_becomes_a_numbered_ticket(session: Session, rules: IntakeRules) -> None:
    now = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc)
    result = intake(session, request(name="王五", location="济水大街", request_type=RequestType.HELP), rules, now=now)
    ticket = result.ticket
    assert result.created
    assert ticket.number == "20261123-0001"
    assert len(ticket.query_code) == 6 and ticket.query_code.isdigit()
    assert (ticket.state, ticket.channel, ticket.phone) == ("received", "web", "+8613803910001")
    assert ticket.title.startswith("济水大街路灯")
    assert ticket.deadline == rules.policy.deadline(now, RequestType.HELP, Urgency.NORMAL)
    event = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).one()
    assert (event.action, event.from_state, event.to_state, event.actor) == ("receive", None, "received", "citizen:web")


def test_numbers_follow_the_china_date_and_restart_each_day(session: Session, rules: IntakeRules) -> None:
    late_evening = dt.datetime(2026, 11, 23, 23, 30, tzinfo=CHINA)
    numbers = [intake(session, request(body=f"{BODY}{i}"), rules, now=late_evening).ticket.number for i in range(3)]
    next_day = intake(session, request(body="另一件事"), rules, now=late_evening + dt.timedelta(hours=1)).ticket.number
    assert numbers == ["20261123-0001", "20261123-0002", "20261123-0003"]
    assert next_day == "20261124-0001"


@pytest.mark.parametrize("fields, field", [
    ({"body": ""}, "body"),
    ({"body": " \n\t\u3000 "}, "body"),
    ({"body": "字" * 5001}, "body"),
    ({"phone": "12345"}, "phone"),
    ({"phone": "1380391000a"}, "phone"),
    ({"title": "题" * 201}, "title"),
    ({"channel": Channel.SMS, "phone": None}, "phone"),
])
def test_bad_input_is_refused_and_no_ticket_is_made(session: Session, rules: IntakeRules,
                                                    fields: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        intake(session, request(**fields), rules)
    assert caught.value.field == field
    assert count(session, Ticket) == 0


def test_control_characters_are_dropped_and_the_rest_kept_as_written(session: Session, rules: IntakeRules) -> None:
    ticket = intake(session, request(body="x\u0001\u000b\u001f路灯坏了\r\n\t已一周", title="\u0007路灯",
                                     name="王\u0008五", location="济水\u001b大街"), rules).ticket
    assert (ticket.body, ticket.title, ticket.name, ticket.location) == ("x路灯坏了\r\n\t已一周", "路灯", "王五", "济水大街")
    source = session.scalars(select(IntakeSource).where(IntakeSource.ticket_id == ticket.id)).one()
    assert source.body == ticket.body


def test_a_body_of_control_characters_alone_is_empty(session: Session, rules: IntakeRules) -> None:
    with pytest.raises(InvalidInput) as caught:
        intake(session, request(body="\u0001\u0002 \u001f"), rules)
    assert caught.value.reason is Reason.REQUIRED


def test_body_limit_is_configurable(session: Session) -> None:
    with pytest.raises(InvalidInput) as caught:
        intake(session, request(body="十一个字的诉求内容很长了"), IntakeRules(max_body_chars=10))
    assert caught.value.reason is Reason.TOO_LONG and caught.value.params["limit"] == 10


def test_the_same_contact_repeating_within_a_day_is_linked_not_filed_twice(
        session: Session, rules: IntakeRules) -> None:
    now = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc)
    first = intake(session, request(), rules, now=now).ticket
    # Same complaint by SMS hours later, written with other spacing and punctuation.
    again = intake(session, request(channel=Channel.SMS, phone="+86 138 0391 0001",
                                    body="济水大街路灯已经坏了一周 晚上很黑 请尽快维修!"),
                   rules, now=now + dt.timedelta(hours=5))
    assert not again.created and again.repeat_of_open_ticket
    assert again.ticket.id == first.id
    assert count(session, Ticket) == 1
    assert count(session, IntakeSource) == 2  # the repeat is kept, not lost
    actions = session.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == first.id)).all()
    assert actions == ["receive", "repeat_contact"]


def test_a_repeat_after_the_window_or_from_another_number_is_a_new_ticket(
        session: Session, rules: IntakeRules) -> None:
    now = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc)
    intake(session, request(), rules, now=now)
    assert intake(session, request(), rules, now=now + dt.timedelta(hours=25)).created
    assert intake(session, request(phone="13803910002"), rules, now=now + dt.timedelta(hours=26)).created


def test_a_repeat_of_a_finished_ticket_opens_a_new_one(session: Session, rules: IntakeRules, units: City,
                                                       operator: Actor) -> None:
    first = intake(session, request(), rules).ticket
    lifecycle.answer(session, first, operator, "已当场答复市民的咨询问题")
    assert intake(session, request(), rules).created


def test_a_retried_submission_returns_the_first_answer(session: Session, rules: IntakeRules) -> None:
    first = intake(session, request(channel=Channel.SMS, channel_ref="SM0001"), rules)
    retry = intake(session, request(channel=Channel.SMS, channel_ref="SM0001"), rules)
    assert first.created and retry.retried and not retry.created
    assert retry.ticket.number == first.ticket.number
    assert count(session, IntakeSource) == 1
    assert not first.repeat_of_open_ticket and not retry.repeat_of_open_ticket


def test_a_retried_repeat_is_answered_as_a_repeat_again(session: Session, rules: IntakeRules) -> None:
    """The first answer was "joined": a retry must not turn it into the ticket, whose number
    and code belong to whoever filed it."""
    intake(session, request(channel=Channel.WEB, channel_ref="form:a"), rules)
    joined = intake(session, request(channel=Channel.WEB, channel_ref="form:b"), rules)
    retry = intake(session, request(channel=Channel.WEB, channel_ref="form:b"), rules)
    assert joined.repeat_of_open_ticket and not joined.retried
    assert retry.retried and retry.repeat_of_open_ticket and not retry.created
    assert count(session, IntakeSource) == 2


def test_confidential_flag_and_chinese_type_labels_are_kept(session: Session, rules: IntakeRules) -> None:
    from dispatch.vocabulary import parse_request_type

    ticket = intake(session, request(confidential=True, request_type=parse_request_type("举报")), rules).ticket
    assert ticket.confidential and ticket.request_type == "report"


def test_repeats_sent_at_the_same_moment_are_each_kept_once(
        engine: Engine, sessions: sessionmaker[Session], rules: IntakeRules) -> None:
    with sessions.begin() as session:
        first = intake(session, request(channel_ref="form:first"), rules).ticket.id
    repeats = 4
    outcomes: list[object] = []

    def send(n: int) -> None:
        try:
            with sessions.begin() as session:
                result = intake(session, request(channel_ref=f"form:{n}"), rules)
                outcomes.append((result.ticket.id, result.repeat_of_open_ticket))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes.append(exc)

    # Hold each repeat after it found the open ticket, until all have: they then write to it
    # together. On SQLite the first holds the write lock and the rest follow one by one.
    with held(engine, lambda statement: "tickets.phone =" in statement and "tickets.received_at >=" in statement,
              repeats) as all_found:
        threads = [threading.Thread(target=send, args=(n,)) for n in range(repeats)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    if engine.dialect.name == "postgresql":
        assert not all_found.broken, "the repeats did not overlap"
    assert outcomes == [(first, True)] * repeats
    with sessions() as session:
        refs = session.scalars(select(IntakeSource.channel_ref).where(IntakeSource.ticket_id == first)).all()
        assert sorted(refs) == [*(f"form:{n}" for n in range(repeats)), "form:first"]
        assert audit.verify(session)[1] == []
