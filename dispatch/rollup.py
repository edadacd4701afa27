"""Running totals behind the figures, kept in step with every ticket and transfer change.

Figures are asked for over a million tickets in well under a second; scanning the tickets
each time cannot do that. So each ticket contributes a vector of counts to the row of its
(day received, category, current unit), and each transfer to the row of its (day the ticket
was received, unit). A flush hook moves a changed row's contribution from its old vector to
its new one, in the same transaction as the change, whichever code path made it.
rebuild() recomputes everything from the tickets and transfers; tests check both agree.
"""
from __future__ import annotations

import datetime as dt
import functools
from typing import Any, Iterable

from sqlalchemy import bindparam, delete, func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dispatch.clock import local_date
from dispatch.models import Base, Ticket, TicketRollup, Transfer, TransferRollup
from dispatch.states import BOARD_BUCKET, Bucket, State
from dispatch.vocabulary import Rating, TransferOutcome

TICKET_COUNTS = ("received", "answered", "transferred", "transfers", "accepted_transfers",
                 "returned_transfers", "resolved", "resolved_on_time", "rated", "satisfied_or_partly",
                 "followed_up", "rated_phone", "rated_web", "rated_sms", "handed_over", "invalid", "merged",
                 "pending", "in_progress", "resolved_bucket")
TRANSFER_COUNTS = ("transfers", "accepted", "returned", "resolved", "resolved_on_time")


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


_TICKET_FIELDS = ("state", "received_at", "category", "unit_id", "transfer_count", "accepted_transfer_count",
                  "return_count", "resolved_on_time", "rating", "rating_channel", "follow_up_attempts")
_TRANSFER_FIELDS = ("received_day", "unit_id", "outcome", "resolved_at", "resolved_on_time")


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


def _add(deltas: dict[Key, list[int]], key: Key, vector: Vector, sign: int) -> None:
    row = deltas.setdefault(key, [0] * len(vector))
    for i, n in enumerate(vector):
        row[i] += sign * n


def on_flush(session: Session, _context: Any, _instances: Any) -> None:
    """before_flush hook: move the contribution of every new or changed ticket and transfer."""
    ticket_deltas: dict[Key, list[int]] = {}
    transfer_deltas: dict[Key, list[int]] = {}
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Ticket):
            fields, contribution, deltas = _TICKET_FIELDS, ticket_contribution, ticket_deltas
        elif isinstance(obj, Transfer):
            fields, contribution, deltas = _TRANSFER_FIELDS, transfer_contribution, transfer_deltas
        else:
            continue
        old = _values(obj, fields, before=True)
        new = _values(obj, fields, before=False)
        if old == new:
            continue
        if old is not None:
            _add(deltas, *contribution(old), -1)
        _add(deltas, *contribution(new), +1)
    _apply(session, TicketRollup, ("day", "category", "unit_id"), TICKET_COUNTS, ticket_deltas)
    _apply(session, TransferRollup, ("day", "unit_id"), TRANSFER_COUNTS, transfer_deltas)


def _apply(session: Session, model: type[Base], key_columns: tuple[str, ...], counts: tuple[str, ...],
           deltas: dict[Key, list[int]]) -> None:
    rows = [dict(zip(key_columns, key)) | dict(zip(counts, vector)) for key, vector in deltas.items() if any(vector)]
    if rows:
        connection = session.connection()  # inside a flush: a plain statement, no ORM step
        connection.execute(_upsert(connection.dialect.name, model, key_columns, counts), rows)


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
    """Recompute every running total from the tickets and transfers (after a bulk import,
    or to check the hook); the caller commits."""
    session.execute(delete(TicketRollup))
    session.execute(delete(TransferRollup))
    ticket_deltas: dict[Key, list[int]] = {}
    rows = session.execute(select(*(getattr(Ticket, f) for f in _TICKET_FIELDS)).execution_options(yield_per=10_000))
    for row in rows:
        _add(ticket_deltas, *ticket_contribution(dict(zip(_TICKET_FIELDS, row))), +1)
    transfer_deltas: dict[Key, list[int]] = {}
    rows = session.execute(select(*(getattr(Transfer, f) for f in _TRANSFER_FIELDS)).execution_options(yield_per=10_000))
    for row in rows:
        _add(transfer_deltas, *transfer_contribution(dict(zip(_TRANSFER_FIELDS, row))), +1)
    _apply(session, TicketRollup, ("day", "category", "unit_id"), TICKET_COUNTS, ticket_deltas)
    _apply(session, TransferRollup, ("day", "unit_id"), TRANSFER_COUNTS, transfer_deltas)


def add(session: Session, tickets: Iterable[dict[str, Any]], transfers: Iterable[dict[str, Any]]) -> None:
    """Count tickets and transfers written in bulk, past the flush hook (the demo's history):
    each row as a dict of its columns."""
    ticket_deltas: dict[Key, list[int]] = {}
    for row in tickets:
        _add(ticket_deltas, *ticket_contribution(row), +1)
    transfer_deltas: dict[Key, list[int]] = {}
    for row in transfers:
        _add(transfer_deltas, *transfer_contribution(row), +1)
    _apply(session, TicketRollup, ("day", "category", "unit_id"), TICKET_COUNTS, ticket_deltas)
    _apply(session, TransferRollup, ("day", "unit_id"), TRANSFER_COUNTS, transfer_deltas)


def totals(session: Session, model: type[Base], since: dt.date, until: dt.date, group_by: Iterable[str],
           counts: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """Sum the running totals of the days since..until, grouped by the named key columns."""
    table = model.__table__
    groups = [table.c[g] for g in group_by]
    statement = (select(*groups, *(func.coalesce(func.sum(table.c[c]), 0) for c in counts))
                 .where(table.c.day >= since, table.c.day <= until))
    if groups:
        statement = statement.group_by(*groups)
    return [tuple(row) for row in session.execute(statement)]
