"""The unit inbox: only this unit's tickets, soonest deadline first, overdue ones marked."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dispatch import lifecycle, queries
from dispatch.clock import utcnow
from dispatch.models import Ticket
from dispatch.masking import mask_text
from dispatch.vocabulary import Role
from web.auth import staff_only
from web.pages.site import Site

UNIT_ROLES = frozenset({Role.UNIT_STAFF})


def inbox_context(session: Session, unit_id: int) -> dict[str, Any]:
    now = utcnow()
    inbox = queries.unit_inbox(session, unit_id)
    recent = queries.unit_recent(session, unit_id)
    chased = queries.escalation_counts(session, [t.id for t in inbox])

    def row(t: Ticket) -> dict[str, Any]:
        return {"number": t.number, "title": mask_text(t.title, [t.name] if t.name else []) if t.confidential else t.title,
                "state": t.state, "type": t.request_type, "urgency": t.urgency, "deadline": t.deadline,
                "received_at": t.received_at, "overdue": lifecycle.is_overdue(t, now),
                "near": t.deadline is not None and not lifecycle.is_overdue(t, now)
                and t.deadline - now < queries.NEAR_DUE, "escalations": chased.get(t.id, 0),
                "resolved_at": t.resolved_at, "confidential": t.confidential}

    rows = [row(t) for t in inbox]
    return {"inbox": rows, "recent": [row(t) for t in recent],
            "counts": {"total": len(rows), "overdue": sum(r["overdue"] for r in rows),
                       "near": sum(r["near"] for r in rows),
                       "new": sum(r["state"] == "transferred" for r in rows)}}


async def inbox(request: Request) -> Response:
    site: Site = request.app.state.site
    user = request.state.user
    context = await site.services.run(lambda s: inbox_context(s, user.unit_id))
    context["done"] = request.query_params.get("done")
    return site.render(request, "unit.html", context)


routes = [Route("/unit", staff_only(inbox, UNIT_ROLES), methods=["GET"])]
