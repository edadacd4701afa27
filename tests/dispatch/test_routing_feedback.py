"""The classifier's production figures on a scenario worked out by hand."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from dispatch import lifecycle
from dispatch.actors import Actor
from dispatch.intake import IntakeRequest, IntakeRules, intake
from dispatch.models import RoutingOutcome, Ticket
from dispatch.reports import Period
from dispatch.routing import RoutingAnswer, Suggestion
from dispatch.routing_feedback import figures
from dispatch.units import City, unit_by_code
from dispatch.vocabulary import Channel
from tests.conftest import unit_staff

# Mondays (China calendar) of two weeks; 02:00 UTC is 10:00 in China.
WEEK_A = dt.datetime(2026, 11, 24, 2, tzinfo=dt.timezone.utc)   # a Tuesday: week of 2026-11-23
WEEK_B = dt.datetime(2026, 11, 30, 2, tzinfo=dt.timezone.utc)   # a Monday: week of 2026-11-30


def sure(category: str, unit: str, p: float = 0.95) -> RoutingAnswer:
    top = Suggestion(unit, category, p, "model")
    return RoutingAnswer(unit_code=unit, source="model", reason="", category=category, probability=p,
                         suggestions=(top,))


def unsure(category: str, unit: str, p: float = 0.6) -> RoutingAnswer:
    top = Suggestion(unit, category, p, "model")
    return RoutingAnswer(unit_code=None, source="manual", reason="", category=category, probability=p,
                         suggestions=(top, Suggestion("commerce", "商贸旅游", 0.3, "model")))


def ticket(session: Session, proposal: RoutingAnswer, at: dt.datetime, n: int) -> Ticket:
    return intake(session, IntakeRequest(channel=Channel.WEB, body=f"第{n}件诉求：具体情况如下。"), IntakeRules(),
                  proposal=proposal, now=at).ticket


@pytest.fixture
def scenario(session: Session, units: City, operator: Actor) -> None:
    def send(t: Ticket, code: str, at: dt.datetime) -> None:
        lifecycle.transfer(session, t, unit_by_code(session, code), operator, learn_from=units, now=at)

    def give_back(t: Ticket, code: str, at: dt.datetime) -> None:
        lifecycle.return_ticket(session, t, unit_staff(session, code), "不属于本单位职责", now=at)

    hour = dt.timedelta(hours=1)
    # Week A, all proposing 城乡建设 -> housing.
    t1 = ticket(session, sure("城乡建设", "housing"), WEEK_A, 1)
    send(t1, "housing", WEEK_A + hour)                    # sure, accepted
    t2 = ticket(session, sure("城乡建设", "housing"), WEEK_A, 2)
    send(t2, "commerce", WEEK_A + hour)                   # sure, corrected to 商贸旅游
    t3 = ticket(session, unsure("城乡建设", "housing"), WEEK_A, 3)
    send(t3, "housing", WEEK_A + hour)                    # manual triage, the operator took the top one,
    give_back(t3, "housing", WEEK_A + 2 * hour)           # the unit returned it,
    send(t3, "housing", WEEK_A + 3 * hour)                # and it went back to the same unit: accepted, returned
    rule = RoutingAnswer(unit_code="housing", source="rule", reason="规则")
    send(ticket(session, rule, WEEK_A, 4), "housing", WEEK_A + hour)   # a rule's proposal: not counted
    # Week B.
    t5 = ticket(session, sure("劳动和社会保障", "human-resources"), WEEK_B, 5)
    send(t5, "human-resources", WEEK_B + hour)            # accepted at first,
    give_back(t5, "human-resources", WEEK_B + 2 * hour)   # returned,
    send(t5, "health", WEEK_B + 3 * hour)                 # re-routed to 卫生计生: not accepted, not corrected
    ticket(session, sure("城乡建设", "housing"), WEEK_B, 6)  # never transferred: not counted
    session.commit()


def test_outcomes_record_whether_the_final_unit_and_category_equal_the_proposal(session: Session, scenario) -> None:
    outcomes = list(session.query(RoutingOutcome))
    assert len(outcomes) == 4     # tickets 1, 2, 3 and 5
    rows = {o.proposed_unit_code + ":" + str(o.final_category) + ":" + o.final_unit_code: o for o in outcomes}
    corrected = rows["housing:商贸旅游:commerce"]
    assert not corrected.unit_accepted and not corrected.category_accepted and corrected.corrected
    rerouted = rows["human-resources:卫生计生:health"]
    assert rerouted.returned and not rerouted.corrected and not rerouted.unit_accepted
    assert rerouted.first_unit_code == "human-resources"


def test_figures_per_week_and_category(session: Session, scenario) -> None:
    rows = figures(session, Period(dt.date(2026, 11, 1), dt.date(2026, 12, 31)))

    assert [(r.week.isoformat(), r.category, r.proposals, r.accepted, r.automatic, r.corrected, r.returned)
            for r in rows] == [
        ("2026-11-30", "劳动和社会保障", 1, 0, 1, 0, 1),
        ("2026-11-23", "城乡建设", 3, 2, 2, 1, 1),
    ]
    week_b, week_a = rows
    assert (week_a.acceptance_rate, week_a.automatic_share, week_a.corrected_share, week_a.returned_share) == \
        pytest.approx((2 / 3, 2 / 3, 1 / 3, 1 / 3))
    assert (week_b.acceptance_rate, week_b.automatic_share, week_b.corrected_share, week_b.returned_share) == \
        (0.0, 1.0, 0.0, 1.0)


def test_figures_keep_to_the_period(session: Session, scenario) -> None:
    rows = figures(session, Period(dt.date(2026, 11, 30), dt.date(2026, 12, 6)))
    assert [r.category for r in rows] == ["劳动和社会保障"]

