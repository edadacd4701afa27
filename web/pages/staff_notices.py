"""Supervisors' notices (dispatch/staff_notices.py): the unit answered their 督办, a ticket they
escalated was resolved, a request waits for a decision; listed newest first, marked read,
refreshed live as a unit's inbox notices are (web/pages/unit.py). The unread count is also in
the header of every staff page (web/auth.py's staff_only)."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dispatch import staff_notices
from dispatch.actors import SUPERVISING_ROLES, Actor
from web.auth import staff_only, stream_alive
from web.inputs import notices_asked
from web.pages.labels import NOTICE_DECIDE_LINK_ZH, NOTICE_DECIDED_AT, NOTICE_KINDS_ZH
from web.pages.site import NOTICES_TOPIC, Site
from web.pages.streams import event_stream, sse

NOTICES_SHOWN = 50


def notices_context(session: Session, actor: Actor) -> dict[str, Any]:
    latest = staff_notices.latest(session, actor, shown=NOTICES_SHOWN)
    return {"notices": latest.notices, "unread": latest.unread, "notice_kinds": NOTICE_KINDS_ZH,
            "decided_at": NOTICE_DECIDED_AT, "decide_link": NOTICE_DECIDE_LINK_ZH,
            "read_action": "/supervisor/notices/read"}


async def notices_page(request: Request) -> Response:
    """通知: the supervisor's own notices and those to every supervisor."""
    site: Site = request.app.state.site
    actor = request.state.user.actor
    context = await site.services.read(lambda s: notices_context(s, actor))
    # The header's count as the list has it (the page may have marked some read since it was counted).
    request.state.nav_unread = context["unread"]
    return site.render(request, "supervisor_notices.html", context)


async def notices_panel(request: Request) -> Response:
    """The list alone, fetched again by the page when the stream says something new came."""
    site: Site = request.app.state.site
    actor = request.state.user.actor
    context = await site.services.read(lambda s: notices_context(s, actor))
    return site.render(request, "_staff_notices.html", context)


async def notices_events(request: Request) -> Response:
    """"notices" when this supervisor (or their role) was told something: the page fetches
    its own list again (the stream says nothing of what, nor of anyone else's)."""
    site: Site = request.app.state.site
    staff_id = request.state.user.id
    return event_stream(site.hub, [NOTICES_TOPIC],
                        lambda _topic, told: sse("notices", {}) if told.for_staff(staff_id) else "",
                        hello=sse("hello", {}), alive=stream_alive(request))


async def mark_read(request: Request) -> Response:
    """标为已读: one notice (its id in the form) or, without one, all of the supervisor's; then
    the page again, or, asked by its script (header X-Notices-Panel), the list alone."""
    site: Site = request.app.state.site
    actor = request.state.user.actor
    ids = notices_asked(request.state.form)
    await site.services.run(lambda s: staff_notices.mark_read(s, actor, ids))
    if request.headers.get("x-notices-panel"):
        context = await site.services.read(lambda s: notices_context(s, actor))
        return site.render(request, "_staff_notices.html", context)
    return RedirectResponse("/supervisor/notices", status_code=303)


routes = [Route("/supervisor/notices", staff_only(notices_page, SUPERVISING_ROLES), methods=["GET"]),
          Route("/supervisor/notices/panel", staff_only(notices_panel, SUPERVISING_ROLES), methods=["GET"]),
          Route("/supervisor/notices/events", staff_only(notices_events, SUPERVISING_ROLES), methods=["GET"]),
          Route("/supervisor/notices/read", staff_only(mark_read, SUPERVISING_ROLES), methods=["POST"])]
