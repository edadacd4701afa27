"""The staff API (JSON, bearer tokens): the tickets a user may see, one ticket with its
timeline and allowed actions, its similar open tickets, and every staff action by name
(dispatch.actions). Also the public list of units. Routes stay thin: dispatch decides."""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dispatch import actions, attachments, media_fetches, notices, parts, queries, staff_notices
from dispatch.actors import DISPATCH_ROLES, require_role
from dispatch.errors import InvalidInput, Reason
from dispatch.models import Ticket, Unit
from dispatch.moments import parse_moment
from dispatch.numbers import whole_number
from dispatch.paging import COUNT_LIMIT, Keyset, keyset_of
from dispatch.staff_detail import similar_for, ticket_detail
from dispatch.staff_view import left_of, staff_summary
from dispatch.states import State
from dispatch.vocabulary import LABELS_ZH, Role
from web.api import MAX_JSON_BYTES, parse_json_object
from web.api_auth import bearer_only
from web.auth import StaffIdentity
from web.body_limit import read_body
from web.pages.attachments import asked_attachment, attachment_file, attachment_thumbnail
from web.pages.labels import PART_STATUS_ZH
from web.pages.staff_notices import settled_of
from web.errors import BadRequest
from web.services import Services

log = logging.getLogger(__name__)
PAGE_SIZE = 50


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def _units_by_id(session: Session) -> dict[int, Unit]:
    return {u.id: u for u in session.scalars(select(Unit))}


async def list_units(request: Request) -> Response:
    """Public: the units are named on the public pages anyway, and a unit's system needs
    the codes before it has a token."""

    # ?all=1: retired units too, so that a unit's system can name the unit an older ticket had;
    # without it, the units new work can go to.
    every = request.query_params.get("all") in ("1", "true")

    def work(session: Session) -> list[dict[str, Any]]:
        everyone = list(session.scalars(select(Unit).order_by(Unit.active.desc(), Unit.kind, Unit.name)))
        codes = {u.id: u.code for u in everyone}
        return [{"code": u.code, "name": u.name, "kind": u.kind,
                 "parent": codes.get(u.parent_id) if u.parent_id else None, "active": u.active}
                for u in (everyone if every else queries.active_units(session))]

    return JSONResponse(await _services(request).run(work))


def _list_filters(request: Request) -> tuple[str | None, str | None, str, int]:
    params = request.query_params
    state = params.get("state") or None
    if state is not None and state not in {s.value for s in State}:
        raise BadRequest("state", Reason.BAD_STATE, value=state, states=[s.value for s in State])
    page_text = params.get("page") or "1"
    page = whole_number(page_text)
    if not page:
        raise BadRequest("page", Reason.BAD_PAGE, value=page_text[:20])
    return state, params.get("unit") or None, (params.get("q") or "").strip()[:100], page


def _cursor(request: Request, kind: str, *, timed: bool) -> Keyset | None:
    """`cursor`: a list's `next_cursor`, read instead of `page` (keyset paging)."""
    given = request.query_params.get("cursor")
    if not given:
        return None
    found = keyset_of(kind, given, timed=timed)
    if found is None:
        raise BadRequest("cursor", Reason.BAD_CURSOR)
    return found


def _paged(found: Any, next_cursor: str | None) -> dict[str, Any]:
    """A page's fields: a page read after a cursor has no number and counts nothing (null)."""
    if found.keyset:
        return {"page": None, "pages": None, "total": None, "more": None, "next_page": None,
                "next_cursor": next_cursor}
    return {"page": found.page, "pages": found.pages, "total": found.total, "more": found.more,
            "next_page": found.next_page, "next_cursor": next_cursor}


