"""How the classifier's proposals fare in production: each ticket's outcome row says whether
its final unit and category equal the proposal, whether the proposal was routed on its own
(at or above the threshold when proposed), whether the operator's first transfer went
elsewhere, and whether a unit returned it. Figures per week and per proposed category,
added up from running totals per day and category (OUTCOMES, kept by the flush hook as
rollup.py keeps the ticket totals; totals_sql.routing_totals() refills them).

The proposal is the classifier's top category and its unit: the proposed unit when routing
was sure, the first suggestion when the ticket went to manual triage. Tickets routed by a
rule, or without content, carry no classifier category and are not counted."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

from sqlalchemy.orm import Session

from dispatch import rollup
from dispatch.clock import local_date
from dispatch.models import RoutingOutcome, RoutingRollup, Ticket, Unit
from dispatch.routing import proposed_unit

if TYPE_CHECKING:  # reports imports lifecycle, which imports this module
    from dispatch.reports import Period


def rate(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else numerator / denominator


def proposal_of(routing: dict[str, Any] | None) -> tuple[str, str | None, bool] | None:
    """(category, unit code, automatic) of a stored proposal; None when the classifier made none."""
    # Every proposal with a classifier category counts, whatever took its unit (the model, the
    # township named, a catalogue entry) or sent it to triage; a rule's answer carries none.
    if not routing or not routing.get("category") or routing.get("source") == "rule":
        return None
    if not routing.get("unit_code") and not routing.get("suggestions"):
        return None
    return routing["category"], proposed_unit(routing), bool(routing.get("unit_code"))


def first_columns(proposal: tuple[str, str | None, bool], unit_code: str) -> dict[str, Any]:
    """An outcome's columns fixed at the first transfer (to `unit_code`)."""
    category, proposed_unit, automatic = proposal
    return {"proposed_category": category, "proposed_unit_code": proposed_unit, "automatic": automatic,
            "first_unit_code": unit_code, "corrected": unit_code != proposed_unit, "returned": False}


def final_columns(outcome: dict[str, Any], unit_code: str, category: str | None) -> dict[str, Any]:
    """An outcome's columns after a transfer to `unit_code`, the ticket's category now `category`."""
    return {"final_unit_code": unit_code, "final_category": category,
            "unit_accepted": unit_code == outcome["proposed_unit_code"],
            "category_accepted": category == outcome["proposed_category"]}


def note_transfer(session: Session, ticket: Ticket, unit: Unit) -> RoutingOutcome | None:
    """Call with the ticket's category already final for this transfer (after any correction)."""
    proposal = proposal_of(ticket.routing)
    if proposal is None:
        return None
    outcome = session.get(RoutingOutcome, ticket.id)
    if outcome is None:
        outcome = RoutingOutcome(ticket_id=ticket.id, received_at=ticket.received_at, **first_columns(proposal, unit.code))
        session.add(outcome)
    proposed = {"proposed_unit_code": outcome.proposed_unit_code, "proposed_category": outcome.proposed_category}
    for name, value in final_columns(proposed, unit.code, ticket.category).items():
        setattr(outcome, name, value)
    return outcome


def note_return(session: Session, ticket: Ticket) -> None:
    outcome = session.get(RoutingOutcome, ticket.id)
    if outcome is not None:
        outcome.returned = True


@dataclass(frozen=True)
class FeedbackRow:
    week: dt.date              # the Monday (China calendar) of the week the tickets were received
    category: str              # the proposed category
    proposals: int             # tickets transferred at least once
    accepted: int
    automatic: int
    corrected: int
    returned: int

    @property
    def acceptance_rate(self) -> float | None:
        return rate(self.accepted, self.proposals)

    @property
    def automatic_share(self) -> float | None:
        return rate(self.automatic, self.proposals)

    @property
    def corrected_share(self) -> float | None:
        return rate(self.corrected, self.proposals)

    @property
    def returned_share(self) -> float | None:
        return rate(self.returned, self.proposals)


def week_of(day: dt.date) -> dt.date:
    """The Monday of the day's week."""
    return day - dt.timedelta(days=day.weekday())


COUNTS = ("proposals", "accepted", "automatic", "corrected", "returned")
_FIELDS = ("received_at", "proposed_category", "unit_accepted", "category_accepted", "automatic", "corrected",
           "returned")


def contribution(v: dict[str, Any]) -> Iterable[tuple[rollup.Key, rollup.Vector]]:
    accepted = v["unit_accepted"] and v["category_accepted"]
    return (((local_date(v["received_at"]), v["proposed_category"]),
             (1, int(bool(accepted)), int(bool(v["automatic"])), int(bool(v["corrected"])), int(bool(v["returned"])))),)


OUTCOMES = rollup.Kept(RoutingRollup, ("day", "category"), COUNTS, RoutingOutcome, _FIELDS, contribution)


def figures(session: Session, period: Period) -> list[FeedbackRow]:
    """One row per (week, proposed category) of tickets received in the period, newest week
    first. The period is whole China days, so its days' totals hold exactly its tickets."""
    counts: dict[tuple[dt.date, str], list[int]] = defaultdict(lambda: [0] * len(COUNTS))
    for day, category, *kept in rollup.totals(session, RoutingRollup, period.since, period.until,
                                              ("day", "category"), COUNTS):
        tally = counts[(week_of(day), category)]
        for index, n in enumerate(kept):
            tally[index] += int(n)
    return [FeedbackRow(week, category, *tally)
            for (week, category), tally in sorted(counts.items(), key=lambda item: (-item[0][0].toordinal(), item[0][1]))
            if tally[0]]
