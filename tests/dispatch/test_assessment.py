"""考核: a unit's month against a small scenario worked out by hand; tiers and intervals."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from dispatch import assessment, disputes, lifecycle
from dispatch.actors import Actor
from dispatch.assessment import AssessmentRules
from dispatch.clock import CHINA
from dispatch.errors import InvalidInput
from dispatch.intake import IntakeRules
from dispatch.models import Ticket
from dispatch.units import City, unit_by_code
from dispatch.vocabulary import Rating
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket

NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=CHINA)


def at(day: int, hour: int = 10, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=CHINA)


@pytest.fixture
def scenario(session: Session, units: City, operator: Actor, rules: IntakeRules) -> dict[str, Ticket]:
    housing, urban = unit_by_code(session, "housing"), unit_by_code(session, "urban-management")
    staff, urban_staff = unit_staff(session, "housing"), unit_staff(session, "urban-management")
    citizen = Actor.citizen("web")
    t: dict[str, Ticket] = {}

    def transferred(name: str, day: int, month: int = 11) -> Ticket:
        t[name] = new_ticket(session, rules, now=at(day, 9, month), category="城乡建设")
        lifecycle.transfer(session, t[name], housing, operator, now=at(day, 10, month))
        return t[name]

    # H1: accepted after 2 hours, resolved on time, satisfied.
    lifecycle.accept(session, transferred("H1", 2), staff, now=at(2, 12))
    lifecycle.resolve(session, t["H1"], staff, "已修复，经现场核实问题已解决", now=at(5))
    lifecycle.rate(session, t["H1"], Rating.SATISFIED, citizen, now=at(6))
    # H2: accepted after 48 hours (late response), resolved on time, partly satisfied.
    lifecycle.accept(session, transferred("H2", 3), staff, now=at(5, 10))
    lifecycle.resolve(session, t["H2"], staff, "已处理，经现场核实问题已解决", now=at(6))
    lifecycle.rate(session, t["H2"], Rating.PARTLY, citizen, now=at(7))
    # H3: returned the same day; urban management takes it (not housing's figures).
    lifecycle.return_ticket(session, transferred("H3", 4), staff, "不属于我单位", now=at(4, 15))
    lifecycle.transfer(session, t["H3"], urban, operator, now=at(5))
    lifecycle.accept(session, t["H3"], urban_staff, now=at(5, 11))
    # H4: accepted within the hour, resolved after its deadline (10 working days), not rated.
    lifecycle.accept(session, transferred("H4", 9), staff, now=at(9, 11))
    lifecycle.resolve(session, t["H4"], staff, "已处理，经现场核实问题已解决", now=at(27))
    # H5: accepted after 3 hours, still in hand; housing asks for re-dispatch (改派申请).
    lifecycle.accept(session, transferred("H5", 10), staff, now=at(10, 13))
    disputes.raise_dispute(session, t["H5"], staff, "应由属地街道办理", now=at(11))
    # H6: accepted within the hour, resolved, unsatisfied: reopened, so no longer resolved.
    lifecycle.accept(session, transferred("H6", 11), staff, now=at(11, 11))
    lifecycle.resolve(session, t["H6"], staff, "已处理，经现场核实问题已解决", now=at(13))
    lifecycle.rate(session, t["H6"], Rating.UNSATISFIED, citizen, now=at(14))
    # H7: received in December: not November's.
    lifecycle.accept(session, transferred("H7", 1, month=12), staff, now=at(1, 11, month=12))
    session.flush()
    return t


def _unit(found: dict, code: str) -> dict:
    return next(u for u in found["units"] if u["unit_code"] == code)


def test_each_figure_of_a_units_month_matches_the_hand_count(session: Session, scenario: dict[str, Ticket]) -> None:
    found = assessment.assessment(session, "2026-11", now=NOW)
    assert found["month"] == "2026-11"
    assert found["period"] == {"since": "2026-11-01", "until": "2026-11-30"}
    housing = _unit(found, "housing")
    assert housing["transfers"] == 6                          # H1-H6; H7 is December's
    # 响应率: accepted within 24 h: H1 (2 h), H4 (1 h), H5 (3 h), H6 (1 h); not H2 (48 h), H3 (returned).
    assert (housing["response"]["count"], housing["response"]["of"]) == (4, 6)
    # 办结率 (解决率): resolved H1, H2, H4 / 6 transfers (H6 was reopened).
    assert (housing["resolution"]["count"], housing["resolution"]["of"]) == (3, 6)
    # 满意率: (satisfied H1 + partly H2) / rated H1, H2, H6.
    assert (housing["satisfaction"]["count"], housing["satisfaction"]["of"]) == (2, 3)
    # 按期办结率: H1, H2 by their deadline / resolved H1, H2, H4.
    assert (housing["on_time"]["count"], housing["on_time"]["of"]) == (2, 3)
    assert (housing["returned"], housing["disputes"], housing["disputes_upheld"]) == (1, 1, 0)
    # Score: 0.1 x 4/6 + 0.4 x 3/6 + 0.4 x 2/3 + 0.1 x 2/3 = 0.0667 + 0.2 + 0.2667 + 0.0667 = 0.6
    assert housing["score"] == pytest.approx(0.6, abs=1e-4)
    # Wilson 95% of 4/6 (worked out in test_wilson_interval_by_hand): [0.3000, 0.9032]
    assert housing["response"]["interval"] == pytest.approx([0.3000, 0.9032], abs=1e-4)
    # Six tickets say little: the score's interval is far wider than 0.20, so no tier.
    low, high = housing["score_interval"]
    assert high - low > 0.2 and housing["tier"] is None
    urban = _unit(found, "urban-management")
    assert (urban["transfers"], urban["response"]["count"], urban["returned"]) == (1, 1, 0)
    assert found["tiers"]["none"] == 2


def test_a_month_in_progress_is_judged_on_what_has_fallen_due(session: Session, scenario: dict[str, Ticket],
                                                               units: City, operator: Actor,
                                                               rules: IntakeRules) -> None:
    """December on the 2nd: H7 (accepted 1 December) is in hand and not yet due, H8 was
    transferred an hour ago and waits to be accepted. Neither has failed: neither counts
    against 办结率, and H8 not against 响应率. Once their deadlines have passed both count."""
    h8 = new_ticket(session, rules, now=NOW - dt.timedelta(hours=2), category="城乡建设")
    lifecycle.transfer(session, h8, unit_by_code(session, "housing"), operator, now=NOW - dt.timedelta(hours=1))
    session.flush()
    housing = _unit(assessment.assessment(session, "2026-12", now=NOW), "housing")
    assert (housing["transfers"], housing["not_yet_due"]) == (2, 2)
    assert (housing["resolution"]["count"], housing["resolution"]["of"], housing["resolution"]["rate"]) == (0, 0, None)
    assert (housing["response"]["count"], housing["response"]["of"]) == (1, 1)      # H7 within the hour
    later = max(scenario["H7"].deadline, h8.deadline) + dt.timedelta(days=1)
    housing = _unit(assessment.assessment(session, "2026-12", now=later), "housing")
    assert housing["not_yet_due"] == 0
    assert (housing["resolution"]["count"], housing["resolution"]["of"]) == (0, 2)
    assert (housing["response"]["count"], housing["response"]["of"]) == (1, 2)      # H8 never accepted


def test_weights_come_from_the_rules(session: Session, scenario: dict[str, Ticket]) -> None:
    # Satisfaction alone: 2/3.
    rules = AssessmentRules(weights=(("response", 0), ("resolution", 0), ("satisfaction", 1), ("on_time", 0)))
    assert _unit(assessment.assessment(session, "2026-11", rules=rules, now=NOW), "housing")["score"] == \
        pytest.approx(0.6667, abs=1e-4)
    # A response time of 72 hours counts H2's 48 hours too: 5/6.
    rules = AssessmentRules(response_hours=72)
    assert _unit(assessment.assessment(session, "2026-11", rules=rules, now=NOW), "housing")["response"]["count"] == 5


def test_wilson_interval_by_hand() -> None:
    # 4 of 6, z = 1.96: centre (0.6667 + 0.3201) / 1.6403 = 0.6016, half 1.96 x sqrt(0.0370 + 0.0267) / 1.6403 = 0.3016
    low, high = assessment.wilson(4, 6)
    assert (low, high) == pytest.approx((0.3000, 0.9032), abs=1e-4)
    # 5 of 5: [0.5655, 1.0]
    assert assessment.wilson(5, 5) == pytest.approx((0.5655, 1.0), abs=1e-4)
    assert assessment.wilson(0, 0) is None


def _rates(response: tuple[int, int], resolution: tuple[int, int], satisfaction: tuple[int, int],
           on_time: tuple[int, int]) -> dict:
    return {name: assessment._rate(*counts) for name, counts in
            (("response", response), ("resolution", resolution), ("satisfaction", satisfaction), ("on_time", on_time))}


def test_tiers_follow_the_score_and_few_tickets_get_none() -> None:
    rules = AssessmentRules()
    # 400 transfers: 380/400 = 0.95, 368/400 = 0.92, 270/300 = 0.90, 361/380 = 0.95;
    # 0.1 x 0.95 + 0.4 x 0.92 + 0.4 x 0.90 + 0.1 x 0.95 = 0.095 + 0.368 + 0.36 + 0.095 = 0.918 -> A
    value, interval = assessment.score(_rates((380, 400), (368, 400), (270, 300), (361, 380)), rules)
    assert value == pytest.approx(0.918, abs=1e-4)
    assert interval[1] - interval[0] < 0.2
    assert assessment.tier_of(value, interval, rules).value == "A"
    # 0.85 -> B, 0.75 -> C, 0.6 -> D, with a narrow interval
    assert [assessment.tier_of(v, [v - 0.05, v + 0.05], rules).value for v in (0.85, 0.75, 0.6)] == ["B", "C", "D"]
    # Five perfect tickets: score 1.0, but the interval runs from 0.5655: no tier.
    value, interval = assessment.score(_rates((5, 5), (5, 5), (5, 5), (5, 5)), rules)
    assert value == 1.0 and interval[0] == pytest.approx(0.5655, abs=1e-4)
    assert assessment.tier_of(value, interval, rules) is None


def test_a_rate_without_a_denominator_leaves_the_score_renormalised() -> None:
    # Nothing rated: (0.1 x 0.9 + 0.4 x 0.8 + 0.1 x 1.0) / 0.6 = (0.09 + 0.32 + 0.1) / 0.6 = 0.85
    value, _ = assessment.score(_rates((90, 100), (80, 100), (0, 0), (80, 80)), AssessmentRules())
    assert value == pytest.approx(0.85)


@pytest.mark.parametrize("raw", ["2026-13", "2026-1", "202611", "abc", "1999-12", "2026-11-01"])
def test_a_bad_month_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput):
        assessment.parse_month(raw)
