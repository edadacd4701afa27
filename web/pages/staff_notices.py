"""Supervisors' notices (dispatch/staff_notices.py): the unit answered their 督办, a ticket they
escalated was resolved, a request waits for a decision; listed newest first, marked read,
refreshed live as a unit's inbox notices are (web/pages/unit.py). The unread count is also in
the header of every staff page (web/auth.py's staff_only), kept live there by nav_notices.js
on the same stream (/supervisor/notices/events, then /supervisor/notices/unread)."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from dispatch import staff_notices
from dispatch.actors import SUPERVISING_ROLES, Actor
from dispatch.notices import Addressees, NoticeView
from web.auth import staff_only, stream_alive
from web.inputs import notices_asked
from web.pages.labels import (NOTICE_DECIDE_LINK_ZH, NOTICE_DECIDED_AT, NOTICE_DECIDED_BY_ZH, NOTICE_KINDS_ZH,
                              NOTICE_SETTLED_HOW_ZH, NOTICE_SETTLED_ZH)
from web.pages.site import NOTICES_TOPIC, Site
from web.pages.streams import event_stream, sse

NOTICES_SHOWN = 50


def settled_of(notice: NoticeView) -> dict[str, Any] | None:
    """A request's notice done with, in words (the page's tag and the API's `settled` alike):
    how ("decided", "lapsed"), by whom (a display name, when decided by a person), and
    label 已处理 with the detail; None for a request still waiting and every other notice."""
    if notice.settled is None:
        return None
    detail = NOTICE_DECIDED_BY_ZH.format(who=notice.settled_by) if notice.settled_by \
        else NOTICE_SETTLED_HOW_ZH.get(notice.settled, notice.settled)
    return {"how": notice.settled, "by": notice.settled_by, "label": NOTICE_SETTLED_ZH, "detail": detail}


def notices_context(session: Session, actor: Actor) -> dict[str, Any]:
    latest = staff_notices.latest(session, actor, shown=NOTICES_SHOWN)
    return {"notices": latest.notices, "unread": latest.unread, "notice_kinds": NOTICE_KINDS_ZH,
            "settled": {n.id: settled_of(n) for n in latest.notices if n.settled is not None},
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


async def unread_count(request: Request) -> Response:
    """The header's unread count alone ("" when none), fetched again by every page's header
    (nav_notices.js) when the stream says this supervisor was told something."""
    site: Site = request.app.state.site
    actor = request.state.user.actor
    count = await site.services.read(lambda s: staff_notices.unread(s, actor))
    return JSONResponse({"unread": str(count) if count else ""}, headers={"Cache-Control": "no-store"})


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
    marked = await site.services.run(lambda s: staff_notices.mark_read(s, actor, ids))
    if marked:
        # The supervisor's other tabs, and every supervisor for a notice to them all (read by
        # one, read for all), count it no more: told at once on this process's streams. Pages
        # on another process's streams fetch theirs when shown again (nav_notices.js).
        site.hub.deliver(NOTICES_TOPIC, Addressees(frozenset(ids or ()), frozenset(),
                                                   frozenset({actor.user_id}) if actor.user_id else frozenset(),
                                                   frozenset({staff_notices.DECIDERS.value})))
    if request.headers.get("x-notices-panel"):
        context = await site.services.read(lambda s: notices_context(s, actor))
        return site.render(request, "_staff_notices.html", context)
    return RedirectResponse("/supervisor/notices", status_code=303)


routes = [Route("/supervisor/notices", staff_only(notices_page, SUPERVISING_ROLES), methods=["GET"]),
          Route("/supervisor/notices/panel", staff_only(notices_panel, SUPERVISING_ROLES), methods=["GET"]),
          Route("/supervisor/notices/events", staff_only(notices_events, SUPERVISING_ROLES), methods=["GET"]),
          Route("/supervisor/notices/unread", staff_only(unread_count, SUPERVISING_ROLES), methods=["GET"]),
          Route("/supervisor/notices/read", staff_only(mark_read, SUPERVISING_ROLES), methods=["POST"])]
