"""Deadlines chased by the clock: warned before, told when overdue, escalated after, each
exactly once however often the jobs run; the unit's duty phone gets its texts once."""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch import actions, chasing, co_handling, forwarding, lifecycle, models, notices
from dispatch.actions import ActionContext
from dispatch.actors import Actor
from dispatch.models import Notice, OutboxMessage, Ticket, TicketEvent, Unit
from dispatch.parts import OPEN_OUTCOMES, PART_ROLES
from dispatch.states import UNIT_STATES
from dispatch.units import City, import_units, load_city, unit_by_code
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket
from tests.statements import statements_sent

RECEIVED = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.timezone.utc)  # a Monday morning, China time
DUTY_PHONE = "+8613800000001"
POLICY = chasing.ChasePolicy()


def _ticket_with_unit(session: Session, operator: Actor, code: str = "housing") -> tuple[Ticket, Unit]:
    unit = unit_by_code(session, code)
    unit.duty_phone = DUTY_PHONE
    ticket = new_ticket(session, now=RECEIVED)
    lifecycle.transfer(session, ticket, unit, operator, now=RECEIVED)
    lifecycle.accept(session, ticket, unit_staff(session, code), now=RECEIVED + dt.timedelta(hours=1))
    session.commit()
    assert ticket.deadline is not None
    return ticket, unit


def _notices(session: Session, ticket: Ticket | None = None) -> list[tuple[str, str]]:
    statement = select(Notice.kind, Notice.key).order_by(Notice.id)
    if ticket is not None:
        statement = statement.where(Notice.ticket_id == ticket.id)
    return [(kind, key) for kind, key in session.execute(statement)]


def _events(session: Session, ticket: Ticket, action: str) -> list[TicketEvent]:
    return list(session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                          TicketEvent.action == action)))


def _texts(session: Session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == DUTY_PHONE)
                                .order_by(OutboxMessage.id)))


def _run_twice(session: Session, now: dt.datetime) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    first = chasing.chase(session, now, POLICY)
    session.commit()
    second = chasing.chase(session, now, POLICY)
    session.commit()
    return first, second


def test_a_ticket_is_warned_then_overdue_then_escalated_each_once(session: Session, units: City,
                                                                   operator: Actor) -> None:
    ticket, unit = _ticket_with_unit(session, operator)
    deadline = ticket.deadline
    assert deadline is not None

    # Two days before the deadline: nothing yet.
    assert _run_twice(session, deadline - dt.timedelta(hours=48))[0] == \
        {"near_due": [], "overdue": [], "escalated": [], "digests": []}
    assert _notices(session) == []

    # Twelve hours before (before 08:00 China time: no digest yet): one warning.
    first, second = _run_twice(session, deadline - dt.timedelta(hours=23, minutes=30))
    assert first["near_due"] == [ticket.number] and second["near_due"] == []
    assert [kind for kind, _ in _notices(session, ticket)] == ["near_due"]
    assert _texts(session) == []  # a near-due ticket is texted in the digest, not one by one

    # Just past the deadline: overdue, once, with an event on the timeline and a text.
    first, second = _run_twice(session, deadline + dt.timedelta(minutes=5))
    assert first["overdue"] == [ticket.number] and second["overdue"] == []
    assert first["escalated"] == [] and second["escalated"] == []
    assert len(_events(session, ticket, "overdue")) == 1
    assert [m.kind for m in _texts(session)] == ["unit_overdue"]
    assert lifecycle.is_overdue(ticket, deadline + dt.timedelta(minutes=5))

    # Two working days later: the first 督办, by the system, in the audit log.
    step_one = POLICY.calendar.add_working_days(deadline, 2) + dt.timedelta(minutes=1)
    assert chasing.escalation_step(deadline, step_one - dt.timedelta(minutes=2), POLICY) == 0
    first, second = _run_twice(session, step_one)
    assert first["escalated"] == [ticket.number] and second["escalated"] == []
    escalations = _events(session, ticket, "escalate")
    assert len(escalations) == 1 and escalations[0].actor == chasing.CHASER.label
    assert "超期未办结已满2个工作日" in (escalations[0].note or "")   # how long, not a count of 督办

    # Two more working days: the second step, once.
    step_two = POLICY.calendar.add_working_days(deadline, 4) + dt.timedelta(minutes=1)
    first, second = _run_twice(session, step_two)
    assert first["escalated"] == [ticket.number] and second["escalated"] == []
    assert len(_events(session, ticket, "escalate")) == 2
    assert "已满4个工作日" in (_events(session, ticket, "escalate")[1].note or "")
    assert [kind for kind, _ in _notices(session, ticket)] == ["near_due", "overdue", "escalation", "escalation"]
    assert [m.kind for m in _texts(session)] == ["unit_overdue", "unit_escalation", "unit_escalation"]
    assert all(m.recipient == unit.duty_phone and m.status == "pending" for m in _texts(session))


