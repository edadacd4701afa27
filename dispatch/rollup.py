"""Running totals behind the figures, kept in step with every ticket and transfer change.

Figures are asked for over a million tickets in well under a second; scanning the tickets
each time cannot do that. So each ticket contributes a vector of counts to the row of its
(day received, category, current unit), another to the row of its (day received, channel),
another to the row of its (day received, dispatch catalogue entry, day of the deadline while
open), and, while open with a deadline, one to the row of its (day received, category, unit, day
of the deadline); each transfer contributes to the row of its (day the ticket was received,
unit). A flush hook moves a changed row's contribution from its old vector to its new one,
in the same transaction as the change, whichever code path made it (call_totals.py does the
same for calls). rebuild() recomputes everything from the rows; tests check both agree.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from sqlalchemy import Date, bindparam, delete, func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dispatch import totals_sql
from dispatch.clock import local_date
from dispatch.models import (Base, CatalogueRollup, OpenTicketRollup, Ticket, TicketChannelRollup, TicketRollup,
                             Transfer, TransferRollup)
from dispatch.states import BOARD_BUCKET, FINISHED_STATES, RESOLVED_STATES, Bucket, State
from dispatch.vocabulary import Rating, TransferOutcome

TICKET_COUNTS = ("received", "answered", "transferred", "transfers", "accepted_transfers",
                 "returned_transfers", "resolved", "resolved_on_time", "rated", "satisfied_or_partly",
                 "followed_up", "rated_phone", "rated_web", "rated_sms", "handed_over", "invalid", "merged",
                 "pending", "in_progress", "resolved_bucket")
TRANSFER_COUNTS = ("transfers", "accepted", "returned", "resolved", "resolved_on_time")
CATALOGUE_COUNTS = ("received", "transferred", "answered", "resolved", "resolved_on_time", "rated",
                    "satisfied_or_partly", "open_with_deadline")


Key = tuple[Any, ...]
Vector = tuple[int, ...]

_UNIT_RESOLVED = {State.RESOLVED.value, State.CLOSED.value}
_GOOD = {Rating.SATISFIED.value, Rating.PARTLY.value}
_MERGED_ONLY = tuple(int(name == "merged") for name in TICKET_COUNTS)


def ticket_contribution(v: dict[str, Any]) -> tuple[Key, Vector]:
    state = v["state"]
    key = (local_date(v["received_at"]), v["category"] or "", v["unit_id"] or 0)
    if state == State.MERGED.value:
        return key, _MERGED_ONLY  # a duplicate counts once, in its main ticket (docs/DESIGN.md)
    bucket = BOARD_BUCKET[State(state)]
    resolved = state in _UNIT_RESOLVED
    rated = v["rating"] is not None
    channel = v["rating_channel"] if rated else None
    return key, (1, int(state == State.ANSWERED.value), int(v["transfer_count"] > 0), v["transfer_count"],
                 v["accepted_transfer_count"], v["return_count"], int(resolved),
                 int(resolved and v["resolved_on_time"] is True), int(rated), int(v["rating"] in _GOOD),
                 int(resolved and (rated or (v["follow_up_attempts"] or 0) > 0)),
                 int(channel == "phone"), int(channel == "web"), int(channel == "sms"),
                 int(state == State.HANDED_OVER.value), int(state == State.INVALID.value), 0,
                 int(bucket is Bucket.PENDING), int(bucket is Bucket.IN_PROGRESS), int(bucket is Bucket.RESOLVED))


def transfer_contribution(v: dict[str, Any]) -> tuple[Key, Vector]:
    return (v["received_day"], v["unit_id"]), (
        1, int(v["outcome"] == TransferOutcome.ACCEPTED.value), int(v["outcome"] == TransferOutcome.RETURNED.value),
        int(v["resolved_at"] is not None), int(v["resolved_on_time"] is True))


def channel_contribution(v: dict[str, Any]) -> Iterable[tuple[Key, Vector]]:
    """Per channel and emergency number handed over to: received, and resolved or answered
    now; a duplicate counts in its main ticket, as in the other ticket figures."""
    state = State(v["state"])
    if state is State.MERGED:
        return ()
    handed_over_to = (v["handover_to"] or "") if state is State.HANDED_OVER else ""
    return (((local_date(v["received_at"]), v["channel"], handed_over_to), (1, int(state in RESOLVED_STATES))),)


def open_contribution(v: dict[str, Any]) -> Iterable[tuple[Key, Vector]]:
    """An open ticket with a deadline, under the China day of that deadline: every ticket of
    an earlier deadline day is overdue now, whatever the hour (reports._overdue)."""
    if v["deadline"] is None or State(v["state"]) in FINISHED_STATES:
        return ()
    return (((local_date(v["received_at"]), v["category"] or "", v["unit_id"] or 0, local_date(v["deadline"])),
             (1,)),)


def catalogue_contribution(v: dict[str, Any]) -> tuple[Key, Vector]:
    """Per dispatch catalogue entry (0 for none), as catalogue_figures counts: every ticket
    received, a duplicate and an invalid one too; resolved = resolved at least once. An open
    ticket with a deadline under the China day of that deadline (the overdue ones are those of a
    day before today, as open_contribution keeps them), any other under its day received."""
    day = local_date(v["received_at"])
    open_with_deadline = v["deadline"] is not None and State(v["state"]) not in FINISHED_STATES
    return (day, v["catalogue_entry_id"] or 0, local_date(v["deadline"]) if open_with_deadline else day), (
        1, int(v["transfer_count"] > 0), int(v["state"] == State.ANSWERED.value), int(v["resolved_at"] is not None),
        int(bool(v["resolved_on_time"])), int(v["rating"] is not None), int(v["rating"] in _GOOD),
        int(open_with_deadline))


@dataclass(frozen=True)
class Kept:
    """One table of running totals: the rows of `source` each add a vector of `counts` to
    the row of the key(s) `contribution` names (none, one or several)."""

    model: type[Base]
    keys: tuple[str, ...]
    counts: tuple[str, ...]
    source: type[Base]
    fields: tuple[str, ...]
    contribution: Callable[[dict[str, Any]], Iterable[tuple[Key, Vector]]]


_TICKET_FIELDS = ("state", "received_at", "category", "unit_id", "transfer_count", "accepted_transfer_count",
                  "return_count", "resolved_on_time", "rating", "rating_channel", "follow_up_attempts",
                  "channel", "deadline", "handover_to")
# Apart: migration 0006 rebuilds TICKETS through rebuild(), on tickets without these columns yet.
_CATALOGUE_FIELDS = _TICKET_FIELDS + ("catalogue_entry_id", "resolved_at")
_TRANSFER_FIELDS = ("received_day", "unit_id", "outcome", "resolved_at", "resolved_on_time")
TICKETS = Kept(TicketRollup, ("day", "category", "unit_id"), TICKET_COUNTS, Ticket, _TICKET_FIELDS,
               lambda v: (ticket_contribution(v),))
CHANNELS = Kept(TicketChannelRollup, ("day", "channel", "handed_over_to"), ("received", "resolved"), Ticket, _TICKET_FIELDS,
                channel_contribution)
OPEN = Kept(OpenTicketRollup, ("day", "category", "unit_id", "deadline_day"), ("tickets",), Ticket, _TICKET_FIELDS,
            open_contribution)
TRANSFERS = Kept(TransferRollup, ("day", "unit_id"), TRANSFER_COUNTS, Transfer, _TRANSFER_FIELDS,
                 lambda v: (transfer_contribution(v),))
CATALOGUE = Kept(CatalogueRollup, ("day", "catalogue_entry_id", "deadline_day"), CATALOGUE_COUNTS, Ticket,
                 _CATALOGUE_FIELDS, lambda v: (catalogue_contribution(v),))
KEPT = (TICKETS, CHANNELS, OPEN, TRANSFERS, CATALOGUE)


def _values(obj: Any, fields: Iterable[str], *, before: bool) -> dict[str, Any] | None:
    """The object's fields now, or as they were when loaded (None if it had no row yet)."""
    state = inspect(obj)
    if before and (state.pending or state.transient):
        return None
    values = {}
    for name in fields:
        if before:
            history = state.attrs[name].history
            if history.has_changes():
                # A change from NULL leaves nothing in `deleted`.
                values[name] = history.deleted[0] if history.deleted else None
            else:
                values[name] = getattr(obj, name)
        else:
            values[name] = getattr(obj, name)
    return values


