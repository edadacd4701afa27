"""Intakes posted at once are written in shared transactions (web/intake_batch.py), each in
a savepoint: every request still gets its own answer, a refused one leaves the others
alone, numbers stay unique and gapless, and every ticket has its sealed `receive` event."""
from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.audit import verify
from dispatch.limits import Limits
from dispatch.models import Ticket, TicketEvent
from tests.web.server import ServerThread
from web.app import create_app
from web.config import Settings


async def _post_all(url: str, bodies: list[dict]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        return await asyncio.gather(*(client.post("/api/v1/tickets", json=b) for b in bodies))


def test_intakes_posted_at_once_each_get_their_own_answer(database_url: str, sessions: sessionmaker[Session],
        minute_to_spare: None) -> None:
    settings = Settings(database_url=database_url, limits=Limits.build(api_intake_per_minute=20))
    bodies = [{"body": f"第{n}件：路灯不亮。", "phone": f"139{n:08d}"} for n in range(24)]
    bodies += [{"body": "  "}, {"body": "第0件：路灯不亮！", "phone": "13900000000"}]  # invalid; a repeat
    with sessions() as session:
        before = session.scalar(select(func.count()).select_from(Ticket)) or 0
    with ServerThread(create_app(settings), proxy_headers=False) as server:
        answers = asyncio.run(_post_all(server.url, bodies))
    statuses = [a.status_code for a in answers]
    # 20 counted requests pass (new tickets or the repeat), the rest are refused; the
    # invalid one is refused either way and not counted.
    valid = statuses[:24] + statuses[25:]
    assert sum(s in (200, 201) for s in valid) == 20 and valid.count(429) == 5, statuses
    assert statuses[24] in (422, 429)  # 422 (blank body) when it came before the limit was spent
    created = [a.json() for a in answers if a.status_code == 201]
    with sessions() as session:
        tickets = session.scalars(select(Ticket).order_by(Ticket.id)).all()[before:]
        assert sorted(t.number for t in tickets) == sorted(c["number"] for c in created)
        numbers = sorted(int(t.number.split("-")[1]) for t in tickets)
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # no gap from refusals
        for ticket in tickets:
            actions = session.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id)
                                      .order_by(TicketEvent.id)).all()
            assert actions[0] == "receive"
        assert verify(session)[1] == []
