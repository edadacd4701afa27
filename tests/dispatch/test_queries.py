"""The read-only lists behind the consoles and the board."""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from dispatch import chasing_lists, lifecycle, notices, queries, unit_inbox
from dispatch.actors import Actor
from dispatch.clock import local_date, utcnow
from dispatch.intake import IntakeRules
from dispatch.reports import Period
from dispatch.models import Ticket
from dispatch.units import City, unit_by_code
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket


def test_a_unit_inbox_holds_only_its_open_tickets_soonest_deadline_first(
        session: Session, units: City, rules: IntakeRules, operator: Actor) -> None:
    housing, transport = unit_by_code(session, "housing"), unit_by_code(session, "transport")
    now = utcnow()
    late = new_ticket(session, rules, now=now - dt.timedelta(days=1))
    early = new_ticket(session, rules, now=now - dt.timedelta(days=3))
    elsewhere = new_ticket(session, rules, now=now - dt.timedelta(days=5))
    for ticket, unit in ((late, housing), (early, housing), (elsewhere, transport)):
        lifecycle.transfer(session, ticket, unit, operator)
    staff = unit_staff(session, "housing")
    lifecycle.accept(session, late, staff)
    assert queries.unit_inbox(session, housing.id) == [early, late]
    lifecycle.resolve(session, late, staff, "已处理，经现场核实问题已解决")
    assert queries.unit_inbox(session, housing.id) == [early]
    assert [r.number for r in unit_inbox.recent(session, housing.id)] == [late.number]


def test_tickets_waiting_for_dispatch_and_returned_ones_with_their_reason(
        session: Session, units: City, rules: IntakeRules, operator: Actor) -> None:
    fresh = new_ticket(session, rules)
    bounced = new_ticket(session, rules)
    lifecycle.transfer(session, bounced, unit_by_code(session, "housing"), operator)
    lifecycle.return_ticket(session, bounced, unit_staff(session, "housing"), "属城管职责")
    queue = queries.dispatch_queue(session)
    assert [t.number for t in queue.tickets] == [fresh.number, bounced.number]   # the oldest first
    assert [t.state for t in queue.tickets] == ["received", "returned"] and queue.count.value == 2
    (returned,) = chasing_lists.returned_page(session).items
    assert returned.ticket == bounced and returned.reason == "属城管职责"
    assert returned.unit_name == unit_by_code(session, "housing").name


def test_overdue_and_near_due_lists(session: Session, units: City, rules: IntakeRules, operator: Actor) -> None:
    now = utcnow()
    overdue = new_ticket(session, rules, now=now - dt.timedelta(days=40))
    near = new_ticket(session, rules)
    near.deadline = now + dt.timedelta(hours=5)
    later = new_ticket(session, rules)
    finished = new_ticket(session, rules, now=now - dt.timedelta(days=40))
    lifecycle.answer(session, finished, operator, "已当场答复市民的咨询问题")
    session.flush()
    assert queries.overdue(session, now=now) == [overdue]
    assert queries.near_due(session, now=now) == [near]
    assert later not in queries.near_due(session, now=now)


def test_search_by_number_phone_and_text(session: Session, units: City, rules: IntakeRules, operator: Actor) -> None:
    lamp = new_ticket(session, rules, body="济水大街路灯不亮", phone="13812345678")
    noise = new_ticket(session, rules, body="夜间施工噪音", phone="03916612345")
    assert queries.search(session, lamp.number) == [lamp]
    assert queries.search(session, "138 1234 5678") == [lamp]
    assert queries.search(session, "5678") == [lamp]
    assert queries.search(session, "0391-6612345") == [noise]
    assert queries.search(session, "路灯") == [lamp]
    assert queries.search(session, "100%_") == []
    assert queries.search(session, "  ") == []


def test_a_unit_finds_its_confidential_tickets_by_number_only(
        session: Session, units: City, rules: IntakeRules, operator: Actor) -> None:
    from dispatch.intake import IntakeRequest, intake
    from dispatch.vocabulary import Channel

    secret = intake(session, IntakeRequest(channel=Channel.WEB, body="举报某店售假", phone="13812345678",
                                           confidential=True), rules).ticket
    housing = unit_by_code(session, "housing")
    lifecycle.transfer(session, secret, housing, operator)
    assert queries.search(session, "13812345678", unit_id=housing.id) == []
    assert queries.search(session, "售假", unit_id=housing.id) == []
    assert queries.search(session, secret.number, unit_id=housing.id) == [secret]
    assert queries.search(session, secret.number, unit_id=unit_by_code(session, "transport").id) == []
    assert queries.search(session, "13812345678") == [secret]