def _texts_to(session: Session, phone: str) -> list[str]:
    return list(session.scalars(select(OutboxMessage.kind).where(OutboxMessage.recipient == phone)
                                .order_by(OutboxMessage.id)))


def _told(session: Session, unit: Unit, ticket: Ticket) -> list[str]:
    return list(session.scalars(select(Notice.kind).where(Notice.unit_id == unit.id, Notice.ticket_id == ticket.id)
                                .order_by(Notice.id)))


def test_co_handling_units_and_sub_units_are_chased_beside_the_lead(session: Session, units: City,
                                                                    operator: Actor) -> None:
    ticket, lead = _ticket_with_unit(session, operator)
    co_unit, sub_unit, done_unit = (unit_by_code(session, c) for c in ("transport", "gas", "urban-management"))
    co_unit.duty_phone, sub_unit.duty_phone = "+8613800000011", "+8613800000012"
    co_handling.add_co_units(session, ticket, [co_unit, done_unit], operator, now=RECEIVED)
    forwarding.forward(session, ticket, unit_staff(session, "housing"), sub_unit, now=RECEIVED + dt.timedelta(hours=2))
    # A co-handling unit that has given its part reply is not chased.
    co_handling.accept_part(session, ticket, unit_staff(session, "urban-management"),
                            now=RECEIVED + dt.timedelta(hours=3))
    co_handling.reply_part(session, ticket, unit_staff(session, "urban-management"), "已配合处理。",
                           now=RECEIVED + dt.timedelta(hours=3))
    session.commit()
    deadline = ticket.deadline
    assert deadline is not None
    expected = {lead: ["part"], co_unit: ["co_handling"], sub_unit: ["forwarded"], done_unit: ["co_handling"]}

    first, second = _run_twice(session, deadline - dt.timedelta(hours=23, minutes=30))
    assert first["near_due"] == [ticket.number, f"{ticket.number}/transport", f"{ticket.number}/gas"]
    assert second["near_due"] == []
    for unit in (lead, co_unit, sub_unit):
        expected[unit].append("near_due")
    assert {u: _told(session, u, ticket) for u in expected} == expected
    warned = session.scalar(select(Notice.text).where(Notice.unit_id == co_unit.id, Notice.kind == "near_due"))
    assert warned is not None and f"{ticket.number}（协办）" in warned

    # The morning's digest lists the part for its unit too, once.
    morning = deadline - dt.timedelta(hours=15)
    first, second = _run_twice(session, morning)
    assert sorted(first["digests"]) == sorted([lead.code, co_unit.code, sub_unit.code]) and second["digests"] == []
    digests = session.execute(select(Notice.unit_id, Notice.text).where(Notice.kind == "digest")).all()
    assert sorted(unit_id for unit_id, _ in digests) == sorted([lead.id, co_unit.id, sub_unit.id])
    assert all(ticket.number not in text and "1件已逐件预警" in text for _, text in digests)   # warned at 00:30

    first, second = _run_twice(session, deadline + dt.timedelta(minutes=5))
    assert first["overdue"] == [ticket.number, f"{ticket.number}/transport", f"{ticket.number}/gas"]
    assert second["overdue"] == []
    for unit in (lead, co_unit, sub_unit):
        expected[unit].append("overdue")
    # The lead stays accountable: one `overdue` event on the ticket, the lead's.
    assert [e.unit_id for e in _events(session, ticket, "overdue")] == [lead.id]

    step_one = POLICY.calendar.add_working_days(deadline, 2) + dt.timedelta(minutes=1)
    first, second = _run_twice(session, step_one)
    assert first["escalated"] == [ticket.number, f"{ticket.number}/transport", f"{ticket.number}/gas"]
    assert second["escalated"] == []
    for unit in (lead, co_unit, sub_unit):
        expected[unit].append("escalation")
    assert {u: _told(session, u, ticket) for u in expected} == expected
    assert len(_events(session, ticket, "escalate")) == 1
    for unit in (co_unit, sub_unit):
        assert _texts_to(session, unit.duty_phone) == ["unit_digest", "unit_overdue", "unit_escalation"]

    # Once the sub-unit replies it is no longer chased; the co-handling unit still is.
    co_handling.accept_part(session, ticket, unit_staff(session, "gas"), now=step_one)
    co_handling.reply_part(session, ticket, unit_staff(session, "gas"), "已修复。", now=step_one + dt.timedelta(hours=1))
    session.commit()
    step_two = POLICY.calendar.add_working_days(deadline, 4) + dt.timedelta(minutes=1)
    first, _ = _run_twice(session, step_two)
    assert first["escalated"] == [ticket.number, f"{ticket.number}/transport"]


