"""The unit inbox: only this unit's tickets, soonest deadline first, overdue ones marked;
and what the unit was told (临期, 超期, 督办, the day's digest), refreshed live; with a
webhook, how the last deliveries to the unit's own system fared."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dispatch import notices, queries, unit_inbox, webhooks
from dispatch.catalogue_file import DeadlineClass
from dispatch.clock import utcnow
from dispatch.vocabulary import Role
from web.auth import StaffIdentity, staff_only, stream_alive
from web.inputs import notices_asked
from web.pages.labels import (INBOX_SHOWN_ZH, INBOX_STATES_ZH, NOTICE_KINDS_ZH, PART_ANSWERED_ZH, PART_ROLES_ZH,
                               PART_STATUS_ZH, WEBHOOK_EVENTS_ZH, WEBHOOK_STATUS_ZH, time_left)
from web.pages.site import NOTICES_TOPIC, UNITS_TOPIC, Site
from web.pages.streams import event_stream, sse

UNIT_ROLES = frozenset({Role.UNIT_STAFF})


# Where each row's time left goes in the rows made once: NUL, which no stored text holds
# (web/inputs.py refuses it, PostgreSQL cannot store it).
_SLOT = "\x00"


def news_tags(news: dict[str, list[str]], number: str) -> Markup:
    """A row's tags for the unit's unread notices about its ticket (市民补充, 督办, 重办): the
    news that otherwise is only on the ticket's timeline, or sorted far down by a fresh deadline."""
    return Markup("").join(Markup(' <span class="tag danger news" data-news="{}">{}</span>').format(
        kind, NOTICE_KINDS_ZH.get(kind, kind)) for kind in news.get(number, ()))


@dataclass(frozen=True)
class InboxRows:
    """The inbox table's rows, made once per cached page of lines, each row's time left
    (剩 3 小时, 超期 5 分钟) and its news tags (read per request: a notice is marked read
    without a ticket event) written in per request: a Jinja loop over 50 rows of some 25
    lookups each was most of the page's rendering."""
    parts: list[str]                       # the text between the slots
    slots: list[tuple[str, Any]]           # each slot's ("due", deadline) or ("news", ticket number)

    @property
    def deadlines(self) -> list[dt.datetime | None]:
        return [value for what, value in self.slots if what == "due"]

    @classmethod
    def made(cls, render: Callable[[dict[str, Any]], str], context: dict[str, Any]) -> InboxRows | None:
        slots: list[tuple[str, Any]] = []

        def slot(deadline: dt.datetime | None, _now: Any) -> Markup:
            slots.append(("due", deadline))
            return Markup(_SLOT)

        def news(number: str) -> Markup:
            slots.append(("news", number))
            return Markup(_SLOT)

        parts = render({**context, "time_left": slot, "news": news}).split(_SLOT)
        return cls(parts, slots) if len(parts) == len(slots) + 1 else None

    def html(self, now: dt.datetime, news: dict[str, list[str]] | None = None) -> Markup:
        out = [self.parts[0]]
        for (what, value), part in zip(self.slots, self.parts[1:]):
            out += [escape(time_left(value, now)) if what == "due" else news_tags(news or {}, value), part]
        return Markup("".join(out))


@dataclass(frozen=True)
class RenderedRows:
    """The rows rendered whole for each request, as InboxRows' stand-in."""
    render: Callable[[dict[str, Any]], str]
    context: dict[str, Any]

    def html(self, now: dt.datetime, news: dict[str, list[str]] | None = None) -> Markup:
        return Markup(self.render({**self.context, "now": now, "news": lambda number: news_tags(news or {}, number)}))