@functools.cache
def _fields(kept: tuple[Kept, ...]) -> tuple[str, ...]:
    """Every field the tables `kept` read of one source row, each once."""
    return tuple(dict.fromkeys(f for k in kept for f in k.fields))


def _add(deltas: dict[Key, list[Any]], key: Key, vector: Vector, sign: int) -> None:
    row = deltas.setdefault(key, [0] * len(vector))
    for i, n in enumerate(vector):
        row[i] += sign * n


def move(session: Session, kept: Iterable[Kept]) -> None:
    """Move the contribution of every new or changed row to the tables `kept`, in the
    session's transaction."""
    kept = tuple(kept)
    sources = tuple({k.source for k in kept})
    deltas: dict[Kept, dict[Key, list[Any]]] = {k: {} for k in kept}
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, sources):
            continue
        mine = [k for k in kept if isinstance(obj, k.source)]
        fields = _fields(tuple(mine))
        old = _values(obj, fields, before=True)
        new = _values(obj, fields, before=False)
        if old == new:
            continue
        for k in mine:
            if old is not None:
                for key, vector in k.contribution(old):
                    _add(deltas[k], key, vector, -1)
            for key, vector in k.contribution(new):
                _add(deltas[k], key, vector, +1)
    for k in kept:
        _apply(session, k, deltas[k])


