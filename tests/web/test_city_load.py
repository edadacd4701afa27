"""bench/city_load.py writes history the app reads as its own: loaded at a few thousand tickets
into the test database (PostgreSQL: it writes with COPY), the counts, the running totals, the
stats API, a search and a status lookup agree with the rows."""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from starlette.testclient import TestClient

from dispatch import audit, rollup
from dispatch.clock import local_date, utcnow
from dispatch.models import Call, Ticket, TicketEvent, TicketRollup, Transfer, TransferRollup
from dispatch.states import State
from tests.web.pages_support import login
from web.services import Services

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _rollups(services: Services) -> list[list[tuple[object, ...]]]:
    """Both tables' rows, without the all-zero ones a ticket moving on leaves behind."""
    found = []
    with services.sessions() as session:
        for model, keys in ((TicketRollup, 3), (TransferRollup, 2)):
            columns = [c for c in model.__table__.c if c.name != "id"]
            rows = session.execute(select(*columns)).all()
            found.append(sorted(tuple(r) for r in rows if any(r[keys:])))
    return found


def test_the_loaded_history_is_what_the_app_reads(database_url: str, services: Services, client: TestClient) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the loader writes with PostgreSQL's COPY")
    sys.path.insert(0, str(BENCH))
    import city_load

    with services.sessions() as session:
        seeded = session.scalar(select(func.count(Ticket.id)))
    loaded = city_load.load(database_url, 1200, per_day=400, streams=0, fresh=False, say=lambda _line: None)

    with services.sessions() as session:
        assert session.scalar(select(func.count(Ticket.id))) == seeded + 1200
        # Every ticket has its events, the first a receipt; transfers and calls point at tickets.
        assert session.scalar(select(func.count(func.distinct(TicketEvent.ticket_id)))) == seeded + 1200
        assert session.scalar(select(func.count(Transfer.id))) > 300
        assert session.scalar(select(func.count(Call.id)).where(Call.ticket_id.is_not(None))) > 300
        states = dict(session.execute(select(Ticket.state, func.count()).group_by(Ticket.state)).all())
        assert states.get(State.CLOSED.value) and states.get(State.IN_PROGRESS.value)
        merged = states.get(State.MERGED.value, 0)
    # The running totals are those rebuilt from the rows.
    written = _rollups(services)
    services.run_sync(rollup.rebuild)
    assert _rollups(services) == written

    today = local_date(utcnow())
    since = today - dt.timedelta(days=10)
    stats = client.get(f"/api/v1/stats?since={since}&until={today}")
    assert stats.status_code == 200
    assert stats.json()["tickets"]["received"] == seeded + 1200 - merged

    number, code, phone = loaded.samples[1]
    status = client.get(f"/status?number={number}&code={code}")
    assert status.status_code == 200 and number in status.text
    login(client, "supervisor")
    for query in (number, phone.removeprefix("+86") if phone else number):
        found = client.get("/search", params={"q": query})
        assert found.status_code == 200 and number in found.text, query