def test_an_extended_deadline_is_warned_again(session: Session, units: City, operator: Actor,
                                              supervisor: Actor) -> None:
    ticket, _ = _ticket_with_unit(session, operator)
    old = ticket.deadline
    assert old is not None
    chasing.chase(session, old - dt.timedelta(hours=23, minutes=30), POLICY)
    ticket.deadline = POLICY.calendar.add_working_days(old, 3)  # as an approved extension does
    session.commit()
    new = ticket.deadline
    assert chasing.warn_near_due(session, new - dt.timedelta(hours=23, minutes=30), POLICY) == [ticket.number]
    assert len(_notices(session, ticket)) == 2


def test_finished_tickets_are_not_chased(session: Session, units: City, operator: Actor) -> None:
    ticket, _ = _ticket_with_unit(session, operator)
    lifecycle.resolve(session, ticket, unit_staff(session, "housing"), "已修好，经现场核实问题已解决。", now=RECEIVED + dt.timedelta(days=1))
    session.commit()
    assert ticket.deadline is not None
    assert chasing.chase(session, ticket.deadline + dt.timedelta(days=30), POLICY) == \
        {"near_due": [], "overdue": [], "escalated": [], "digests": []}


def test_the_daily_digest_goes_once_per_unit_per_day(session: Session, units: City, operator: Actor) -> None:
    first_ticket, unit = _ticket_with_unit(session, operator)
    second_ticket, _ = _ticket_with_unit(session, operator)
    deadline = first_ticket.deadline
    assert deadline is not None and second_ticket.deadline == deadline
    # The deadline is the end of a China day; 09:00 China time that day is 15 hours before it.
    morning = deadline - dt.timedelta(hours=15)
    first, second = _run_twice(session, morning)
    assert first["digests"] == [unit.code] and second["digests"] == []
    assert chasing.send_digests(session, morning + dt.timedelta(hours=6), POLICY) == []
    digests = session.scalars(select(Notice).where(Notice.kind == "digest")).all()
    # Both were warned one by one in the same pass: counted, not named again.
    assert len(digests) == 1 and "2件" in digests[0].text and first_ticket.number not in digests[0].text
    assert "2件已逐件预警" in digests[0].text
    assert [m.kind for m in _texts(session)] == ["unit_digest"]


