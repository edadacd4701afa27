"""The unit inbox a page at a time: the open states and the parts the unit owes merged in
deadline order, counts that stop at their limit, the recently resolved and the notices."""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from dispatch import co_handling, forwarding, lifecycle, notices, unit_inbox
from dispatch.actors import Actor
from dispatch.clock import utcnow
from dispatch.intake import IntakeRules
from dispatch.models import Ticket
from dispatch.vocabulary import Role
from dispatch.paging import Bounded
from dispatch.units import City, unit_by_code
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket
from tests.statements import statements_sent


def test_a_page_of_the_inbox_merges_the_open_states_by_deadline(
        session: Session, units: City, rules: IntakeRules, operator: Actor) -> None:
    housing = unit_by_code(session, "housing")
    staff = unit_staff(session, "housing")
    now = utcnow()
    tickets = [new_ticket(session, rules, now=now - dt.timedelta(hours=10 - i)) for i in range(6)]
    for i, ticket in enumerate(tickets):
        lifecycle.transfer(session, ticket, housing, operator)
        ticket.deadline = now + dt.timedelta(days=[5, 1, 4, 2, 6, 3][i])
        if i % 2:   # every other one accepted: two states, one order
            lifecycle.accept(session, ticket, staff)
    tickets[5].deadline = None   # no deadline: last
    session.flush()
    order = [tickets[i] for i in (1, 3, 2, 0, 4, 5)]
    assert unit_inbox.open_tickets(session, housing.id, limit=10) == order
    assert unit_inbox.open_tickets(session, housing.id, limit=2, offset=2) == order[2:4]
    assert unit_inbox.open_tickets(session, housing.id, limit=3, offset=4) == order[4:]


def test_the_inbox_counts_stop_at_their_limit(
        session: Session, units: City, rules: IntakeRules, operator: Actor) -> None:
    housing = unit_by_code(session, "housing")
    now = utcnow()
    for hours in (-5, -1, 3, 30):
        ticket = new_ticket(session, rules)
        lifecycle.transfer(session, ticket, housing, operator)
        ticket.deadline = now + dt.timedelta(hours=hours)
    session.flush()
    exact = unit_inbox.counts(session, housing.id, now)
    assert (exact.total, exact.new, exact.near, exact.overdue) == (Bounded(4), Bounded(4), Bounded(1), Bounded(2))
    bounded = unit_inbox.counts(session, housing.id, now, limit=3)
    assert bounded.total == Bounded(3, more=True) and str(bounded.total) == "3+"
    assert bounded.overdue == Bounded(2) and str(bounded.overdue) == "2"


def _transfer(session: Session, operator: Actor, lead: str, *, deadline: dt.datetime | None, co: tuple[str, ...] = (),
              now: dt.datetime, name: str | None = None) -> Ticket:
    ticket = new_ticket(session, name=name, body=f"{name or '市民'}反映：小区门口路灯不亮。" if name else None)
    lifecycle.transfer(session, ticket, unit_by_code(session, lead), operator, now=now)
    if co:
        co_handling.add_co_units(session, ticket, [unit_by_code(session, c) for c in co], operator, now=now)
    ticket.deadline = deadline
    session.flush()
    return ticket