def test_daily_series_and_channels(session: Session, units: City, rules: IntakeRules, operator: Actor) -> None:
    now = utcnow()
    today = local_date(now)
    yesterday_ticket = new_ticket(session, rules, now=now - dt.timedelta(days=1))
    new_ticket(session, rules, now=now)
    lifecycle.answer(session, yesterday_ticket, operator, "已当场答复市民的咨询问题")
    session.flush()
    series = queries.daily_series(session, Period(today - dt.timedelta(days=2), today))
    assert [(d.received, d.resolved) for d in series] == [(0, 0), (1, 1), (1, 0)]
    assert series[0].resolution_rate is None and series[1].resolution_rate == 1.0
    channels = {c.channel: c for c in queries.figures_by_channel(session, Period(today - dt.timedelta(days=2), today))}
    assert channels["web"].received == 2 and channels["web"].resolved == 1 and channels["sms"].received == 0


def test_recently_resolved_is_masked_and_leaves_confidential_out(
        session: Session, units: City, rules: IntakeRules, operator: Actor) -> None:
    from dispatch.intake import IntakeRequest, intake
    from dispatch.vocabulary import Channel

    shown = new_ticket(session, rules, body="我叫李四，电话13812345678，路灯坏了", name="李四")
    hidden = intake(session, IntakeRequest(channel=Channel.WEB, body="举报", confidential=True), rules).ticket
    lifecycle.answer(session, shown, operator, "李四您好，已修复，谢谢您的反映")
    lifecycle.answer(session, hidden, operator, "已处理，经现场核实问题已解决")
    (case,) = queries.recently_resolved(session)
    assert case.number == shown.number
    assert "13812345678" not in case.body and "李四" not in case.body and "李四" not in (case.reply or "")


def test_the_change_stamp_grows_with_every_change(session: Session, units: City, rules: IntakeRules,
                                                  operator: Actor) -> None:
    first = queries.change_stamp(session)
    ticket = new_ticket(session, rules)
    second = queries.change_stamp(session)
    lifecycle.answer(session, ticket, operator, "已当场答复市民的咨询问题")
    assert first < second < queries.change_stamp(session)


def test_the_changes_between_two_stamps_name_their_tickets_and_units_unless_too_many(
        session: Session, units: City, rules: IntakeRules, operator: Actor) -> None:
    housing, transport = unit_by_code(session, "housing"), unit_by_code(session, "transport")
    before = queries.change_stamp(session)
    one, two = new_ticket(session, rules), new_ticket(session, rules)
    middle = queries.change_stamp(session)
    lifecycle.transfer(session, two, housing, operator)
    after = queries.change_stamp(session)
    assert queries.changes(session, before, middle).numbers == {one.number, two.number}
    assert queries.changes(session, middle, after) == queries.Changes(frozenset({after}), frozenset({two.number}),
                                                                      frozenset({housing.id}))
    assert queries.changes(session, after, after) == queries.Changes(frozenset(), frozenset(), frozenset())
    assert queries.changes(session, before, after, most=1).numbers is None
    # an event under the stamp, committed late, is looked for by its id
    assert queries.changes(session, after, after, late=[after]).numbers == {two.number}
    lifecycle.return_ticket(session, two, unit_staff(session, "housing"), "属交通职责")
    returned = queries.change_stamp(session)
    lifecycle.transfer(session, two, transport, operator)
    # housing's inbox moves too (its 最近 lists): the last event names transport alone
    assert queries.changes(session, returned, queries.change_stamp(session)).units == {housing.id, transport.id}


def test_a_whole_phone_number_finds_the_callers_tickets_and_a_part_of_one_any_mention(
        session: Session, units: City, rules: IntakeRules) -> None:
    caller = new_ticket(session, rules, phone="13812345678", now=utcnow() - dt.timedelta(hours=1))
    mention = new_ticket(session, rules, body="请回电13812345678，小区路灯不亮。")
    landline = new_ticket(session, rules, phone="0391-6612345")
    assert queries.search(session, "13812345678") == [caller]
    assert queries.search(session, "+86 138-1234-5678") == [caller]
    assert queries.search(session, "0391-6612345") == [landline]
    assert queries.search(session, "12345678") == [mention, caller]


def test_staff_find_a_phone_however_they_type_it(session: Session, units: City, rules: IntakeRules) -> None:
    caller = new_ticket(session, rules, phone="13803910001")
    landline = new_ticket(session, rules, phone="0391-6612345")
    # As the intake's normalise_phone reads a number: full-width digits and signs, a country
    # code (+86, 86, 0086), spaces, dashes of any width and dots between the digits.
    for typed in ("１３８０３９１０００１", "＋８６　１３８　０３９１　０００１", "0086 138 0391 0001",
                  "86-138-0391-0001", "138.0391.0001", "138–0391–0001", "１３８-０３９１-０００１"):
        assert queries.search(session, typed) == [caller], typed
        assert [t.number for t in queries.staff_tickets(session, text=typed).tickets] == [caller.number], typed
        assert queries.filtered_tickets(session, queries.TicketFilter(text=typed)) == [caller], typed
    for typed in ("０３９１－６６１２３４５", "（0391）6612345", "+86 391 661 2345"):
        assert queries.search(session, typed) == [landline], typed
    assert queries.search(session, "９１０００１") == [caller]          # a part of one, in full-width
    assert queries.search(session, caller.number.replace("-", "－").translate(FULL_WIDTH)) == [caller]


FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def test_the_dispatch_queue_merges_received_and_returned_tickets_oldest_first_and_counts_them_all(
        session: Session, units: City, rules: IntakeRules, operator: Actor) -> None:
    now = utcnow()
    first, third, fourth = (new_ticket(session, rules, now=now - dt.timedelta(hours=h)) for h in (5, 3, 2))
    second = new_ticket(session, rules, now=now - dt.timedelta(hours=4))
    lifecycle.transfer(session, second, unit_by_code(session, "housing"), operator)
    lifecycle.return_ticket(session, second, unit_staff(session, "housing"), "属城管职责")
    lifecycle.answer(session, new_ticket(session, rules, now=now - dt.timedelta(hours=6)), operator, "已当场答复市民的咨询问题")
    session.flush()
    queue = queries.dispatch_queue(session, limit=3)
    assert [t.number for t in queue.tickets] == [first.number, second.number, third.number]
    assert [t.state for t in queue.tickets] == ["received", "returned", "received"]
    assert str(queue.count) == "4" and fourth.number not in [t.number for t in queue.tickets]


def test_the_searchs_overdue_and_due_soon_are_the_unit_inboxs(
        session: Session, units: City, rules: IntakeRules, operator: Actor) -> None:
    """?due=overdue|near on /search finds what the inbox counts as 超期 and 临期 (held by a
    unit, past its deadline or due within a day): for a supervisor every unit's, for a unit
    what its inbox lists (its own tickets and the parts it owes), by words too."""
    from dispatch import co_handling

    now = utcnow()
    housing, transport = unit_by_code(session, "housing"), unit_by_code(session, "transport")
    due_in = {"past": now - dt.timedelta(hours=3), "soon": now + dt.timedelta(hours=5),
              "edge": now + unit_inbox.NEAR_DUE + dt.timedelta(minutes=1), "none": None}
    made: dict[str, Ticket] = {}
    for name, deadline in due_in.items():
        for where in ("housing", "transport", "co"):
            ticket = new_ticket(session, rules, body=f"小区路灯不亮（{name}，{where}）")
            lifecycle.transfer(session, ticket, transport if where != "housing" else housing, operator)
            if where == "co":
                co_handling.add_co_units(session, ticket, [housing], operator)
            ticket.deadline = deadline
            made[f"{name}-{where}"] = ticket
    received = new_ticket(session, rules, body="小区路灯不亮（未派单）")   # with nobody: not in any inbox
    received.deadline = due_in["past"]
    finished = new_ticket(session, rules, body="小区路灯不亮（已办结）")
    lifecycle.transfer(session, finished, housing, operator)
    lifecycle.accept(session, finished, unit_staff(session, "housing"))
    lifecycle.resolve(session, finished, unit_staff(session, "housing"), "已修复")
    finished.deadline = due_in["past"]
    session.flush()

    def found(due: str, *, unit: int | None = None, text: str = "") -> set[str]:
        page = queries.staff_tickets(session, visible_to_unit=unit, page_size=100,
                                     wanted=queries.TicketFilter(text, due=due, at=now))
        return {t.number for t in page.tickets}

    def inbox(show: str) -> set[str]:
        return {line.number for line in unit_inbox.page(session, housing.id, now, offset=0, size=100, show=show)}

    for due, name in (("overdue", "past"), ("near", "soon")):
        every = {made[f"{name}-{where}"].number for where in ("housing", "transport", "co")}
        assert found(due) == found(due, text="路灯") == every
        assert found(due, unit=housing.id) == found(due, unit=housing.id, text="路灯") == inbox(due) == \
            {made[f"{name}-housing"].number, made[f"{name}-co"].number}
    assert received.number not in found("overdue") and finished.number not in found("overdue")


def test_the_notices_of_a_stretch_of_ids_say_whom_they_are_for(session: Session, units: City) -> None:
    housing, transport = unit_by_code(session, "housing"), unit_by_code(session, "transport")
    before = notices.latest_id(session)
    notices.tell(session, housing, notices.NoticeKind.DIGEST, "test:one", "测试")
    middle = notices.latest_id(session)
    notices.tell(session, transport, notices.NoticeKind.DIGEST, "test:two", "测试")
    after = notices.latest_id(session)
    told = notices.addressees(session, before, after)
    assert (told.units, told.staff, told.roles) == ({housing.id, transport.id}, frozenset(), frozenset())
    assert told.for_unit(housing.id) and not told.for_unit(unit_by_code(session, "water").id)
    assert not told.for_staff(1)
    assert notices.addressees(session, middle, after).units == {transport.id}
    # a notice under the last id read, committed late, is looked for by its id
    assert notices.addressees(session, after, after, late=[middle]).units == {housing.id}
    everyone = notices.addressees(session, before, after, most=1)
    assert everyone.units is None and everyone.for_unit(None) and everyone.for_staff(None)