def test_a_supervisors_escalation_notifies_the_unit(session: Session, units: City, operator: Actor,
                                                    supervisor: Actor) -> None:
    ticket, unit = _ticket_with_unit(session, operator)
    actions.perform(session, supervisor, ticket.number, "escalate", {"note": "请今天内联系市民。"},
                    ActionContext(city=units))
    session.commit()
    found = session.scalars(select(Notice).where(Notice.unit_id == unit.id)).all()
    assert [(n.kind, n.ticket_id) for n in found] == [("escalation", ticket.id)]
    assert "请今天内联系市民" in found[0].text
    assert [m.kind for m in _texts(session)] == ["unit_escalation"]


def unread(session: Session, unit_id: int) -> int:
    return notices.latest(session, unit_id).unread.value


def test_a_unit_reads_only_its_own_notices(session: Session, units: City, operator: Actor) -> None:
    housing_ticket, housing = _ticket_with_unit(session, operator, "housing")
    other_ticket, other = _ticket_with_unit(session, operator, "ecology-environment")
    assert housing_ticket.deadline is not None
    chasing.chase(session, housing_ticket.deadline + dt.timedelta(minutes=5), POLICY)
    session.commit()
    assert unread(session, housing.id) == 1 and unread(session, other.id) == 1
    theirs = notices.listed(session, unit_id=other.id).items[0].id
    assert notices.mark_read(session, housing.id, [theirs]) == 0
    assert notices.mark_read(session, housing.id) == 1
    session.commit()
    assert unread(session, housing.id) == 0 and unread(session, other.id) == 1
    assert notices.listed(session, unit_id=None).total == 2