def test_a_page_merges_the_units_own_tickets_with_the_parts_it_owes_and_counts_both(
        session: Session, units: City, operator: Actor) -> None:
    housing = unit_by_code(session, "housing")
    now = utcnow()
    hours = lambda n: now + dt.timedelta(hours=n)  # noqa: E731
    own_late = _transfer(session, operator, "housing", deadline=hours(50), now=now)
    part_overdue = _transfer(session, operator, "transport", deadline=hours(-2), co=("housing",), now=now)
    own_near = _transfer(session, operator, "housing", deadline=hours(5), now=now)
    part_near = _transfer(session, operator, "commerce", deadline=hours(6), co=("housing",), now=now)
    part_none = _transfer(session, operator, "transport", deadline=None, co=("housing",), now=now)
    taken = _transfer(session, operator, "transport", deadline=hours(70), co=("housing",), now=now)
    co_handling.accept_part(session, taken, unit_staff(session, "housing"), now=now)
    answered = _transfer(session, operator, "transport", deadline=hours(1), co=("housing",), now=now)
    co_handling.accept_part(session, answered, unit_staff(session, "housing"), now=now)
    co_handling.reply_part(session, answered, unit_staff(session, "housing"), "已处理", now=now)  # owes nothing
    elsewhere = _transfer(session, operator, "transport", deadline=hours(3), now=now)
    session.flush()

    order = [part_overdue, own_near, part_near, own_late, taken, part_none]
    lines = unit_inbox.page(session, housing.id, now, offset=0)
    assert [line.number for line in lines] == [t.number for t in order]  # not `elsewhere`
    # A page further in is the same merge, a page deep in each source.
    assert [line.number for line in unit_inbox.page(session, housing.id, now, offset=2, size=3)] == \
        [t.number for t in order[2:5]]
    by_number = {line.number: line for line in lines}
    assert (by_number[part_overdue.number].part, by_number[part_overdue.number].part_pending,
            by_number[part_overdue.number].lead_unit_id) == ("co", True, part_overdue.unit_id)
    assert by_number[taken.number].part_pending is False
    assert (by_number[own_near.number].part, by_number[own_near.number].lead_unit_id) == (None, None)
    assert [(line.overdue, line.near) for line in lines] == [(True, False), (False, True), (False, True),
                                                              (False, False), (False, False), (False, False)]
    counts = unit_inbox.counts(session, housing.id, now)
    # new: the own tickets not accepted and the parts not taken.
    assert (counts.total, counts.new, counts.near, counts.overdue) == (Bounded(6), Bounded(5), Bounded(2), Bounded(1))
    bounded = unit_inbox.counts(session, housing.id, now, limit=4)
    assert str(bounded.total) == "4+" and bounded.overdue == Bounded(1)


def test_an_own_line_shows_its_escalations_and_latest_forward_a_part_neither(
        session: Session, units: City, operator: Actor, supervisor: Actor) -> None:
    housing, gas = unit_staff(session, "housing"), unit_staff(session, "gas")
    now = utcnow()
    ticket = _transfer(session, operator, "housing", deadline=now + dt.timedelta(days=2), co=("transport",), now=now)
    lifecycle.accept(session, ticket, housing, now=now)
    for n in range(2):
        lifecycle.escalate(session, ticket, supervisor, f"请尽快办理（第{n + 1}次）", now=now, again=True)
    forwarding.forward(session, ticket, housing, unit_by_code(session, "gas"), now=now)
    co_handling.return_part(session, ticket, gas, "非公司管网", now=now)
    forwarding.forward(session, ticket, housing, unit_by_code(session, "gas"), now=now)
    session.flush()
    [own] = unit_inbox.page(session, housing.unit_id, now, offset=0)  # type: ignore[arg-type]
    assert (own.escalations, own.forward) == (2, (gas.unit_id, "pending"))
    co_handling.accept_part(session, ticket, gas, now=now)
    session.flush()
    [own] = unit_inbox.page(session, housing.unit_id, now, offset=0)  # type: ignore[arg-type]
    assert own.forward == (gas.unit_id, "accepted")
    for unit_id in (gas.unit_id, unit_by_code(session, "transport").id):
        [part] = unit_inbox.page(session, unit_id, now, offset=0)  # type: ignore[arg-type]
        assert part.number == ticket.number and (part.escalations, part.forward) == (0, None)


