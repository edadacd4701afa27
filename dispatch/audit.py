"""The audit log's own defences: every ticket's events form a hash chain, and the database
refuses UPDATE and DELETE on ticket_events (triggers installed by the migration).

An event's hash covers its content and the hash of the ticket's previous event, so a row
rewritten, removed or moved in the database breaks its ticket's chain, and verify() names
that ticket. Rows written before the chain existed were sealed by the migration.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterator

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from dispatch.models import Ticket, TicketEvent

def shown_action(action: str, data: dict[str, Any] | None) -> str:
    """What an event is, as the pages and APIs name it now. Rows are never rewritten (the
    log is append-only), so an older row's meaning is read here: a text the citizen sent to
    add to their ticket was stored as repeat_contact with data.addition before `addition`
    (市民补充) was an action of its own."""
    if action == "repeat_contact" and (data or {}).get("addition"):
        return "addition"
    return action


# The triggers, per dialect and table. Migration 0008 installs ticket_events', 0011
# staff_activity's and 0049 kb_article_versions'; change them only in a new migration.
APPEND_ONLY_TABLES = ("ticket_events", "staff_activity", "kb_article_versions")


def _guard_create(table: str, dialect: str) -> list[str]:
    words = table.replace("_", " ")
    if dialect == "postgresql":
        return [
            f"""CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger
           LANGUAGE plpgsql AS $$
           BEGIN
               RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                   MESSAGE = '{words} are append-only (' || TG_OP || ' refused)';
           END $$""",
            f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
           FOR EACH ROW EXECUTE FUNCTION {table}_append_only()""",
        ]
    return [
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
           BEGIN SELECT RAISE(ABORT, '{words} are append-only (UPDATE refused)'); END""",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
           BEGIN SELECT RAISE(ABORT, '{words} are append-only (DELETE refused)'); END""",
    ]


