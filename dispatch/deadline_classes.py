"""A dispatch catalogue entry's deadline class (办理时限类别) sets the ticket's deadline when
the ticket is dispatched under it: urgent 1 working day, quick 3 (the city file's
`deadline_classes`), counted from the dispatch on the working-day calendar, as 66号 has the
time limit run from dispatch. An entry without a class is the normal class: the deadline by
request type and urgency, counted from receipt (dispatch/deadlines.py).

A dispatch (a transfer, or a re-transfer after a return) moves the deadline, and so does 重办
(on_reopen). A transfer
that names no entry keeps the ticket's class: a classed ticket's deadline restarts from the
new dispatch. (The first dispatch to the proposed unit names the proposal's
entry: dispatch/actions.py.) Re-dispatched under an entry of the normal class, a classed ticket goes back
to the normal deadline from receipt. Forwarding to a sub-unit and adding co-handling units
never move it.

The first dispatch after an upheld 改派申请 (on_redispatch, unless the city turned
HOTLINE_REDISPATCH_RESTARTS_DEADLINE off) gives the new unit a handling time of its own from
that dispatch, in either class: the unit before it held the ticket, accepted, until the centre
agreed it was not theirs, and that time must not come out of the new unit's.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from dispatch.catalogue_file import DeadlineClass
from dispatch.deadlines import DeadlinePolicy
from dispatch.models import CatalogueEntry, Ticket
from dispatch.vocabulary import RequestType, Urgency


@dataclass(frozen=True)
class DeadlineChange:
    deadline_class: str | None
    old: dt.datetime | None
    new: dt.datetime | None
    # Set when it counts from this dispatch where the class rules alone would not (REDISPATCH).
    counted_from: str | None = None

    def as_data(self) -> dict[str, str | None]:
        """What the transfer event keeps: the class and both deadlines, for the audit."""
        data = {"deadline_class": self.deadline_class, "old_deadline": self.old.isoformat() if self.old else None,
                "new_deadline": self.new.isoformat() if self.new else None}
        return data | {"counted_from": self.counted_from} if self.counted_from else data


REDISPATCH = "redispatch"


def _class_of(ticket: Ticket, entry: CatalogueEntry | None, classes: Mapping[str, DeadlineClass]) -> str | None:
    """The class a dispatch under `entry` (None: no entry named) puts the ticket in."""
    if entry is not None:
        return entry.deadline_class if entry.deadline_class in classes else None
    return ticket.deadline_class if ticket.deadline_class in classes else None


def on_dispatch(ticket: Ticket, entry: CatalogueEntry | None, classes: dict[str, DeadlineClass],
                policy: DeadlinePolicy, now: dt.datetime) -> DeadlineChange | None:
    """Set the ticket's deadline and class for a dispatch at `now` under `entry` (None: no
    entry named); the change made, or None when the deadline stays as it was."""
    code = _class_of(ticket, entry, classes)
    old = ticket.deadline
    if code is not None:
        new = policy.calendar.add_working_days(now, classes[code].working_days)
    elif ticket.deadline_class is not None:
        new = policy.deadline(ticket.received_at, RequestType(ticket.request_type), Urgency(ticket.urgency))
    else:
        return None
    ticket.deadline, ticket.deadline_class = new, code
    return DeadlineChange(code, old, new)


def on_redispatch(ticket: Ticket, entry: CatalogueEntry | None, classes: Mapping[str, DeadlineClass],
                  policy: DeadlinePolicy, now: dt.datetime) -> DeadlineChange:
    """The first dispatch after an upheld 改派申请, at `now`: a handling time from `now`, the
    class's working days or the normal period for the ticket's type and urgency, on the same
    calendar as a first dispatch. Whatever the deadline was (an extension granted to the unit
    before included) it was that unit's. The ticket's receipt time stays as it was."""
    code = _class_of(ticket, entry, classes)
    if code is not None:
        new = policy.calendar.add_working_days(now, classes[code].working_days)
    else:
        new = policy.deadline(now, RequestType(ticket.request_type), Urgency(ticket.urgency))
    old = ticket.deadline
    ticket.deadline, ticket.deadline_class = new, code
    return DeadlineChange(code, old, new, counted_from=REDISPATCH)


def on_reopen(ticket: Ticket, classes: Mapping[str, DeadlineClass], policy: DeadlinePolicy,
              now: dt.datetime) -> DeadlineChange | None:
    """重办 (a reopened ticket) gets a new handling period from `now`: its class's working days,
    or the normal period for its type and urgency (also for a class not among `classes`).
    A deadline still later than that stays (reopened early, or extended)."""
    code = ticket.deadline_class
    if code in classes:
        new = policy.calendar.add_working_days(now, classes[code].working_days)
    else:
        new = policy.deadline(now, RequestType(ticket.request_type), Urgency(ticket.urgency))
    old = ticket.deadline
    if old is not None and old >= new:
        return None
    ticket.deadline = new
    return DeadlineChange(code, old, new)