def inbox_lines(session: Session, unit_id: int, page: int = 1, *, now: dt.datetime | None = None,
                unit_names: dict[int, str] | None = None, classes: dict[str, DeadlineClass] | None = None,
                render: Callable[[dict[str, Any]], str] | None = None, show: str | None = None) -> dict[str, Any]:
    """One page of the inbox (its own open tickets and the parts it owes, merged by deadline),
    the counts of all of it up to COUNT_LIMIT, what it resolved lately and the parts it answered
    lately (最近答复: an answered part leaves the lines): what changes only
    with a ticket (and the counts' 超期 with the minute), so the figures cache keeps it; with
    `render` (the rows' template), the rows made once (InboxRows)."""
    now = now or utcnow()
    counts = unit_inbox.counts(session, unit_id, now)
    show = show if show in unit_inbox.SHOWN else None
    pages = max(1, -(-getattr(counts, show or "total").value // unit_inbox.PAGE_SIZE))
    page = min(max(1, page), pages)
    lines = unit_inbox.page(session, unit_id, now, offset=(page - 1) * unit_inbox.PAGE_SIZE, show=show)
    rows = None
    if render is not None:
        rows = InboxRows.made(render, {"inbox": lines, "unit_names": unit_names or {}, "deadline_classes": classes or {},
                                       "part_roles": PART_ROLES_ZH, "part_status": PART_STATUS_ZH,
                                       "inbox_states": INBOX_STATES_ZH})
    return {"inbox": lines, "inbox_rows": rows, "recent": unit_inbox.recent(session, unit_id),
            "answered": unit_inbox.answered(session, unit_id), "page": page,
            "pages": pages, "counts": counts, "show": show}


def inbox_context(session: Session, unit_id: int, unit_names: dict[int, str],
                  classes: dict[str, DeadlineClass] | None = None, page: int = 1, *,
                  with_lines: bool = True) -> dict[str, Any]:
    """The inbox page's context: its lines (inbox_lines(); without them when `with_lines` is
    false, for a caller that has them from the cache), the unit's notices and its webhook's last deliveries. `unit_names`: every unit's name by
    id (the lead unit of a part, the sub-unit a ticket was forwarded to); `classes`: the
    catalogue's deadline classes, to mark a ticket dispatched under one."""
    hook = webhooks.webhook_of(session, unit_id)
    # The lines as they are: the template reads some 25 things of each, and of a dict each
    # costs Jinja an AttributeError first. Names and classes are looked up as shown.
    return {**(inbox_lines(session, unit_id, page) if with_lines else {}),
            "unit_names": unit_names, "deadline_classes": classes or {},
            **notices_context(session, unit_id),
            "part_roles": PART_ROLES_ZH, "part_status": PART_STATUS_ZH, "inbox_states": INBOX_STATES_ZH,
            # The unit's own system: where its events go and how the last ones fared (no secret).
            "webhook_url": hook.url if hook else None,
            "deliveries": webhooks.deliveries_of(session, unit_id, limit=DELIVERIES_SHOWN) if hook else [],
            "delivery_status": WEBHOOK_STATUS_ZH, "delivery_events": WEBHOOK_EVENTS_ZH}


NOTICES_SHOWN = 20
DELIVERIES_SHOWN = 10


def notices_context(session: Session, unit_id: int) -> dict[str, Any]:
    latest = notices.latest(session, unit_id, shown=NOTICES_SHOWN)
    return {"notices": latest.notices, "unread": latest.unread, "notice_kinds": NOTICE_KINDS_ZH,
            "part_answered": PART_ANSWERED_ZH}


def _page_asked(request: Request) -> int:
    raw = request.query_params.get("page", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1


def _show_asked(request: Request) -> str | None:
    """?show=new|near|overdue: the inbox's lines one of its counts counts (the counts link here)."""
    show = request.query_params.get("show", "")
    return show if show in unit_inbox.SHOWN else None


def _inbox_reads(request: Request, user: StaffIdentity, session: Session) -> tuple[tuple[int, int], dict[str, Any]]:
    """The inbox's reads but its lines, and the change marker the lines are cached under:
    the notices (marked read without a ticket event) and deliveries are read every time.
    In the session that checks the staff session (staff_only's `reads`)."""
    services = request.app.state.services
    context = inbox_context(session, user.unit_id, services.units.names(session), services.deadline_classes(),
                            with_lines=False)
    # A retired unit's staff are told so, not shown an inbox as if work still came.
    context["unit_retired"] = user.unit_id in services.units.retired(session)
    return queries.figures_marker(session), context


async def _with_lines(site: Site, unit_id: int, page: int, show: str | None, changes: tuple[int, int],
                      context: dict[str, Any]) -> dict[str, Any]:
    """`context` and the inbox's lines, from the process's figures cache at the marker
    `changes` read with the rest: the page and its rows alone share them."""
    rows = site.templates.get_template("_inbox_rows.html").render
    context |= await site.figures.get(("inbox", unit_id, page, show), changes, lambda now: site.services.read(
        lambda session: inbox_lines(session, unit_id, page, now=now, unit_names=context["unit_names"],
                                    classes=context["deadline_classes"], render=rows, show=show)))
    if context["inbox_rows"] is None:   # a slot in a text: the rows rendered for this request
        context["inbox_rows"] = RenderedRows(rows, context)
    numbers = [line.number for line in context["inbox"]]
    context["news"] = await site.services.read(lambda s: notices.unread_news(s, unit_id, numbers)) if numbers else {}
    return context


async def inbox(request: Request) -> Response:
    site: Site = request.app.state.site
    user = request.state.user
    page, show = _page_asked(request), _show_asked(request)
    changes, context = request.state.reads or await site.services.read(lambda s: _inbox_reads(request, user, s))
    context = await _with_lines(site, user.unit_id, page, show, changes, context)
    context["done"] = request.query_params.get("done")
    context["shown_label"] = INBOX_SHOWN_ZH.get(show or "", "")
    return site.render(request, "unit.html", context)


def _rows_reads(request: Request, user: StaffIdentity, session: Session) -> tuple[tuple[int, int], dict[str, Any]]:
    """What the rows alone read besides their lines: the change marker and the units' names."""
    services = request.app.state.services
    return queries.figures_marker(session), {"unit_names": services.units.names(session),
                                             "deadline_classes": services.deadline_classes(),
                                             "part_roles": PART_ROLES_ZH, "part_status": PART_STATUS_ZH,
                                             "inbox_states": INBOX_STATES_ZH}


async def rows_panel(request: Request) -> Response:
    """The inbox's table rows and pager alone, at the page and filter asked (?page=, ?show=),
    fetched again by the page as its counts are. Always the signed-in unit's own lines: the
    unit comes from the staff session, never from the address."""
    site: Site = request.app.state.site
    user = request.state.user
    page, show = _page_asked(request), _show_asked(request)
    changes, context = request.state.reads or await site.services.read(lambda s: _rows_reads(request, user, s))
    context = await _with_lines(site, user.unit_id, page, show, changes, context)
    return site.render(request, "_inbox_list.html", context)


async def notices_panel(request: Request) -> Response:
    """The notices list alone, fetched again by the page when the stream says something new came."""
    site: Site = request.app.state.site
    user = request.state.user
    context = await site.services.run(lambda s: notices_context(s, user.unit_id))
    return site.render(request, "unit_notices.html", context)


async def counts_panel(request: Request) -> Response:
    """The inbox's counts alone (待办, 待签收, 临期, 超期), fetched again by the page as the
    notices are: when the stream says a ticket changed or the unit was told something."""
    site: Site = request.app.state.site
    user = request.state.user
    counts = await site.services.read(lambda s: unit_inbox.counts(s, user.unit_id, utcnow()))
    return site.render(request, "_inbox_counts.html", {"counts": counts, "show": _show_asked(request)})


async def notices_events(request: Request) -> Response:
    """The inbox's stream: "notices" when a unit was told something new, "tickets" when a
    ticket of this unit's changed (its counts and rows may have), or a change too big to say.
    Which ticket is not said: the page asks for its own unit's counts and rows."""
    site: Site = request.app.state.site
    unit_id = request.state.user.unit_id

    def encode(topic: str, message: Any) -> str:
        if topic == NOTICES_TOPIC:
            return sse("notices", {}) if message.for_unit(unit_id) else ""
        return sse("tickets", {}) if message is None or unit_id in message else ""

    return event_stream(site.hub, [NOTICES_TOPIC, UNITS_TOPIC], encode, hello=sse("hello", {}),
                        alive=stream_alive(request))


async def mark_read(request: Request) -> Response:
    """标为已读: one notice (its id in the form) or, without one, all of the unit's; then the
    inbox again, or, asked by the page's script (header X-Notices-Panel), the notices alone."""
    site: Site = request.app.state.site
    user = request.state.user
    ids = notices_asked(request.state.form)
    await site.services.run(lambda s: notices.mark_read(s, user.unit_id, ids))
    if request.headers.get("x-notices-panel"):
        # The page's script (unit.js) marks it in place: the notices alone, nothing reloaded.
        context = await site.services.read(lambda s: notices_context(s, user.unit_id))
        return site.render(request, "unit_notices.html", context)
    return RedirectResponse("/unit#notices", status_code=303)


routes = [Route("/unit", staff_only(inbox, UNIT_ROLES, reads=_inbox_reads), methods=["GET"]),
          Route("/unit/counts", staff_only(counts_panel, UNIT_ROLES), methods=["GET"]),
          Route("/unit/rows", staff_only(rows_panel, UNIT_ROLES, reads=_rows_reads), methods=["GET"]),
          Route("/unit/notices", staff_only(notices_panel, UNIT_ROLES), methods=["GET"]),
          Route("/unit/notices/events", staff_only(notices_events, UNIT_ROLES), methods=["GET"]),
          Route("/unit/notices/read", staff_only(mark_read, UNIT_ROLES), methods=["POST"])]
