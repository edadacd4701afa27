"""bench/city_load.py writes history the app reads as its own: loaded at a few thousand tickets
into the test database (PostgreSQL: it writes with COPY), the counts, the running totals, the
stats API, a search and a status lookup agree with the rows."""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from dispatch import rollup
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