def test_a_confidential_title_is_masked_in_the_inbox_and_the_recently_resolved(
        session: Session, units: City, operator: Actor) -> None:
    housing = unit_staff(session, "housing")
    now = utcnow()
    ticket = _transfer(session, operator, "housing", deadline=now + dt.timedelta(days=1), name="王小明", now=now)
    ticket.title, ticket.confidential = "王小明家门口路灯不亮", True
    session.flush()
    [line] = unit_inbox.page(session, housing.unit_id, now, offset=0)  # type: ignore[arg-type]
    assert line.confidential and "王小明" not in line.title and "路灯不亮" in line.title
    lifecycle.accept(session, ticket, housing, now=now)
    lifecycle.resolve(session, ticket, housing, "已修复，经现场核实问题已解决", now=now)
    session.flush()
    [done] = unit_inbox.recent(session, housing.unit_id)  # type: ignore[arg-type]
    assert done.number == ticket.number and done.title == line.title and done.resolved_at is not None


def test_a_confidential_tickets_notices_mask_the_citizen_as_its_pages_do(
        session: Session, units: City, operator: Actor) -> None:
    """A new-work notice names the title, a 市民补充 quotes the citizen: for a 保密 ticket the
    unit read the name and numbers there that its ticket page masks."""
    ticket = new_ticket(session, name="王小明", body="王小明家门口路灯不亮，电话13812345678")
    ticket.title, ticket.confidential = "王小明家门口路灯不亮", True
    housing = unit_by_code(session, "housing")
    moved = lifecycle.transfer(session, ticket, housing, operator)
    told = notices.tell_new_work(session, ticket, moved)
    assert told is not None and "王小明" not in told.text and "王**" in told.text and "路灯不亮" in told.text
    quoted = notices.tell(session, housing, notices.NoticeKind.ADDITION, "addition:x",
                          f"工单{ticket.number}有市民补充：我是王小明，电话13812345678，身份证410881199001011234", ticket=ticket)
    assert quoted is not None and ticket.number in quoted.text
    assert not any(raw in quoted.text for raw in ("王小明", "13812345678", "410881199001011234")), quoted.text
    ticket.confidential = False   # an ordinary ticket's notice says what its page says
    plain = notices.tell(session, housing, notices.NoticeKind.ADDITION, "addition:y", "我是王小明", ticket=ticket)
    assert plain is not None and plain.text == "我是王小明"


def test_the_latest_notices_come_with_the_unread_count_up_to_its_limit(session: Session, units: City,
                                                                       operator: Actor) -> None:
    housing, transport = unit_by_code(session, "housing"), unit_by_code(session, "transport")
    assert notices.latest(session, housing.id) == notices.Latest([], Bounded(0))
    ticket = new_ticket(session)
    lifecycle.transfer(session, ticket, housing, operator)   # the unit's to do: its notices count
    told = [notices.tell(session, housing, notices.NoticeKind.NEAR_DUE, f"k{i}", f"第{i}条", ticket=ticket if i else None)
            for i in range(4)]
    notices.tell(session, transport, notices.NoticeKind.NEAR_DUE, "k9", "别的单位")
    notices.mark_read(session, housing.id, [told[3].id])  # type: ignore[union-attr]
    session.flush()
    latest = notices.latest(session, housing.id, shown=2, count_limit=2)
    assert [(n.text, n.ticket_number, n.read_at is not None) for n in latest.notices] == [
        ("第3条", ticket.number, True), ("第2条", ticket.number, False)]
    assert str(latest.unread) == "2+"
    everything = notices.latest(session, housing.id)
    assert everything.unread == Bounded(3) and everything.notices[-1].ticket_number is None


