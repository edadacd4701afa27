"""The daily / weekly / monthly reports' periods and sections against the hand-counted week
of test_reports.py (2 to 8 November 2026), with two duplicates merged into T6."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch import assessment, lifecycle, periodic_reports
from dispatch.actors import Actor
from dispatch.chasing import CHASER
from dispatch.clock import CHINA
from dispatch.intake import IntakeRules
from dispatch.models import Call, PeriodicReport, Ticket
from dispatch.reports import CallPolicy, Period
from dispatch.units import unit_by_code
from tests.dispatch.helpers import new_ticket
from tests.dispatch.test_reports import NOW, PERIOD, at, scenario

SHARED_FIXTURES = (scenario,)  # test_reports' hand-counted week, used here through `week`


def test_the_due_periods_are_the_last_complete_day_week_and_month() -> None:
    # Tuesday 3 March 2026, 00:30 in China (still Monday 2 March in UTC).
    now = dt.datetime(2026, 3, 3, 0, 30, tzinfo=CHINA)
    assert periodic_reports.due_periods(now) == [
        ("day", Period(dt.date(2026, 3, 2), dt.date(2026, 3, 2))),
        ("week", Period(dt.date(2026, 2, 23), dt.date(2026, 3, 1))),
        ("month", Period(dt.date(2026, 2, 1), dt.date(2026, 2, 28)))]


def test_the_previous_period_of_a_month_is_the_whole_month_before() -> None:
    ctx = periodic_reports.ReportContext(None, "month", Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31)), NOW)  # type: ignore[arg-type]
    assert ctx.previous == Period(dt.date(2026, 2, 1), dt.date(2026, 2, 28))


@pytest.fixture
def week(session: Session, request: pytest.FixtureRequest, operator: Actor, rules: IntakeRules) -> dict[str, Ticket]:
    tickets: dict[str, Ticket] = request.getfixturevalue("scenario")
    for n in (1, 2):
        dup = new_ticket(session, rules, now=at(7, 9 + n), category="环境保护")
        lifecycle.merge(session, dup, tickets["T6"], operator, now=at(7, 12))
    # Calls: 4 offered in the week; 2 answered within 15 s, 1 after 18 s, 1 abandoned after 3 s.
    for i, (outcome, wait) in enumerate([("answered", 5), ("answered", 15), ("answered", 18), ("abandoned", 3)]):
        start = at(3 + i)
        session.add(Call(linkedid=f"w.{i}", caller="13800000000", queue="12345", started_at=start,
                         entered_queue_at=start, outcome=outcome, wait_seconds=wait, ring_no_answers=0,
                         answered_at=start + dt.timedelta(seconds=wait) if outcome == "answered" else None,
                         talk_seconds=60 if outcome == "answered" else None))
    session.flush()
    return tickets


def _section(data: dict, key: str) -> dict:
    return next(s for s in data["sections"] if s["key"] == key)


def _table(data: dict, key: str, name: str | None = None) -> dict:
    return next(t for t in _section(data, key)["tables"] if t["name"] == (name or key))


def test_a_weekly_report_holds_the_hand_counted_figures(session: Session, week: dict[str, Ticket]) -> None:
    data = periodic_reports.build(session, "week", PERIOD, NOW, CallPolicy(short_abandon_seconds=5))
    assert [s["key"] for s in data["sections"]] == ["calls", "tickets", "rates", "units", "tiers", "hotspots",
                                                    "overdue", "notable"]
    # Units by tier: the assessment of the month the week ends in (dispatch/assessment.py),
    # one row per unit with transfers, its tier or 不定档 (so few tickets: too wide an interval).
    tiers = _table(data, "tiers")
    month = assessment.assessment(session, PERIOD.until.replace(day=1), now=NOW)
    assert [r[0] for r in tiers["rows"]] == [u["unit_name"] for u in month["units"]]
    assert [r[1] for r in tiers["rows"]] == [u["tier_label"] or "不定档" for u in month["units"]]
    # 不定档 says why: nothing due yet to count, or too few for a narrow enough interval.
    assert tiers["columns"][-1] == ["no_tier_reason", "label"]
    assert [r[-1] for r in tiers["rows"]] == [
        None if u["tier"] else ("tier_nothing_due" if u["score"] is None else "tier_too_few") for u in month["units"]]
    assert any(r[-1] == "tier_too_few" for r in tiers["rows"])
    assert _section(data, "tiers")["figures"]["month"] == "2026-11"
    assert _table(data, "hotspots")["rows"] == []  # seven tickets in a week: nothing rises above its baseline
    calls = _section(data, "calls")["figures"]
    assert (calls["offered"], calls["answered"], calls["abandoned"], calls["short_abandoned"]) == (4, 3, 1, 1)
    assert calls["answer_rate_15s"] == pytest.approx(2 / 4) and calls["service_level"] == pytest.approx(3 / 4)
    assert calls["abandonment_rate"] == pytest.approx(0 / 3)
    tickets = _section(data, "tickets")["figures"]
    # test_reports' 7 tickets (duplicates merged away are not counted as received, but as merged);
    # T4 is still open past due (T3, reopened on the 19th, has a new handling period).
    assert (tickets["received"], tickets["merged"], tickets["overdue"]) == (7, 2, 1)
    # The channels' and days' finished count takes in what was answered at intake: its own
    # column, beside the tickets table's 办结 (by units) and 直接办结.
    by_channel = _table(data, "tickets", "channels")
    assert by_channel["columns"][2] == ["resolved_or_answered", "int"]
    assert sum(row[2] for row in by_channel["rows"]) == tickets["resolved"] + tickets["answered"]
    rates = _section(data, "rates")
    assert rates["figures"]["resolution_rate"] == pytest.approx(4 / 7)
    assert rates["figures"]["direct_answer_rate"] == pytest.approx(1 / 7)
    assert rates["previous"] == {"since": "2026-10-26", "until": "2026-11-01"}
    assert _table(data, "rates")["rows"][3] == ["resolution_rate", pytest.approx(4 / 7), None]
    overdue = _table(data, "overdue")
    assert _section(data, "overdue")["figures"] == {"overdue": 1}
    assert {row[0] for row in overdue["rows"]} == {week["T4"].number}
    notable = _table(data, "notable")["rows"]
    assert [(r[0], r[1], r[-1]) for r in notable] == [("many_citizens", week["T6"].number, 3),
                                                       ("unsatisfied", week["T3"].number, 1)]


def test_a_unit_gets_only_its_own_rows(session: Session, week: dict[str, Ticket]) -> None:
    data = periodic_reports.build(session, "week", PERIOD, NOW)
    qinyuan = unit_by_code(session, "qinyuan").id
    part = periodic_reports.unit_part(data, qinyuan)
    assert [s["key"] for s in part["sections"]] == ["units", "tiers", "overdue", "notable"]
    (unit_row,) = _table(part, "units")["rows"]
    assert unit_row[1:3] == [2, 1]  # transfers received, accepted
    assert [r[0] for r in _table(part, "overdue")["rows"]] == [week["T4"].number]
    assert [r[1] for r in _table(part, "notable")["rows"]] == [week["T6"].number]


def test_a_report_is_kept_once(session: Session, week: dict[str, Ticket]) -> None:
    data = periodic_reports.build(session, "week", PERIOD, NOW)
    kept = dict(html="<p>", csv="a", pdf=None, pdf_note=None, seconds=0.1, now=NOW)
    assert periodic_reports.store(session, "week", PERIOD, data, **kept) is not None
    assert periodic_reports.exists(session, "week", PERIOD)
    assert periodic_reports.store(session, "week", PERIOD, data, **kept) is None
    assert session.scalar(select(func.count(PeriodicReport.id))) == 1


def test_escalations_of_the_period_are_notable_whenever_the_ticket_came(
        session: Session, week: dict[str, Ticket], supervisor: Actor, rules: IntakeRules, operator: Actor) -> None:
    # T4 (received 4 November, still open): 督办 by a supervisor on the 6th, by the chasing
    # scheduler on the 7th and 8th, and again on the 10th, after the week.
    lifecycle.escalate(session, week["T4"], supervisor, "请尽快办理", now=at(6))
    lifecycle.escalate(session, week["T4"], CHASER, "超期未办结，第1次自动督办", now=at(7))
    lifecycle.escalate(session, week["T4"], CHASER, "超期未办结，第2次自动督办", now=at(8))
    lifecycle.escalate(session, week["T4"], CHASER, "超期未办结，第3次自动督办", now=at(10))
    # A ticket received the week before, escalated by a supervisor in the week.
    old = new_ticket(session, rules, now=dt.datetime(2026, 10, 28, 10, tzinfo=CHINA), category="城乡建设")
    lifecycle.transfer(session, old, unit_by_code(session, "qinyuan"), operator,
                       now=dt.datetime(2026, 10, 28, 11, tzinfo=CHINA))
    lifecycle.escalate(session, old, supervisor, "请回复", now=at(2, 9))
    data = periodic_reports.build(session, "week", PERIOD, NOW, sections=[periodic_reports.notable_section])
    figures = _section(data, "notable")["figures"]
    assert (figures["escalated"], figures["escalations"], figures["escalations_by_supervisors"],
            figures["escalations_by_scheduler"]) == (2, 4, 2, 2)
    rows = _table(data, "notable")["rows"]
    assert [(r[0], r[1], r[-1]) for r in rows if r[0] == "escalated"] == [("escalated", week["T4"].number, 3),
                                                                           ("escalated", old.number, 1)]
    # Cut by unit: qinyuan's part holds both (its tickets).
    part = periodic_reports.unit_part(data, unit_by_code(session, "qinyuan").id)
    assert [r[1] for r in _table(part, "notable")["rows"] if r[0] == "escalated"] == [week["T4"].number, old.number]
