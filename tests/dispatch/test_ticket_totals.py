"""The overdue counts and the figures per channel come from running totals: they equal what
counting the tickets gives, at any moment, as tickets move through the lifecycle."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import disputes, handover, lifecycle, queries, reports, rollup
from dispatch.actors import Actor
from dispatch.clock import CHINA
from dispatch.intake import IntakeRequest, IntakeRules, intake
from dispatch.models import Ticket
from dispatch.units import unit_by_code
from dispatch.states import FINISHED_STATES, RESOLVED_STATES, State
from dispatch.vocabulary import Channel, EmergencyService
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket
from tests.dispatch import test_reports
from tests.dispatch.test_reports import NOW, PERIOD, at

scenario = test_reports.scenario   # the hand-counted tickets, as a fixture here too


def overdue_by_counting(session: Session, period: reports.Period, now: dt.datetime) -> dict[tuple[object, object], int]:
    counts: dict[tuple[object, object], int] = {}
    for t in session.scalars(select(Ticket)):
        if (State(t.state) not in FINISHED_STATES and t.deadline is not None and t.deadline < now
                and period.start <= t.received_at < period.end):
            counts[t.unit_id, t.category] = counts.get((t.unit_id, t.category), 0) + 1
    return counts


def overdue_kept(session: Session, period: reports.Period, now: dt.datetime) -> dict[tuple[object, object], int]:
    return {(unit_id, category): n for unit_id, category, n in reports._overdue(session, period, now) if n}


def test_overdue_from_the_totals_is_the_count_of_the_tickets_at_any_moment(
        session: Session, scenario: dict[str, Ticket]) -> None:
    moments = [at(3), at(6, 23), at(11, 12), at(12), NOW, NOW + dt.timedelta(days=40)]
    whole = reports.Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    for now in moments:
        for period in (PERIOD, whole):
            assert overdue_kept(session, period, now) == overdue_by_counting(session, period, now), now
    assert sum(overdue_kept(session, PERIOD, NOW).values()) == 1   # T4 never accepted (T3 reopened anew)
    assert sum(overdue_kept(session, PERIOD, NOW + dt.timedelta(days=40)).values()) == 2   # and T3 too, later

    # A deadline earlier today: overdue from the moment it passes, not from midnight.
    t7 = scenario["T7"]
    t7.deadline = dt.datetime(2026, 11, 20, 11, 30, tzinfo=CHINA)
    session.flush()
    for now in (dt.datetime(2026, 11, 20, 11, 29, tzinfo=CHINA), dt.datetime(2026, 11, 20, 11, 31, tzinfo=CHINA)):
        assert overdue_kept(session, whole, now) == overdue_by_counting(session, whole, now), now
    assert reports.overdue_count(session, dt.datetime(2026, 11, 20, 11, 31, tzinfo=CHINA)) == 2
    assert reports.overdue_count(session, dt.datetime(2026, 11, 20, 11, 29, tzinfo=CHINA)) == 1

    # Accepted, then resolved: no longer open, no longer overdue.
    s_qinyuan = unit_staff(session, "qinyuan")
    lifecycle.accept(session, scenario["T4"], s_qinyuan, now=NOW)
    assert overdue_kept(session, whole, NOW) == overdue_by_counting(session, whole, NOW)
    lifecycle.resolve(session, scenario["T4"], s_qinyuan, "已处理，经现场核实问题已解决", now=NOW)
    session.flush()
    assert overdue_kept(session, whole, NOW) == overdue_by_counting(session, whole, NOW)
    assert sum(overdue_kept(session, PERIOD, NOW).values()) == 0


def test_figures_per_channel_are_the_count_of_the_tickets(session: Session, scenario: dict[str, Ticket],
                                                          rules: IntakeRules, operator: Actor) -> None:
    intake(session, IntakeRequest(channel=Channel.SMS, body="路灯不亮", phone="13800000001"), rules, now=at(5))
    by_phone = intake(session, IntakeRequest(channel=Channel.PHONE, body="咨询社保", phone="13800000002"), rules,
                      now=at(5)).ticket
    lifecycle.answer(session, by_phone, operator, "已当场答复市民的咨询问题", now=at(5, 11))
    duplicate = new_ticket(session, rules, now=at(6))
    lifecycle.merge(session, duplicate, scenario["T1"], operator, now=at(6, 11))   # counts in its main ticket
    for to in (EmergencyService.FIRE, EmergencyService.FIRE, EmergencyService.POLICE):
        handover.handover(session, new_ticket(session, rules, now=at(7)), operator, to, now=at(7, 1))
    session.flush()
    whole = reports.Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    counted: dict[str, tuple[int, int]] = {}
    for t in session.scalars(select(Ticket).where(Ticket.state != State.MERGED.value)):
        if whole.start <= t.received_at < whole.end:
            received, resolved = counted.get(t.channel, (0, 0))
            counted[t.channel] = (received + 1, resolved + int(State(t.state) in RESOLVED_STATES))
    kept = {c.channel: (c.received, c.resolved) for c in queries.figures_by_channel(session, whole) if c.received}
    assert kept == counted
    assert kept["sms"] == (1, 0) and kept["phone"] == (1, 1) and kept["web"][0] == 11
    assert reports.handovers(session, whole) == {"110": 1, "119": 2, "120": 0, "122": 0}
    assert reports.handovers(session, reports.Period(dt.date(2026, 11, 8), dt.date(2026, 11, 30)))["119"] == 0
    assert sum(n for n, _ in kept.values()) == reports.ticket_figures(session, whole, now=NOW).received


def test_a_rebuild_gives_the_totals_the_hooks_kept(session: Session, scenario: dict[str, Ticket]) -> None:
    whole = reports.Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    kept = (queries.figures_by_channel(session, whole), overdue_kept(session, whole, NOW),
            reports.overdue_count(session, NOW))
    rollup.rebuild(session)
    assert (queries.figures_by_channel(session, whole), overdue_kept(session, whole, NOW),
            reports.overdue_count(session, NOW)) == kept


def test_the_summary_adds_up_one_read_of_the_totals_as_each_figure_does_alone(
        session: Session, scenario: dict[str, Ticket], rules: IntakeRules, operator: Actor) -> None:
    handover.handover(session, new_ticket(session, rules, now=at(7)), operator, EmergencyService.FIRE, now=at(7, 1))
    # Qinyuan accepts a ticket, then says it is not theirs (a dispute raised on the 12th).
    disputed = new_ticket(session, rules, now=at(7), category="环境保护")
    qinyuan = unit_staff(session, "qinyuan")
    lifecycle.transfer(session, disputed, unit_by_code(session, "qinyuan"), operator, now=at(7, 11))
    lifecycle.accept(session, disputed, qinyuan, now=at(7, 12))
    disputes.raise_dispute(session, disputed, qinyuan, "不属于本单位", now=at(12))
    session.flush()
    for period in (PERIOD, reports.Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
                   reports.Period(dt.date(2020, 1, 1), dt.date(2020, 12, 31))):
        summary = reports.summary(session, period, now=NOW)
        assert summary["tickets"] == reports.ticket_figures(session, period, now=NOW).as_dict()
        assert summary["board"] == reports.board_counts(session, period)
        assert summary["units"] == [u.as_dict() for u in reports.unit_figures(session, period, now=NOW)]
        assert summary["categories"] == {k or "": v.as_dict()
                                         for k, v in reports.figures_by_category(session, period, now=NOW).items()}
        assert summary["handovers"] == reports.handovers(session, period)
        assert summary["disputes"] == [d.as_dict() for d in disputes.figures(session, period.start, period.end)]
    assert reports.summary(session, PERIOD, now=NOW)["tickets"]["received"] == 7 + 2   # the scenario's and these
    november = reports.summary(session, reports.Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30)), now=NOW)
    assert november["handovers"]["119"] == 1 and [d["raised"] for d in november["disputes"]] == [1]
