"""The unit inbox: only this unit's tickets, soonest deadline first, overdue ones marked;
and what the unit was told (临期, 超期, 督办, the day's digest), refreshed live; with a
webhook, how the last deliveries to the unit's own system fared."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dispatch import lifecycle, notices, parts, queries, unit_inbox, webhooks
from dispatch.catalogue_file import DeadlineClass
from dispatch.clock import utcnow
from dispatch.models import Ticket
from dispatch.masking import mask_text
from dispatch.paging import Bounded
from dispatch.vocabulary import Role
from web.auth import staff_only
from web.pages.labels import NOTICE_KINDS_ZH, PART_ROLES_ZH, PART_STATUS_ZH, WEBHOOK_EVENTS_ZH, WEBHOOK_STATUS_ZH
from web.pages.site import NOTICES_TOPIC, Site
from web.pages.streams import event_stream, sse

UNIT_ROLES = frozenset({Role.UNIT_STAFF})


def inbox_context(session: Session, unit_id: int, classes: dict[str, DeadlineClass] | None = None,
                  page: int = 1) -> dict[str, Any]:
    """`classes`: the catalogue's deadline classes, to mark a ticket dispatched under one.
    One page of the inbox (its own open tickets and its parts, merged by deadline), the
    counts of all of it up to COUNT_LIMIT."""
    now = utcnow()
    # Tickets the unit co-handles (协办) or was forwarded (转派): its part, marked as such.
    held = parts.inbox_parts(session, unit_id)
    own = unit_inbox.counts(session, unit_id, now)
    total = Bounded(own.total.value + len(held), own.total.more)
    pages = max(1, -(-total.value // unit_inbox.PAGE_SIZE))
    page = min(max(1, page), pages)
    offset = (page - 1) * unit_inbox.PAGE_SIZE
    mine = unit_inbox.open_tickets(session, unit_id, limit=offset + unit_inbox.PAGE_SIZE)
    listed = sorted([(t, None) for t in mine] + [(p.ticket, p) for p in held],
                    key=lambda pair: unit_inbox.sort_key(pair[0]))[offset:offset + unit_inbox.PAGE_SIZE]
    recent = queries.unit_recent(session, unit_id)
    shown = [t.id for t, part in listed if part is None]
    chased = queries.escalation_counts(session, shown)
    forwarded = parts.latest_forwards(session, shown)

    def row(t: Ticket, part: parts.InboxPart | None = None) -> dict[str, Any]:
        return {"number": t.number, "title": mask_text(t.title, [t.name] if t.name else []) if t.confidential else t.title,
                "state": t.state, "type": t.request_type, "urgency": t.urgency, "deadline": t.deadline,
                "received_at": t.received_at, "deadline_class": (classes or {}).get(t.deadline_class or ""),
                "overdue": lifecycle.is_overdue(t, now),
                "near": t.deadline is not None and not lifecycle.is_overdue(t, now)
                and t.deadline - now < queries.NEAR_DUE, "escalations": chased.get(t.id, 0),
                "resolved_at": t.resolved_at, "confidential": t.confidential,
                "part": part.role if part else None, "part_pending": part is not None and part.outcome == "pending",
                "lead_unit": part.lead_unit if part else None, "forwarded": forwarded.get(t.id)}

    rows = [row(t, part) for t, part in listed]
    held_rows = [row(p.ticket, p) for p in held]
    hook = webhooks.webhook_of(session, unit_id)
    return {"inbox": rows, **notices_context(session, unit_id), "recent": [row(t) for t in recent],
            "part_roles": PART_ROLES_ZH, "part_status": PART_STATUS_ZH,
            # The unit's own system: where its events go and how the last ones fared (no secret).
            "webhook_url": hook.url if hook else None,
            "deliveries": webhooks.deliveries_of(session, unit_id, limit=DELIVERIES_SHOWN) if hook else [],
            "delivery_status": WEBHOOK_STATUS_ZH, "delivery_events": WEBHOOK_EVENTS_ZH,
            "page": page, "pages": pages,
            "counts": {"total": total,
                       "overdue": _plus(own.overdue, sum(r["overdue"] for r in held_rows)),
                       "near": _plus(own.near, sum(r["near"] for r in held_rows)),
                       "new": _plus(own.new, sum(r["part_pending"] for r in held_rows))}}


def _plus(counted: Bounded, more: int) -> Bounded:
    return Bounded(counted.value + more, counted.more)


NOTICES_SHOWN = 20
DELIVERIES_SHOWN = 10


def notices_context(session: Session, unit_id: int) -> dict[str, Any]:
    return {"notices": notices.listed(session, unit_id=unit_id, page_size=NOTICES_SHOWN,
                                          count_limit=NOTICES_SHOWN).items,
            "unread": notices.unread_count(session, unit_id), "notice_kinds": NOTICE_KINDS_ZH}


async def inbox(request: Request) -> Response:
    site: Site = request.app.state.site
    user = request.state.user
    raw = request.query_params.get("page", "")
    page = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1
    context = await site.services.read(lambda s: inbox_context(s, user.unit_id, site.services.deadline_classes(), page))
    context["done"] = request.query_params.get("done")
    return site.render(request, "unit.html", context)


async def notices_panel(request: Request) -> Response:
    """The notices list alone, fetched again by the page when the stream says something new came."""
    site: Site = request.app.state.site
    user = request.state.user
    context = await site.services.run(lambda s: notices_context(s, user.unit_id))
    return site.render(request, "unit_notices.html", context)


async def notices_events(request: Request) -> Response:
    site: Site = request.app.state.site
    return event_stream(site.hub, [NOTICES_TOPIC], lambda _topic, message: sse("notices", message),
                        hello=sse("hello", {}))


async def mark_read(request: Request) -> Response:
    """标为已读: one notice (its id in the form) or, without one, all of the unit's."""
    site: Site = request.app.state.site
    user = request.state.user
    raw = str(request.state.form.get("notice") or "")
    ids = [int(raw)] if raw.isdigit() else None
    await site.services.run(lambda s: notices.mark_read(s, user.unit_id, ids))
    return RedirectResponse("/unit#notices", status_code=303)


routes = [Route("/unit", staff_only(inbox, UNIT_ROLES), methods=["GET"]),
          Route("/unit/notices", staff_only(notices_panel, UNIT_ROLES), methods=["GET"]),
          Route("/unit/notices/events", staff_only(notices_events, UNIT_ROLES), methods=["GET"]),
          Route("/unit/notices/read", staff_only(mark_read, UNIT_ROLES), methods=["POST"])]