# Each statement counts the loaded tickets (id > :seeded) whose rows disagree with each other.
_DISAGREE = {
    "a state its last event does not leave": """
        SELECT count(*) FROM tickets t WHERE t.id > :seeded AND t.state IS DISTINCT FROM
          (SELECT e.to_state FROM ticket_events e WHERE e.ticket_id = t.id ORDER BY e.id DESC LIMIT 1)""",
    "a first event that is not the receipt": """
        SELECT count(*) FROM tickets t WHERE t.id > :seeded AND NOT EXISTS (SELECT 1 FROM ticket_events e
          WHERE e.ticket_id = t.id AND e.action = 'receive' AND e.at = t.received_at AND e.id =
          (SELECT min(f.id) FROM ticket_events f WHERE f.ticket_id = t.id))""",
    "an event before its receipt or after the load": """
        SELECT count(*) FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
        WHERE t.id > :seeded AND (e.at < t.received_at OR e.at > :now)""",
    "transfer counts unlike its transfers": """
        SELECT count(*) FROM tickets t, LATERAL (SELECT count(*) AS n, count(*) FILTER (WHERE x.outcome = 'accepted')
          AS accepted, count(*) FILTER (WHERE x.outcome = 'returned') AS returned FROM transfers x
          WHERE x.ticket_id = t.id) c
        WHERE t.id > :seeded AND (t.transfer_count, t.accepted_transfer_count, t.return_count)
          IS DISTINCT FROM (c.n, c.accepted, c.returned)""",
    "a transfer before its ticket or without its event": """
        SELECT count(*) FROM transfers x JOIN tickets t ON t.id = x.ticket_id WHERE t.id > :seeded AND
          (x.transferred_at < t.received_at OR NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id
           AND e.action = 'transfer' AND e.at = x.transferred_at AND e.unit_id = x.unit_id))""",
    "a resolved ticket without its time": """
        SELECT count(*) FROM tickets t WHERE t.id > :seeded AND t.state IN ('resolved', 'closed')
          AND t.resolved_at IS NULL""",
    "a duplicate unlike its main ticket": """
        SELECT count(*) FROM tickets t LEFT JOIN tickets m ON m.id = t.merged_into_id
        WHERE t.id > :seeded AND ((t.state = 'merged') <> (t.merged_into_id IS NOT NULL) OR (m.id IS NOT NULL AND (
          m.received_at > t.received_at OR m.state = 'merged'
          OR NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id AND e.action = 'merge'
                         AND e.data ->> 'into' = m.number)
          OR NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = m.id AND e.action = 'merge_in'
                         AND e.data ->> 'merged' = t.number
                         AND e.at = (SELECT f.at FROM ticket_events f WHERE f.ticket_id = t.id AND f.action = 'merge')))))""",
    "an extension decision naming another ticket's request": """
        SELECT count(*) FROM ticket_events e WHERE e.ticket_id > :seeded
          AND e.action IN ('approve_extension', 'refuse_extension') AND NOT EXISTS (SELECT 1 FROM extension_requests r
          WHERE r.id = (e.data ->> 'request_id')::int AND r.ticket_id = e.ticket_id AND r.decided_at = e.at)""",
    "an intake source unlike its ticket": """
        SELECT count(*) FROM tickets t WHERE t.id > :seeded AND (SELECT count(*) FROM intake_sources s
          WHERE s.ticket_id = t.id AND s.channel = t.channel AND s.channel_ref = 'city:' || t.number
          AND s.received_at = t.received_at AND s.body = t.body) <> 1""",
    "a phoned ticket without its answered call from that phone": """
        SELECT count(*) FROM tickets t JOIN intake_sources s ON s.ticket_id = t.id
        WHERE t.id > :seeded AND t.channel = 'phone' AND NOT EXISTS (SELECT 1 FROM calls c
          WHERE c.linkedid = s.call_linkedid AND c.ticket_id = t.id AND c.outcome = 'answered'
          AND '+86' || c.caller = t.phone AND c.answered_at < t.received_at AND c.ended_at > t.received_at)""",
    "a texted ticket without its text from that phone": """
        SELECT count(*) FROM tickets t WHERE t.id > :seeded AND t.channel = 'sms' AND t.phone IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM sms_inbound m WHERE m.ticket_id = t.id AND m.sender = t.phone
                          AND m.received_at = t.received_at AND m.reply LIKE '%' || t.number || '%')""",
    "a day's ticket numbers beyond its sequence": """
        SELECT count(*) FROM tickets t WHERE t.id > :seeded AND split_part(t.number, '-', 2)::int >
          coalesce((SELECT q.last FROM ticket_sequences q WHERE q.day = split_part(t.number, '-', 1)), 0)""",
}


def test_a_small_load_is_consistent(database_url: str, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """2,000 tickets over two days, a pool of 200 stories a day (ten copies of each): every
    ticket's rows agree, the hash chain verifies and the running totals are the recount."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the loader writes with PostgreSQL's COPY")
    sys.path.insert(0, str(BENCH))
    import city_load

    monkeypatch.setattr(city_load, "POOL", 200)
    with services.sessions() as session:
        seeded = session.scalar(select(func.max(Ticket.id)))
    city_load.load(database_url, 2000, per_day=1000, streams=0, hash_chain=True, fresh=False, say=lambda _line: None)
    now = utcnow().replace(tzinfo=None)

    with services.sessions() as session:
        assert session.scalar(select(func.count(Ticket.id)).where(Ticket.id > seeded)) == 2000
        merged = session.scalar(select(func.count(Ticket.id)).where(Ticket.id > seeded, Ticket.merged_into_id.is_not(None)))
        assert merged  # the duplicates checked below are there
        found = {what: session.scalar(text(sql), {"seeded": seeded, "now": now}) for what, sql in _DISAGREE.items()}
        assert found == dict.fromkeys(_DISAGREE, 0)
        # A new ticket, call or event gets an id after the loaded ones.
        for table in city_load.NUMBERED:
            assert session.scalar(text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) > "
                                       f"(SELECT coalesce(max(id), 0) FROM {table})")), table
        checked, breaks = audit.verify(session)
        assert breaks == [] and checked > 2000 * 2
    written = _rollups(services)
    services.run_sync(rollup.rebuild)
    assert _rollups(services) == written