async def list_tickets(request: Request) -> Response:
    user: StaffIdentity = request.state.user
    state, unit_code, text, page = _list_filters(request)
    after = _cursor(request, queries.TICKETS_CURSOR, timed=True)
    since_text = request.query_params.get("updated_since")
    since = parse_moment("updated_since", since_text) if since_text else None

    def work(session: Session) -> dict[str, Any]:
        units = _units_by_id(session)
        unit_id = None
        if unit_code is not None:
            unit_id = next((u.id for u in units.values() if u.code == unit_code), None)
            if unit_id is None:
                raise BadRequest("unit", Reason.UNKNOWN_UNIT, code=unit_code)
        own = user.unit_id if user.role is Role.UNIT_STAFF else None
        wanted = queries.TicketFilter(text=text, state=state, unit_id=unit_id, changed_since=since)
        found = queries.staff_tickets(session, visible_to_unit=own, wanted=wanted, page=page, page_size=PAGE_SIZE,
                                      after=after)
        left = left_of(session, user.actor, [t.id for t in found.tickets])
        return {"tickets": [staff_summary(user.actor, t, units, left=t.id in left) for t in found.tickets],
                **_paged(found, found.next_cursor)}

    return JSONResponse(await _services(request).run(work))


async def list_notices(request: Request) -> Response:
    """What units were told (临期, 超期, 督办, digest), newest first: unit staff see their unit's.
    ?mine=1: a supervisor's or admin's own notices instead (dispatch/staff_notices.py)."""
    user: StaffIdentity = request.state.user
    _, _, _, page = _list_filters(request)
    unread = request.query_params.get("unread") in ("1", "true", "yes")
    mine = request.query_params.get("mine") in ("1", "true", "yes")
    after = _cursor(request, notices.NOTICES_CURSOR, timed=False)

    def work(session: Session) -> dict[str, Any]:
        if mine:
            own = staff_notices.listed(session, user.actor, unread_only=unread, page=page, page_size=PAGE_SIZE,
                                       count_limit=COUNT_LIMIT, past_count=True, after=after)
            return {"notices": [{**n.as_dict(), "unit": None, "settled": settled_of(n)} for n in own.items],
                    **_paged(own, notices.next_cursor(own))}
        found = notices.listed(session, unit_id=notices.visible_unit(user.actor), unread_only=unread, page=page,
                               page_size=PAGE_SIZE, count_limit=COUNT_LIMIT, past_count=True, after=after)
        codes = {u.id: u.code for u in _units_by_id(session).values()}
        return {"notices": [{**n.as_dict(), "unit": codes.get(n.unit_id)} for n in found.items],
                **_paged(found, notices.next_cursor(found))}

    return JSONResponse(await _services(request).run(work))


async def show_ticket(request: Request) -> Response:
    user: StaffIdentity = request.state.user
    number = request.path_params["number"]
    services = _services(request)
    return JSONResponse(await services.run(lambda session: ticket_detail(
        session, user.actor, number, repeat_days=services.settings.repeat_proposal_days)))


async def remove_attachment(request: Request) -> Response:
    """删除图片 through the API: `reason` (JSON body or query), `expected_version` optional."""
    user: StaffIdentity = request.state.user
    number, attachment_id = asked_attachment(request)
    body = await read_body(request, MAX_JSON_BYTES)
    params: dict[str, Any] = {**request.query_params, **(parse_json_object(body) if body else {})}

    def work(session: Session) -> dict[str, Any]:
        event = attachments.remove(session, user.actor, number, attachment_id, actions.optional_text(params, "reason"),
                                   expected_version=actions.optional_int(params, "expected_version"))
        ticket = session.get_one(Ticket, event.ticket_id)
        return {"number": ticket.number, "version": ticket.version, "removed": event.data["attachment"],
                "file_name": event.data["name"], "sha256": event.data["sha256"], "reason": event.note}

    result = await _services(request).run(work)
    request.app.state.site.changed()
    log.info("ticket photo removed", extra={"event": "api_detach", "ticket": number, "user": user.username})
    return JSONResponse(result)


