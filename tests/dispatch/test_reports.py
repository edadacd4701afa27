"""Every figure of docs/DESIGN.md against a small scenario whose values are worked out by hand."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from dispatch import lifecycle, reports
from dispatch.actors import Actor
from dispatch.clock import CHINA
from dispatch.intake import IntakeRules
from dispatch.models import Call, Ticket
from dispatch.units import City, unit_by_code
from dispatch.vocabulary import Rating, RequestType
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket

PERIOD = reports.Period(dt.date(2026, 11, 2), dt.date(2026, 11, 8))
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=CHINA)


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, 0, tzinfo=CHINA)


@pytest.fixture
def scenario(session: Session, units: City, operator: Actor, rules: IntakeRules) -> dict[str, Ticket]:
    housing, urban, qinyuan = (unit_by_code(session, c) for c in ("housing", "urban-management", "qinyuan"))
    s_housing, s_urban, s_qinyuan = (unit_staff(session, c) for c in ("housing", "urban-management", "qinyuan"))
    citizen = Actor.citizen("sms")
    t: dict[str, Ticket] = {}
    # T1: housing accepts, resolves on time, citizen satisfied.
    t["T1"] = new_ticket(session, rules, now=at(2), category="城乡建设")
    lifecycle.transfer(session, t["T1"], housing, operator, now=at(2, 11))
    lifecycle.accept(session, t["T1"], s_housing, now=at(2, 12))
    lifecycle.resolve(session, t["T1"], s_housing, "已修复，经现场核实问题已解决", now=at(5))
    lifecycle.rate(session, t["T1"], Rating.SATISFIED, citizen, now=at(6))
    # T2: a consultation the operator answers directly.
    t["T2"] = new_ticket(session, rules, now=at(3), request_type=RequestType.CONSULTATION)
    lifecycle.answer(session, t["T2"], operator, "可在政务服务中心办理", now=at(3, 11))
    # T3: housing returns it; urban management accepts, resolves late; unsatisfied; reopened
    # with a new handling period (10 working days from the 19th: not overdue on the 20th).
    t["T3"] = new_ticket(session, rules, now=at(3), category="城乡建设")
    lifecycle.transfer(session, t["T3"], housing, operator, now=at(3, 11))
    lifecycle.return_ticket(session, t["T3"], s_housing, "属于城市管理局职责", now=at(3, 15))
    lifecycle.transfer(session, t["T3"], urban, operator, now=at(4))
    lifecycle.accept(session, t["T3"], s_urban, now=at(4, 11))
    lifecycle.resolve(session, t["T3"], s_urban, "已处理，经现场核实问题已解决", now=at(19))
    lifecycle.rate(session, t["T3"], Rating.UNSATISFIED, citizen, now=at(19, 15))
    lifecycle.accept(session, t["T3"], s_urban, now=at(19, 16))
    # T4: with qinyuan, never accepted, now past its deadline.
    t["T4"] = new_ticket(session, rules, now=at(4), category="环境保护")
    lifecycle.transfer(session, t["T4"], qinyuan, operator, now=at(4, 11))
    # T5: closed as invalid at intake.
    t["T5"] = new_ticket(session, rules, now=at(5))
    lifecycle.invalidate(session, t["T5"], operator, "空白来电", now=at(5, 11))
    # T6: qinyuan resolves on time; partly satisfied.
    t["T6"] = new_ticket(session, rules, now=at(6), category="环境保护")
    lifecycle.transfer(session, t["T6"], qinyuan, operator, now=at(6, 11))
    lifecycle.accept(session, t["T6"], s_qinyuan, now=at(6, 12))
    lifecycle.resolve(session, t["T6"], s_qinyuan, "已清理，经现场核实问题已解决", now=at(9))
    lifecycle.rate(session, t["T6"], Rating.PARTLY, citizen, now=at(10))
    # T8: a consultation (3 working days: due Wed 11 Nov) housing resolves on the 13th; not rated.
    t["T8"] = new_ticket(session, rules, now=at(8, 9), category="城乡建设", request_type=RequestType.CONSULTATION)
    lifecycle.transfer(session, t["T8"], housing, operator, now=at(8, 10))
    lifecycle.accept(session, t["T8"], s_housing, now=at(8, 11))
    lifecycle.resolve(session, t["T8"], s_housing, "已处理，经现场核实问题已解决", now=at(13, 9))
    # T7: received after the period: counted nowhere.
    t["T7"] = new_ticket(session, rules, now=at(10), category="城乡建设")
    lifecycle.transfer(session, t["T7"], housing, operator, now=at(10, 11))
    session.flush()
    return t


def test_ticket_figures_match_the_hand_count(session: Session, scenario: dict[str, Ticket]) -> None:
    f = reports.ticket_figures(session, PERIOD, now=NOW)
    assert (f.received, f.answered, f.transferred, f.transfers) == (7, 1, 5, 6)
    assert (f.accepted_transfers, f.returned_transfers) == (4, 1)
    # Overdue: T4 only; T3, reopened on the 19th, has a new handling period (to 3 December).
    assert (f.resolved, f.resolved_on_time, f.rated, f.satisfied_or_partly, f.overdue) == (3, 2, 3, 2, 1)
    assert f.transfer_rate == pytest.approx(5 / 7)
    assert f.successful_transfer_rate == pytest.approx(4 / 6)
    assert f.return_rate == pytest.approx(1 / 6)
    assert f.resolution_rate == pytest.approx(4 / 7)
    assert f.on_time_rate == pytest.approx(2 / 3)
    assert f.satisfaction_rate == pytest.approx(2 / 3)


def test_unit_figures_match_the_hand_count(session: Session, scenario: dict[str, Ticket]) -> None:
    by_code = {u.unit_code: u for u in reports.unit_figures(session, PERIOD, now=NOW)}
    assert set(by_code) == {"housing", "urban-management", "qinyuan"}
    h, u, q = by_code["housing"], by_code["urban-management"], by_code["qinyuan"]
    assert (h.received, h.accepted, h.returned, h.resolved, h.resolved_on_time) == (3, 2, 1, 2, 1)
    assert (h.rated, h.satisfied_or_partly, h.overdue) == (1, 1, 0)
    assert (u.received, u.accepted, u.returned, u.resolved, u.rated, u.satisfied_or_partly, u.overdue) == (1, 1, 0, 0, 1, 0, 0)
    assert (q.received, q.accepted, q.resolved, q.resolved_on_time, q.rated, q.overdue) == (2, 1, 1, 1, 1, 1)
    assert h.as_dict()["return_rate"] == pytest.approx(1 / 3)
    assert u.as_dict()["on_time_rate"] is None  # nothing resolved: no rate, not 0%


def test_category_figures_and_board_counts(session: Session, scenario: dict[str, Ticket]) -> None:
    by_category = reports.figures_by_category(session, PERIOD, now=NOW)
    building = by_category["城乡建设"]
    assert (building.received, building.transferred, building.resolved, building.overdue) == (3, 3, 2, 0)
    assert by_category[None].received == 2
    assert reports.board_counts(session, PERIOD) == {"received": 7, "pending": 1, "in_progress": 1, "resolved": 4}


def test_stored_summary_agrees_with_a_replay_of_the_event_log(session: Session, scenario: dict[str, Ticket]) -> None:
    assert reports.recount_from_events(session) == []
    # A summary changed behind the log's back is caught.
    scenario["T1"].transfer_count = 5
    session.flush()
    problems = reports.recount_from_events(session)
    assert len(problems) == 1 and problems[0].startswith(scenario["T1"].number)


def test_an_empty_period_has_no_rates_rather_than_zero(session: Session, units: City) -> None:
    f = reports.ticket_figures(session, reports.Period(dt.date(2020, 1, 1), dt.date(2020, 1, 2)))
    assert f.received == 0
    assert f.as_dict()["resolution_rate"] is None and f.as_dict()["transfer_rate"] is None


def test_call_figures_match_the_hand_count(session: Session) -> None:
    def call(linkedid: str, day: int, outcome: str, wait: float, talk: float | None, queue: str | None = "12345") -> Call:
        start = at(day)
        answered = outcome == "answered"
        return Call(linkedid=linkedid, caller="13800000000", queue=queue, started_at=start,
                    entered_queue_at=start if queue else None,
                    answered_at=start + dt.timedelta(seconds=wait) if answered else None,
                    wait_seconds=wait, talk_seconds=talk, outcome=outcome, ring_no_answers=0)

    session.add_all([
        call("1.1", 3, "answered", 10, 100), call("1.2", 3, "answered", 30, 200),
        call("1.3", 4, "abandoned", 40, None), call("1.4", 5, "answered", 5, 60),
        call("1.5", 12, "answered", 1, 10),                      # after the period
        call("1.6", 4, "ivr_only", 0, None, queue=None),          # never offered to the queue
    ])
    session.flush()
    c = reports.call_figures(session, PERIOD).as_dict()
    assert (c["offered"], c["answered"], c["abandoned"]) == (4, 3, 1)
    assert c["answer_rate"] == pytest.approx(0.75) and c["abandonment_rate"] == pytest.approx(0.25)
    assert c["asa_seconds"] == pytest.approx(15.0)
    assert c["service_level"] == pytest.approx(0.5)
    assert c["aht_seconds"] == pytest.approx(120.0)


def test_running_totals_agree_with_a_rebuild_from_the_tickets(session: Session, scenario: dict[str, Ticket]) -> None:
    from dispatch import rollup

    # A change made to a ticket loaded fresh from the database (nothing cached) is followed too.
    session.commit()
    session.expire_all()
    t4 = session.get_one(Ticket, scenario["T4"].id)
    lifecycle.accept(session, t4, unit_staff(session, "qinyuan"), now=NOW)
    session.flush()
    kept = (reports.ticket_figures(session, PERIOD, now=NOW), reports.unit_figures(session, PERIOD, now=NOW),
            reports.figures_by_category(session, PERIOD, now=NOW), reports.board_counts(session, PERIOD))
    assert kept[3]["pending"] == 0 and kept[3]["in_progress"] == 2
    rollup.rebuild(session)
    rebuilt = (reports.ticket_figures(session, PERIOD, now=NOW), reports.unit_figures(session, PERIOD, now=NOW),
               reports.figures_by_category(session, PERIOD, now=NOW), reports.board_counts(session, PERIOD))
    assert rebuilt == kept