def test_the_city_file_sets_a_units_duty_phone(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "city.json"
    path.write_text(json.dumps({"city": {"code": "t", "name": "测试市"},
                                "units": [{"code": "water", "name": "水务局", "duty_phone": "0391 6612345"},
                                          {"code": "roads", "name": "交通局"}]}), encoding="utf-8")
    import_units(session, load_city(path))
    assert unit_by_code(session, "water").duty_phone == "+863916612345"
    assert unit_by_code(session, "roads").duty_phone is None


def test_a_bad_duty_phone_is_refused_when_the_city_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "city.json"
    path.write_text(json.dumps({"city": {"code": "t", "name": "测试市"},
                                "units": [{"code": "water", "name": "水务局", "duty_phone": "12"}]}), encoding="utf-8")
    with pytest.raises(Exception, match="phone"):
        load_city(path)


def test_notices_are_unique_per_unit_and_key(session: Session, units: City, operator: Actor) -> None:
    ticket, unit = _ticket_with_unit(session, operator)
    assert notices.tell(session, unit, notices.NoticeKind.OVERDUE, "k", "一", ticket=ticket) is not None
    assert notices.tell(session, unit, notices.NoticeKind.OVERDUE, "k", "二", ticket=ticket) is None
    session.commit()
    assert session.scalar(select(func.count(Notice.id))) == 1


def test_a_pass_over_tickets_already_warned_asks_once_not_per_ticket(session: Session, units: City,
                                                                      operator: Actor) -> None:
    tickets = [_ticket_with_unit(session, operator, code)[0] for code in ("housing", "housing", "transport", "gas")]
    deadline = min(t.deadline for t in tickets if t.deadline is not None)
    when = deadline - dt.timedelta(minutes=30)   # all four are due the same day
    assert sorted(chasing.warn_near_due(session, when, POLICY)) == sorted(t.number for t in tickets)
    session.commit()
    with statements_sent(session.connection()) as statements:
        assert chasing.warn_near_due(session, when + dt.timedelta(minutes=1), POLICY) == []
    # The near-due tickets, their owing parts, and which were told: not one check per ticket.
    assert len(statements) == 3, statements
    assert len(_notices(session)) == 4


def test_a_pass_over_tickets_already_overdue_and_escalated_asks_once_not_per_ticket(
        session: Session, units: City, operator: Actor) -> None:
    tickets = [_ticket_with_unit(session, operator, code)[0] for code in ("housing", "housing", "transport", "gas")]
    deadline = max(t.deadline for t in tickets if t.deadline is not None)
    step_one = POLICY.calendar.add_working_days(deadline, POLICY.escalate_every_working_days)
    when = step_one + dt.timedelta(minutes=5)   # all four overdue, and at their first step
    assert sorted(chasing.mark_overdue(session, when, POLICY)) == sorted(t.number for t in tickets)
    assert chasing.escalate_overdue(session, when, POLICY) == []   # the 超期 notice said the 督办
    session.commit()
    with statements_sent(session.connection()) as statements:
        assert chasing.mark_overdue(session, when + dt.timedelta(minutes=1), POLICY) == []
        assert chasing.escalate_overdue(session, when + dt.timedelta(minutes=1), POLICY) == []
    # Each: the overdue tickets, their owing parts, and which were told (for leads and for
    # parts, when there are any): not a check and a savepoint per ticket.
    assert len(statements) <= 6, statements
    assert len(_events(session, tickets[0], "overdue")) == 1 and len(_events(session, tickets[0], "escalate")) == 1


def test_a_pass_after_the_digests_went_reads_no_ticket(session: Session, units: City, operator: Actor) -> None:
    tickets = [_ticket_with_unit(session, operator, code)[0] for code in ("housing", "housing", "transport")]
    deadline = min(t.deadline for t in tickets if t.deadline is not None)
    morning = deadline - dt.timedelta(hours=15)
    assert morning.astimezone(chasing.CHINA).hour >= POLICY.digest_hour
    assert sorted(chasing.send_digests(session, morning, POLICY)) == ["housing", "transport"]
    session.commit()
    with statements_sent(session.connection()) as statements:
        assert chasing.send_digests(session, morning + dt.timedelta(minutes=10), POLICY) == []
    # The near-due keys (leads, parts) and which units were told today: no ticket read in
    # full, no overdue count, no check per unit.
    assert len(statements) == 3, statements
    assert len(session.scalars(select(Notice).where(Notice.kind == "digest")).all()) == 2


def test_the_digest_counts_the_units_overdue_tickets(session: Session, units: City, operator: Actor) -> None:
    late, unit = _ticket_with_unit(session, operator)
    soon = new_ticket(session, now=RECEIVED + dt.timedelta(days=7))
    lifecycle.transfer(session, soon, unit, operator, now=RECEIVED + dt.timedelta(days=7))
    other = new_ticket(session, now=RECEIVED + dt.timedelta(days=7))
    lifecycle.transfer(session, other, unit_by_code(session, "transport"), operator, now=RECEIVED + dt.timedelta(days=7))
    session.commit()
    assert soon.deadline is not None and late.deadline is not None
    when = soon.deadline - dt.timedelta(hours=1)
    assert late.deadline < when and when.astimezone(chasing.CHINA).hour >= POLICY.digest_hour
    assert sorted(chasing.send_digests(session, when, POLICY)) == ["housing", "transport"]
    texts = dict(session.execute(select(Notice.unit_id, Notice.text).where(Notice.kind == "digest")).all())
    assert "另有1件已超期" in texts[unit.id] and soon.number in texts[unit.id]
    assert "已超期" not in texts[unit_by_code(session, "transport").id]


def test_the_escalation_step_depends_on_the_deadlines_china_day_alone() -> None:
    # A pass works out each deadline day's step once; deadlines at any hour of the same China
    # day (here 00:00 and 23:59, which fall on two UTC dates) must then get the same step.
    for month_day in (2, 9, 30):
        early = dt.datetime(2026, 9, month_day, 0, 0, tzinfo=chasing.CHINA)
        late = dt.datetime(2026, 9, month_day, 23, 59, tzinfo=chasing.CHINA)
        for hours in range(0, 24 * 40, 7):
            now = late + dt.timedelta(hours=hours)
            assert (chasing.escalation_step(early, now, POLICY) == chasing.escalation_step(late, now, POLICY)), now
    assert chasing.escalation_step(early, early + dt.timedelta(days=40), POLICY) > 5


def test_the_partial_indexes_of_the_chasing_passes_hold_what_the_passes_ask_for() -> None:
    def quoted(sql: str, column: str) -> set[str]:
        inside = re.search(rf"{column} IN \(([^)]*)\)", sql)
        assert inside is not None, sql
        return set(re.findall(r"'([^']*)'", inside.group(1)))

    assert quoted(models.UNIT_HELD, "state") == {s.value for s in UNIT_STATES}
    assert quoted(models.OWED_PART, "role") == set(PART_ROLES)
    assert quoted(models.OWED_PART, "outcome") == set(OPEN_OUTCOMES)


def test_a_ticket_first_found_overdue_at_a_step_hears_one_notice_that_says_both(
        session: Session, units: City, operator: Actor) -> None:
    ticket, unit = _ticket_with_unit(session, operator)
    assert ticket.deadline is not None
    # The scheduler was down from before the deadline until past the first 督办 step.
    step_one = POLICY.calendar.add_working_days(ticket.deadline, 2) + dt.timedelta(minutes=1)
    first, second = _run_twice(session, step_one)
    assert first["overdue"] == [ticket.number] and first["escalated"] == [] and second == \
        {"near_due": [], "overdue": [], "escalated": [], "digests": []}
    told = session.scalars(select(Notice).where(Notice.ticket_id == ticket.id)).all()
    assert [n.kind for n in told] == ["escalation"]
    assert "督办" in told[0].text and "超期未办结已满2个工作日" in told[0].text
    assert [m.kind for m in _texts(session)] == ["unit_escalation"]
    # The timeline still has both: the ticket was found overdue, then escalated.
    assert len(_events(session, ticket, "overdue")) == 1 and len(_events(session, ticket, "escalate")) == 1

    # The next step is told as usual, once.
    step_two = POLICY.calendar.add_working_days(ticket.deadline, 4) + dt.timedelta(minutes=1)
    first, second = _run_twice(session, step_two)
    assert first["escalated"] == [ticket.number] and second["escalated"] == []
    assert [kind for kind, _ in _notices(session, ticket)] == ["escalation", "escalation"]
    assert len(_events(session, ticket, "overdue")) == 1 and len(_events(session, ticket, "escalate")) == 2


def test_the_digest_names_only_tickets_not_warned_of_today(session: Session, units: City, operator: Actor) -> None:
    warned_yesterday, unit = _ticket_with_unit(session, operator)
    assert warned_yesterday.deadline is not None
    # Warned the evening before (China time), then a second ticket comes due the same day.
    assert chasing.warn_near_due(session, warned_yesterday.deadline - dt.timedelta(hours=24), POLICY)
    session.commit()
    warned_today = new_ticket(session, now=RECEIVED)
    lifecycle.transfer(session, warned_today, unit, operator, now=RECEIVED)
    warned_today.deadline = warned_yesterday.deadline
    session.commit()
    morning = warned_yesterday.deadline - dt.timedelta(hours=15)
    assert chasing.chase(session, morning, POLICY)["digests"] == [unit.code]
    digest = session.scalars(select(Notice).where(Notice.kind == "digest")).one()
    assert "2件" in digest.text and warned_yesterday.number in digest.text
    assert warned_today.number not in digest.text and "1件已逐件预警" in digest.text


def test_a_notice_writes_the_year_of_a_deadline_in_another_year() -> None:
    now = dt.datetime(2026, 12, 30, 2, tzinfo=dt.timezone.utc)
    assert notices.local_time(dt.datetime(2026, 12, 31, 15, 59, tzinfo=dt.timezone.utc), now) == "12月31日23:59"
    # 16:00 UTC on 31 December is already 1 January in China.
    assert notices.local_time(dt.datetime(2026, 12, 31, 16, 0, tzinfo=dt.timezone.utc), now) == "2027年01月01日00:00"
    assert notices.local_time(dt.datetime(2027, 3, 3, 9, tzinfo=dt.timezone.utc), now) == "2027年03月03日17:00"