async def refetch_media(request: Request) -> Response:
    """重新获取 through the API: `{"fetch_id"}`, a picture message's photo given up (the ticket's
    `media_fetches`), fetched again as the ticket page's button does. The centre's staff only:
    others 403 before the body is read."""
    user: StaffIdentity = request.state.user
    number = request.path_params["number"]
    require_role(user.actor, DISPATCH_ROLES, "fetch a picture message's photo again")
    body = await read_body(request, MAX_JSON_BYTES)
    params: dict[str, Any] = parse_json_object(body) if body else {}

    def work(session: Session) -> dict[str, Any]:
        fetch_id = actions.optional_int(params, "fetch_id", low=1)
        if fetch_id is None:
            raise InvalidInput("fetch_id", Reason.REQUIRED)
        row = media_fetches.fetch_again(session, user.actor, number, fetch_id)
        ticket = session.get_one(Ticket, row.ticket_id)
        fetch = next(f for f in media_fetches.described(session, ticket.id) if f["id"] == row.id)
        return {"number": ticket.number, "version": ticket.version, "fetch": fetch}

    result = await _services(request).run(work)
    request.app.state.site.changed()
    log.info("mms photo fetched again", extra={"event": "api_refetch_media", "ticket": number,
                                               "user": user.username})
    return JSONResponse(result)


async def similar_tickets(request: Request) -> Response:
    user: StaffIdentity = request.state.user
    services = _services(request)
    number = request.path_params["number"]
    found = await services.run(lambda session: similar_for(session, user.actor, number,
                                                           days=services.settings.similar_days,
                                                           places=services.places,
                                                           index=services.similar_index))
    return JSONResponse({"number": number, "similar": found})


async def take_action(request: Request) -> Response:
    user: StaffIdentity = request.state.user
    services = _services(request)
    number, action = request.path_params["number"], request.path_params.get("action", "refuse_override")
    actions.require_action_role(user.actor, action)   # a role that may never act: 403 before its body is read
    raw = await read_body(request, MAX_JSON_BYTES)
    params = parse_json_object(raw) if raw else {}
    context = services.action_context()

    def work(session: Session) -> dict[str, Any]:
        done = actions.perform_action(session, user.actor, number, action, params, context)
        ticket: Ticket = done.ticket
        unit = session.get(Unit, ticket.unit_id) if ticket.unit_id else None
        # A co-handling unit's (or a sub-unit's) step is on its part: the answer says what became
        # of the part beside the ticket, which stays with the lead in the state it was.
        part = None
        if done.part is not None:
            view = parts.part_view(session, done.part).as_dict()
            part = {**view, "status_label": PART_STATUS_ZH[view["status"]]}
        return {"number": ticket.number, "state": ticket.state, "state_label": LABELS_ZH[ticket.state],
                "version": ticket.version, "unit_code": unit.code if unit else None, "part": part}

    result = await services.run(work)
    request.app.state.site.changed()
    log.info("ticket action", extra={"event": f"api_{actions.canonical(action)}", "ticket": number,
                                     "user": user.username})
    return JSONResponse(result)


routes = [
    Route("/api/v1/units", list_units, methods=["GET"]),
    Route("/api/v1/staff/tickets", bearer_only(list_tickets), methods=["GET"]),
    Route("/api/v1/staff/notices", bearer_only(list_notices), methods=["GET"]),
    Route("/api/v1/staff/tickets/{number}", bearer_only(show_ticket), methods=["GET"]),
    Route("/api/v1/staff/tickets/{number}/similar", bearer_only(similar_tickets), methods=["GET"]),
    Route("/api/v1/staff/tickets/{number}/attachments/{attachment_id}", bearer_only(attachment_file), methods=["GET"]),
    Route("/api/v1/staff/tickets/{number}/attachments/{attachment_id}/thumbnail", bearer_only(attachment_thumbnail),
          methods=["GET"]),
    Route("/api/v1/staff/tickets/{number}/attachments/{attachment_id}", bearer_only(remove_attachment),
          methods=["DELETE"]),
    # Before the actions by name: 重新获取 is not one of dispatch.actions (no state change).
    Route(f"/api/v1/staff/tickets/{{number}}/{media_fetches.REFETCH}", bearer_only(refetch_media), methods=["POST"]),
    Route("/api/v1/staff/tickets/{number}/{action}", bearer_only(take_action), methods=["POST"]),
    # The supervisor's refusal of a 先行办结申请 (agreement is the override_parts action).
    Route("/api/v1/staff/tickets/{number}/override-request/refuse", bearer_only(take_action), methods=["POST"]),
]