def _apply(session: Session, kept: Kept, deltas: dict[Key, list[Any]]) -> None:
    rows = [dict(zip(kept.keys, key)) | dict(zip(kept.counts, vector)) for key, vector in deltas.items() if any(vector)]
    if rows:
        connection = session.connection()  # inside a flush: a plain statement, no ORM step
        connection.execute(_upsert(connection.dialect.name, kept.model, kept.keys, kept.counts), rows)


@functools.cache
def _upsert(dialect: str, model: type[Base], key_columns: tuple[str, ...], counts: tuple[str, ...]) -> Any:
    """INSERT ... ON CONFLICT (key) DO UPDATE SET count = count + new, built once: building
    it per flush cost more than running it."""
    table = model.__table__
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values({c: bindparam(c) for c in key_columns + counts})
    return statement.on_conflict_do_update(
        index_elements=[table.c[c] for c in key_columns],
        set_={c: table.c[c] + statement.excluded[c] for c in counts})


def rebuild(session: Session) -> None:
    """Recompute every running total from the tickets, transfers, calls and routing outcomes
    (after a bulk import, or to check the hooks); the caller commits. The tables of tickets and transfers
    by category and unit are counted here row by row; the others in SQL (totals_sql.py)."""
    session.execute(delete(TicketRollup))
    session.execute(delete(TransferRollup))
    for kept, model in ((TICKETS, Ticket), (TRANSFERS, Transfer)):
        deltas: dict[Key, list[Any]] = {}
        rows = session.execute(select(*(getattr(model, f) for f in kept.fields)).execution_options(yield_per=10_000))
        for row in rows:
            for key, vector in kept.contribution(dict(zip(kept.fields, row))):
                _add(deltas, key, vector, +1)
        _apply(session, kept, deltas)
    # Migration 0006 rebuilds the ticket totals through this function, before migration
    # 0028 has made the tables that totals_sql fills.
    if inspect(session.connection()).has_table("call_rollup"):
        totals_sql.refill(session)


def add(session: Session, tickets: Iterable[dict[str, Any]], transfers: Iterable[dict[str, Any]]) -> None:
    """Count tickets and transfers written in bulk, past the flush hook (the demo's history):
    each row as a dict of its columns."""
    tickets = list(tickets)
    for kept, rows in ((TICKETS, tickets), (CHANNELS, tickets), (OPEN, tickets), (TRANSFERS, transfers),
                       (CATALOGUE, tickets)):
        add_rows(session, kept, rows)


def add_rows(session: Session, kept: Kept, rows: Iterable[dict[str, Any]]) -> None:
    """Count rows of `kept`'s source written in bulk, each as a dict of its columns."""
    deltas: dict[Key, list[Any]] = {}
    for row in rows:
        for key, vector in kept.contribution(row):
            _add(deltas, key, vector, +1)
    _apply(session, kept, deltas)


def totals(session: Session, model: type[Base], since: dt.date, until: dt.date, group_by: Iterable[str],
           counts: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """Sum the running totals of the days since..until, grouped by the named key columns."""
    statement = _totals_statement(model, tuple(group_by), tuple(counts))
    return [tuple(row) for row in session.execute(statement, {"since": since, "until": until})]


@functools.cache
def _totals_statement(model: type[Base], group_by: tuple[str, ...], counts: tuple[str, ...]) -> Any:
    """Built once per shape, the days as parameters: building it per call cost a page with
    several of them more than running them."""
    table = model.__table__
    groups = [table.c[g] for g in group_by]
    statement = (select(*groups, *(func.coalesce(func.sum(table.c[c]), 0) for c in counts))
                 .where(table.c.day >= bindparam("since", type_=Date()), table.c.day <= bindparam("until", type_=Date())))
    if groups:
        statement = statement.group_by(*groups)
    return statement
