"""The classifier's production figures on a scenario worked out by hand."""
from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dispatch import lifecycle, rollup
from dispatch.actors import Actor
from dispatch.clock import CHINA, local_date
from dispatch.intake import IntakeRequest, IntakeRules, intake
from dispatch.models import RoutingOutcome, RoutingRollup, Ticket
from dispatch.reports import Period
from dispatch.routing import RoutingAnswer, Suggestion
from dispatch.routing_feedback import FeedbackRow, figures
from dispatch.units import City, unit_by_code
from dispatch.vocabulary import Channel
from tests.conftest import unit_staff

MIGRATION = Path(__file__).resolve().parents[2] / "dispatch/migrations/versions/0033_routing_rollup.py"

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



# Either side of midnight between the two weeks, China time (16:xx UTC the day before).
LATE_SUNDAY = dt.datetime(2026, 11, 29, 23, 50, tzinfo=CHINA)
EARLY_MONDAY = dt.datetime(2026, 11, 30, 0, 10, tzinfo=CHINA)


def counted(session: Session, period: Period) -> list[FeedbackRow]:
    """The figures as counting every outcome of the period gives them (what the running
    totals replace)."""
    tallies: dict[tuple[dt.date, str], Counter[str]] = {}
    for o in session.scalars(select(RoutingOutcome).where(RoutingOutcome.received_at >= period.start,
                                                          RoutingOutcome.received_at < period.end)):
        day = local_date(o.received_at)
        tally = tallies.setdefault((day - dt.timedelta(days=day.weekday()), o.proposed_category), Counter())
        tally.update(proposals=1, accepted=int(o.unit_accepted and o.category_accepted), automatic=int(o.automatic),
                     corrected=int(o.corrected), returned=int(o.returned))
    return [FeedbackRow(week, category, *(t[k] for k in ("proposals", "accepted", "automatic", "corrected", "returned")))
            for (week, category), t in sorted(tallies.items(), key=lambda kv: (-kv[0][0].toordinal(), kv[0][1]))]


PERIODS = [Period(dt.date(2026, 11, 1), dt.date(2026, 12, 31)), Period(dt.date(2026, 11, 29), dt.date(2026, 11, 29)),
           Period(dt.date(2026, 11, 30), dt.date(2026, 11, 30)), Period(dt.date(2026, 11, 24), dt.date(2026, 11, 30)),
           Period(dt.date(2026, 12, 1), dt.date(2026, 12, 31))]


@pytest.fixture
def at_midnight(session: Session, scenario, operator: Actor) -> None:
    """Tickets received either side of the China midnight that ends week A, one returned."""
    for n, (at, code) in enumerate(((LATE_SUNDAY, "housing"), (EARLY_MONDAY, "commerce"), (EARLY_MONDAY, "housing"))):
        t = ticket(session, sure("城乡建设", "housing"), at, 10 + n)
        lifecycle.transfer(session, t, unit_by_code(session, code), operator, now=at + dt.timedelta(minutes=5))
    lifecycle.return_ticket(session, t, unit_staff(session, "housing"), "不属于本单位职责",
                            now=EARLY_MONDAY + dt.timedelta(hours=1))
    session.commit()


def test_the_running_totals_give_the_figures_counting_the_outcomes_gives(session: Session, at_midnight) -> None:
    for period in PERIODS:
        assert figures(session, period) == counted(session, period), period
    assert [(r.week.isoformat(), r.proposals) for r in figures(session, PERIODS[0]) if r.category == "城乡建设"] == \
        [("2026-11-30", 2), ("2026-11-23", 4)]


def _totals(session: Session) -> list[tuple[object, ...]]:
    columns = [c for c in RoutingRollup.__table__.c if c.name != "id"]
    return sorted(tuple(row) for row in session.execute(select(*columns)) if row.proposals)


def test_a_rebuild_and_the_migration_fill_the_totals_the_hook_keeps(session: Session, at_midnight) -> None:
    kept = _totals(session)
    assert sum(row[2] for row in kept) == 7   # every outcome: tickets 1, 2, 3, 5 and the three at midnight

    rollup.rebuild(session)     # hotline db rebuild-figures
    assert _totals(session) == kept

    spec = importlib.util.spec_from_file_location("migration_0033", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    session.execute(delete(RoutingRollup))
    migration.backfill(session.connection())
    assert _totals(session) == kept
    for period in PERIODS:
        assert figures(session, period) == counted(session, period), period


BACKFILL = "dispatch.migrations.versions.0037_routing_outcomes_backfill"


def _outcomes(session: Session) -> list[tuple[object, ...]]:
    return sorted(tuple(row) for row in session.execute(select(*RoutingOutcome.__table__.c)))


def test_the_upgrade_writes_the_outcomes_a_database_without_them_lacks(session: Session, at_midnight) -> None:
    """A database from before catalogue-routed proposals were counted has transfers but no
    outcome rows: the migration writes from the transfers the rows the lifecycle writes."""
    written, kept = _outcomes(session), _totals(session)
    assert len(written) == 7
    session.execute(delete(RoutingOutcome).where(RoutingOutcome.ticket_id != written[0][0]))
    session.execute(delete(RoutingRollup))

    assert importlib.import_module(BACKFILL).backfill(session.connection()) == 6

    assert _outcomes(session) == written
    assert _totals(session) == kept
    assert importlib.import_module(BACKFILL).backfill(session.connection()) == 0