def test_a_reopened_ticket_waits_to_be_accepted_again_and_counts_as_new(
        session: Session, units: City, operator: Actor) -> None:
    """重办 needs 签收 again: it is counted with what waits to be taken, as a transfer is."""
    from dispatch.vocabulary import Rating

    housing = unit_staff(session, "housing")
    now = utcnow()
    ticket = _transfer(session, operator, "housing", deadline=now + dt.timedelta(days=3), now=now)
    lifecycle.accept(session, ticket, housing, now=now)
    lifecycle.resolve(session, ticket, housing, "已修复，经现场核实问题已解决", now=now)
    session.flush()
    assert unit_inbox.counts(session, housing.unit_id, now).new == Bounded(0)  # type: ignore[arg-type]
    lifecycle.rate(session, ticket, Rating.UNSATISFIED, Actor.citizen("web"), now=now)
    session.flush()
    assert ticket.state == "reopened"
    assert unit_inbox.counts(session, housing.unit_id, now).new == Bounded(1)  # type: ignore[arg-type]


def test_the_notices_api_counts_unread_as_the_units_page_does(session: Session, units: City, operator: Actor) -> None:
    housing = unit_by_code(session, "housing")
    open_one, done_one = new_ticket(session), new_ticket(session)
    lifecycle.transfer(session, open_one, housing, operator)   # still the unit's to do
    for ticket in (open_one, done_one):
        notices.tell(session, housing, notices.NoticeKind.NEAR_DUE, f"near:{ticket.number}", "临期", ticket=ticket)
    done_one.state = "closed"
    session.flush()
    unread = notices.listed(session, unit_id=housing.id, unread_only=True)
    assert [n.ticket_number for n in unread.items] == [open_one.number] and unread.total == 1
    assert notices.latest(session, housing.id).unread == Bounded(1)
    every = {n.ticket_number: n.as_dict()["ticket_finished"] for n in notices.listed(session, unit_id=housing.id).items}
    assert every == {open_one.number: False, done_one.number: True}


def test_a_notice_counts_as_done_once_its_ticket_has_left_the_unit(session: Session, units: City,
                                                                    operator: Actor) -> None:
    """Returned (退单), taken back by 改派, its 协办 part answered: nothing left for the unit to
    do, so its notices are done as a finished ticket's are, on the page and in the API alike."""
    from dispatch import disputes

    now = utcnow()
    housing, staff = unit_by_code(session, "housing"), unit_staff(session, "housing")
    returned = _transfer(session, operator, "housing", deadline=None, now=now)
    disputed = _transfer(session, operator, "housing", deadline=None, now=now)
    co_part = _transfer(session, operator, "transport", deadline=None, co=("housing",), now=now)
    held = _transfer(session, operator, "housing", deadline=None, now=now)
    for ticket in (returned, disputed, co_part, held):
        notices.tell(session, housing, notices.NoticeKind.TRANSFERRED, f"new:{ticket.number}", "新工单", ticket=ticket)
    session.flush()

    def done() -> dict[str, bool]:
        latest = notices.latest(session, housing.id)
        listed = notices.listed(session, unit_id=housing.id).items
        assert {n.ticket_number: n.done for n in latest.notices} == {n.ticket_number: n.done for n in listed}
        unread = notices.listed(session, unit_id=housing.id, unread_only=True)
        assert latest.unread == Bounded(unread.total) == Bounded(sum(not n.done for n in listed))
        assert {n.ticket_number for n in unread.items} == {n.ticket_number for n in listed if not n.done}
        return {n.ticket_number: n.as_dict()["ticket_left_unit"] for n in listed}  # type: ignore[misc]

    assert done() == {t.number: False for t in (returned, disputed, co_part, held)}
    lifecycle.return_ticket(session, returned, staff, "不属本单位职责", now=now)
    lifecycle.accept(session, disputed, staff, now=now)
    disputes.raise_dispute(session, disputed, staff, "应由交通运输局办理", now=now)
    disputes.decide_dispute(session, disputed, Actor(label="supervisor", role=Role.SUPERVISOR), approve=True,
                            reason="同意改派", now=now)
    co_handling.accept_part(session, co_part, staff, now=now)
    session.flush()
    assert done() == {returned.number: True, disputed.number: True, co_part.number: False, held.number: False}
    co_handling.reply_part(session, co_part, staff, "已配合处理", now=now)
    lifecycle.transfer(session, returned, unit_by_code(session, "transport"), operator, now=now)
    session.flush()
    assert done() == {returned.number: True, disputed.number: True, co_part.number: True, held.number: False}
    finished = {n.ticket_number: n.ticket_finished for n in notices.listed(session, unit_id=housing.id).items}
    assert not any(finished.values())    # left, not finished: the two fields say which
    # Why it left: the part answered (the notice says 已答复协办), or the ticket taken elsewhere.
    answered = {n.ticket_number: n.part_answered for n in notices.latest(session, housing.id).notices}
    assert answered == {n.ticket_number: n.part_answered for n in notices.listed(session, unit_id=housing.id).items}
    assert answered == {returned.number: None, disputed.number: None, co_part.number: "co", held.number: None}