def _guard_drop(table: str, dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"]
    return [f"DROP TRIGGER IF EXISTS {table}_no_update", f"DROP TRIGGER IF EXISTS {table}_no_delete"]


def install_guard(connection: Connection, table: str = "ticket_events") -> None:
    for statement in _guard_create(table, connection.dialect.name):
        connection.exec_driver_sql(statement)


def drop_guard(connection: Connection, *, with_function: bool = False, table: str = "ticket_events") -> None:
    for statement in _guard_drop(table, connection.dialect.name):
        connection.exec_driver_sql(statement)
    if with_function and connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {table}_append_only()")


@contextlib.contextmanager
def guard_lifted(connection: Connection) -> Iterator[Connection]:
    """Maintenance only (emptying a test database, a documented repair): the triggers of
    every append-only table are dropped and put back inside the caller's transaction, so no
    other transaction ever sees a table unguarded. It needs the right to change the tables,
    which the app's runtime role does not have (see grant_app_role)."""
    for table in APPEND_ONLY_TABLES:
        drop_guard(connection, table=table)
    yield connection
    for table in APPEND_ONLY_TABLES:
        install_guard(connection, table)


def grant_app_role_sql(role: str) -> list[str]:
    """PostgreSQL: what the app's runtime role may do. It reads and writes every table but
    may only INSERT into the append-only ones (ticket_events, staff_activity,
    kb_article_versions), and owns nothing, so it can neither drop the triggers nor TRUNCATE.
    Migrations run as the owner."""
    quoted = '"' + role.replace('"', '""') + '"'
    return [
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        *(f"REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON {table} FROM {quoted}"
          for table in APPEND_ONLY_TABLES),
        f"REVOKE TRUNCATE ON ALL TABLES IN SCHEMA public FROM {quoted}",
    ]


def login_role_sql(role: str, password: str, exists: bool) -> str:
    """PostgreSQL: ROLE made (or kept) a login role with PASSWORD. CREATE ROLE takes no bind
    parameters, so the password is written as a standard string literal, quotes doubled."""
    if "\x00" in password or not password:
        raise ValueError("the role's password is empty or holds a NUL character")
    quoted = '"' + role.replace('"', '""') + '"'
    literal = "'" + password.replace("'", "''") + "'"
    return f"{'ALTER' if exists else 'CREATE'} ROLE {quoted} WITH LOGIN PASSWORD {literal}"


def _canonical(ticket_number: str, event: TicketEvent | Any) -> bytes:
    at = event.at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
    # Through JSON first: what the database gives back (string keys, lists) is what is hashed.
    data = json.loads(json.dumps(event.data)) if event.data is not None else None
    content = [ticket_number, at, event.actor_id, event.actor, event.action, event.from_state,
               event.to_state, event.unit_id, event.note, data]
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def event_hash(ticket_number: str, event: TicketEvent | Any, prev_hash: str | None) -> str:
    digest = hashlib.sha256((prev_hash or "").encode("ascii") + b"\n")
    digest.update(_canonical(ticket_number, event))
    return digest.hexdigest()


def seal(event: TicketEvent, ticket_number: str, prev_hash: str | None) -> None:
    """Chain a new event to the ticket's previous one (None for its first event)."""
    event.prev_hash = prev_hash
    event.hash = event_hash(ticket_number, event, prev_hash)


def last_hash(session: Session, ticket: Ticket) -> str | None:
    """The hash of the ticket's newest event, read under a lock on the ticket's row so that
    two transactions never chain two events to the same predecessor (PostgreSQL; SQLite's
    single writer already serialises them)."""
    if ticket.id is None:
        return None
    session.execute(select(Ticket.id).where(Ticket.id == ticket.id).with_for_update())
    return session.scalar(select(TicketEvent.hash).where(TicketEvent.ticket_id == ticket.id)
                          .order_by(TicketEvent.id.desc()).limit(1))


@dataclass(frozen=True)
class Break:
    """A ticket whose history does not verify, and the first event where it goes wrong."""

    ticket_number: str
    event_id: int | None
    problem: str


def verify(session: Session, *, batch: int = 5000) -> tuple[int, list[Break]]:
    """Walk every ticket's chain; return (events checked, broken tickets)."""
    breaks: list[Break] = []
    checked = 0
    current: tuple[int, str, str] | None = None   # ticket id, number, state
    prev: str | None = None
    last_state: str | None = None
    broken = False

    def finish() -> None:
        if current is not None and not broken and last_state != current[2]:
            breaks.append(Break(current[1], None, f"last event leaves it {last_state}, the ticket is {current[2]}"))

    e = TicketEvent
    rows = session.execute(select(Ticket.id.label("ticket_id"), Ticket.number, Ticket.state, e.id, e.at,
                                  e.actor_id, e.actor, e.action, e.from_state, e.to_state, e.unit_id, e.note,
                                  e.data, e.prev_hash, e.hash)
                           .join(e, e.ticket_id == Ticket.id)
                           .order_by(Ticket.id, e.id)
                           .execution_options(yield_per=batch))
    for event in rows:
        ticket_id, number, state = event.ticket_id, event.number, event.state
        checked += 1
        if current is None or current[0] != ticket_id:
            finish()
            current, prev, last_state, broken = (ticket_id, number, state), None, None, False
        last_state = event.to_state
        if broken:
            continue
        if event.prev_hash != prev:
            breaks.append(Break(number, event.id, "chain broken: an event before this one was changed or removed"))
            broken = True
        elif event.hash != event_hash(number, event, prev):
            breaks.append(Break(number, event.id, "event content does not match its hash"))
            broken = True
        prev = event.hash
    finish()
    orphans = session.scalars(select(Ticket.number).where(~Ticket.id.in_(select(TicketEvent.ticket_id)))
                              .order_by(Ticket.id)).all()
    breaks.extend(Break(number, None, "ticket has no events") for number in orphans)
    return checked, breaks
