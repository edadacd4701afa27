"""The audit log cannot be rewritten: the database refuses UPDATE and DELETE on ticket
events, and a row altered behind its back breaks its ticket's hash chain, which verify names."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from dispatch import audit, db, lifecycle
from dispatch.actors import Actor
from dispatch.models import Ticket, TicketEvent
from dispatch.units import City, unit_by_code
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket
from web.cli import main


def worked_ticket(session: Session, operator: Actor) -> Ticket:
    """A ticket with a few events: received, transferred, accepted, resolved."""
    ticket = new_ticket(session)
    lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), operator)
    staff = unit_staff(session, "housing")
    lifecycle.accept(session, ticket, staff)
    lifecycle.resolve(session, ticket, staff, "已修复路灯，经现场查看已亮起")
    session.commit()
    return ticket


def event_ids(session: Session, ticket: Ticket) -> list[int]:
    return list(session.scalars(select(TicketEvent.id).where(TicketEvent.ticket_id == ticket.id)
                                .order_by(TicketEvent.id)))


def test_orm_bulk_update_of_an_event_is_refused_by_the_database(
        sessions: sessionmaker[Session], units: City, operator: Actor) -> None:
    with sessions() as session:
        ticket = worked_ticket(session, operator)
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(update(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                            .values(note="rewritten history"))
        session.rollback()
        notes = session.scalars(select(TicketEvent.note).where(TicketEvent.ticket_id == ticket.id)).all()
        assert "rewritten history" not in notes


def test_raw_sql_update_and_delete_of_events_are_refused(
        engine: Engine, sessions: sessionmaker[Session], units: City, operator: Actor) -> None:
    with sessions() as session:
        ticket = worked_ticket(session, operator)
        first = event_ids(session, ticket)[0]
    for statement in ("UPDATE ticket_events SET note = 'x' WHERE id = :id",
                      "UPDATE ticket_events SET to_state = 'closed' WHERE id = :id",
                      "DELETE FROM ticket_events WHERE id = :id"):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as connection:
                connection.execute(text(statement), {"id": first})
    with sessions() as session:
        assert len(event_ids(session, ticket)) == 4
    with pytest.raises(DBAPIError, match="append-only"):
        with sessions.begin() as session:
            session.execute(delete(TicketEvent))


def test_every_event_is_chained_to_the_previous_one_of_its_ticket(
        sessions: sessionmaker[Session], units: City, operator: Actor) -> None:
    with sessions() as session:
        ticket = worked_ticket(session, operator)
        other = worked_ticket(session, operator)
        for t in (ticket, other):
            events = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id)
                                     .order_by(TicketEvent.id)).all()
            assert events[0].prev_hash is None
            assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
            assert len({e.hash for e in events}) == len(events)
        assert audit.verify(session) == (8, [])


def _alter(engine: Engine, statement: str, **params: object) -> None:
    with engine.begin() as connection, audit.guard_lifted(connection):
        connection.execute(text(statement), params)


@pytest.mark.parametrize("alteration", ["note", "actor", "delete_middle", "delete_last", "move"])
def test_verify_names_the_ticket_whose_history_was_altered(
        alteration: str, engine: Engine, sessions: sessionmaker[Session], units: City, operator: Actor) -> None:
    with sessions() as session:
        ticket, untouched, other = (worked_ticket(session, operator) for _ in range(3))
        ids = event_ids(session, ticket)
        assert audit.verify(session)[1] == []
    if alteration == "note":
        _alter(engine, "UPDATE ticket_events SET note = '当天已修复' WHERE id = :id", id=ids[3])
    elif alteration == "actor":
        _alter(engine, "UPDATE ticket_events SET actor = 'someone-else' WHERE id = :id", id=ids[1])
    elif alteration == "delete_middle":
        _alter(engine, "DELETE FROM ticket_events WHERE id = :id", id=ids[2])
    elif alteration == "delete_last":
        _alter(engine, "DELETE FROM ticket_events WHERE id = :id", id=ids[3])
    else:
        _alter(engine, "UPDATE ticket_events SET ticket_id = :other WHERE id = :id", other=other.id, id=ids[3])
    with sessions() as session:
        _, breaks = audit.verify(session)
    names = {b.ticket_number for b in breaks}
    assert ticket.number in names and untouched.number not in names
    assert names <= {ticket.number, other.number}


def test_hotline_audit_verify_exits_non_zero_naming_the_altered_ticket(
        database_url: str, engine: Engine, sessions: sessionmaker[Session], units: City, operator: Actor) -> None:
    with sessions() as session:
        ticket = worked_ticket(session, operator)
        ids = event_ids(session, ticket)
    runner = CliRunner()
    env = {"HOTLINE_DATABASE_URL": database_url}
    clean = runner.invoke(main, ["audit", "verify"], env=env, catch_exceptions=False)
    assert clean.exit_code == 0, clean.output
    assert "4 events checked, 0 tickets" in clean.output
    _alter(engine, "UPDATE ticket_events SET note = '未修复' WHERE id = :id", id=ids[3])
    altered = runner.invoke(main, ["audit", "verify"], env=env, catch_exceptions=False)
    assert altered.exit_code == 1
    assert f"ALTERED {ticket.number} (event {ids[3]})" in altered.output


def test_the_migration_seals_events_written_before_the_chain(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'legacy.db'}"
    db.upgrade(url, "0005")
    engine = db.make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO tickets (id, number, query_code, channel, request_type, urgency, title, body, "
            "confidential, state, received_at, transfer_count, accepted_transfer_count, return_count, version) "
            "VALUES (1, '20261101-0001', '123456', 'web', 'complaint', 'normal', '路灯', '路灯坏了', "
            "0, 'answered', '2026-11-01 02:00:00', 0, 0, 0, 2)"))
        connection.execute(text(
            "INSERT INTO ticket_events (ticket_id, at, actor, action, from_state, to_state, note, data) VALUES "
            "(1, '2026-11-01 02:00:00', 'citizen:web', 'receive', NULL, 'received', NULL, '{\"channel\": \"web\"}'),"
            "(1, '2026-11-01 03:00:00.250000', 'operator-wang', 'answer', 'received', 'answered', '已答复', NULL)"))
    db.upgrade(url)
    with db.make_sessionmaker(engine)() as session:
        hashes = session.execute(select(TicketEvent.prev_hash, TicketEvent.hash).order_by(TicketEvent.id)).all()
        assert hashes[0].prev_hash is None and hashes[1].prev_hash == hashes[0].hash
        assert audit.verify(session) == (2, [])
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM ticket_events"))
    engine.dispose()


APP_ROLE = "hotline_app_audit_test"


def test_the_app_role_may_insert_events_but_not_change_them(
        engine: Engine, sessions: sessionmaker[Session], units: City, operator: Actor) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("database roles are PostgreSQL's; SQLite relies on the triggers alone")
    with sessions() as session:
        ticket = worked_ticket(session, operator)
        first = event_ids(session, ticket)[0]
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP OWNED BY {APP_ROLE}") if connection.scalar(
            text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}) else \
            connection.exec_driver_sql(f"CREATE ROLE {APP_ROLE}")
    runner = CliRunner()
    result = runner.invoke(main, ["db", "grant-app-role", APP_ROLE],
                           env={"HOTLINE_DATABASE_URL": engine.url.render_as_string(hide_password=False)
                                .replace("postgresql+psycopg://", "postgresql://")}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f"SET ROLE {APP_ROLE}")
            connection.execute(text("UPDATE tickets SET title = title WHERE id = :id"), {"id": ticket.id})
            connection.execute(text("INSERT INTO ticket_events (ticket_id, at, actor, action, to_state) "
                                    "VALUES (:id, now(), 'x', 'escalate', 'resolved')"), {"id": ticket.id})
            connection.rollback()
            for statement in ("UPDATE ticket_events SET note = 'x' WHERE id = :id",
                              "DELETE FROM ticket_events WHERE id = :id",
                              "TRUNCATE ticket_events CASCADE",
                              "DROP TRIGGER ticket_events_append_only ON ticket_events"):
                connection.exec_driver_sql(f"SET ROLE {APP_ROLE}")
                with pytest.raises(DBAPIError, match="permission denied|must be owner"):
                    connection.execute(text(statement), {"id": first})
                connection.rollback()
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP OWNED BY {APP_ROLE}")
            connection.exec_driver_sql(f"DROP ROLE {APP_ROLE}")