def test_a_pages_unread_news_is_read_in_one_statement(session: Session, units: City, rules: IntakeRules,
                                                      operator: Actor) -> None:
    housing, transport = unit_by_code(session, "housing"), unit_by_code(session, "transport")
    tickets = [new_ticket(session, rules) for _ in range(3)]
    for ticket in tickets:
        lifecycle.transfer(session, ticket, housing, operator)
    kinds = notices.NoticeKind
    notices.tell(session, housing, kinds.ADDITION, "a0", "补充", ticket=tickets[0])
    notices.tell(session, housing, kinds.ESCALATION, "e0", "督办", ticket=tickets[0])
    notices.tell(session, housing, kinds.ESCALATION, "e0b", "督办", ticket=tickets[0])   # the same kind once
    notices.tell(session, housing, kinds.REOPENED, "r1", "重办", ticket=tickets[1])
    notices.tell(session, housing, kinds.NEAR_DUE, "n2", "临期", ticket=tickets[2])    # not news of the row
    notices.tell(session, transport, kinds.ADDITION, "t2", "补充", ticket=tickets[2])  # another unit's
    read = notices.tell(session, housing, kinds.ADDITION, "a1", "补充", ticket=tickets[1])
    assert read is not None
    session.flush()
    notices.mark_read(session, housing.id, [read.id])
    numbers = [t.number for t in tickets]
    with statements_sent(session.connection()) as statements:
        news = notices.unread_news(session, housing.id, numbers)
    assert len(statements) == 1
    assert news == {numbers[0]: ["addition", "escalation"], numbers[1]: ["reopened"]}


def test_the_parts_a_unit_answered_are_listed_latest_first_as_the_unit_may_see_them(
        session: Session, units: City, operator: Actor) -> None:
    """An answered part leaves the inbox's lines: unit_inbox.answered lists it, its title masked
    once the ticket has left the unit (as its page shows it); a part still owed is not listed."""
    now = utcnow()
    housing, transport = unit_staff(session, "housing"), unit_staff(session, "transport")
    first = _transfer(session, operator, "transport", deadline=None, co=("housing",), now=now, name="王小明")
    second = _transfer(session, operator, "transport", deadline=None, co=("housing",), now=now, name="李四")
    owed = _transfer(session, operator, "transport", deadline=None, co=("housing",), now=now)
    for ticket in (first, second, owed):
        co_handling.accept_part(session, ticket, housing, now=now)
    co_handling.reply_part(session, first, housing, "已配合", now=now + dt.timedelta(hours=1))
    co_handling.reply_part(session, second, housing, "已配合", now=now + dt.timedelta(hours=2))
    session.flush()
    found = unit_inbox.answered(session, housing.unit_id)  # type: ignore[arg-type]
    assert [(a.number, a.part) for a in found] == [(second.number, "co"), (first.number, "co")]
    assert all("王小明" not in a.title and "李四" not in a.title and "路灯不亮" in a.title for a in found)
    assert unit_inbox.answered(session, transport.unit_id) == []  # type: ignore[arg-type]
    assert [a.number for a in unit_inbox.answered(session, housing.unit_id, limit=1)] == [second.number]  # type: ignore[arg-type]
