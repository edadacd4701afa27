"""The staff search (/search): by number, phone or words, filtered by state, current unit,
channel, day of receipt and 超期 / 临期 (as the unit inbox has them), 50 a page, and the whole result as CSV (/search.csv). Unit
staff find only what is or was with their unit, a confidential ticket's title stays
hidden from them, and one that has left their unit shows its title with the citizen masked
(staff_view), on the page as in the file."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dispatch import queries, staff_activity, unit_inbox
from dispatch.clock import utcnow
from dispatch.errors import NotFound, Reason
from dispatch.models import Ticket
from dispatch.queries import TicketFilter
from dispatch.reports import Period
from dispatch.staff_view import masked_titles
from dispatch.states import UNIT_STATES, State
from dispatch.units import unit_by_code
from dispatch.vocabulary import Channel, Role
from web.api_auth import session_or_bearer
from web.auth import StaffIdentity, client_key, staff_only
from web.errors import BadRequest
from web.inputs import parse_day
from web.pages.labels import (CONFIDENTIAL_TITLE, SEARCH_CSV_COLUMNS, SEARCH_CSV_CUT_ZH, SEARCH_CSV_LIMIT_ZH, SEARCH_DUE_ZH,
                              label, local_time)
from web.pages.periods import today_local
from web.pages.site import Site
from web.pages.spreadsheet import csv_response

log = logging.getLogger(__name__)
ALL_STAFF = frozenset(Role)
PAGE_SIZE = 50
EXPORT_LIMIT = 10_000   # rows in one download; narrow the filters for more
# Said in the file's headers when it was cut at EXPORT_LIMIT (its value: the limit), for scripts;
# people read the file's last line.
CUT_HEADER = "X-Hotline-Export-Truncated"
FILTER_FIELDS = ("q", "state", "unit", "channel", "since", "until", "due")
# Sent by a search box that goes straight to a ticket typed by its exact number (the
# console's, the search page's): a link or a script asking for the list still gets the list.
OPEN_EXACT = "open"


@dataclass(frozen=True)
class Search:
    wanted: TicketFilter
    params: dict[str, str]   # the filters as asked, for the form, paging links and the CSV link
    page: int


def _own_unit(user: StaffIdentity) -> int | None:
    return user.unit_id if user.role is Role.UNIT_STAFF else None


def parse_search(session: Session, request: Request, user: StaffIdentity) -> Search:
    """The query string as a filter; a bad value is a 400 in Chinese, not an empty result."""
    query = request.query_params
    params = {k: query.get(k, "").strip()[:100] for k in FILTER_FIELDS}
    if _own_unit(user) is not None:
        params["unit"] = ""   # unit staff find their own unit's tickets whatever they ask
    state = params["state"] or None
    if state is not None and state not in {s.value for s in State}:
        raise BadRequest("state", Reason.BAD_STATE_CHOICE, value=state, state_names=[s.value for s in State])
    channel = params["channel"] or None
    if channel is not None and channel not in {c.value for c in Channel}:
        raise BadRequest("channel", Reason.BAD_CHANNEL, value=channel)
    due = params["due"] or None
    if due is not None and due not in unit_inbox.DUE:
        raise BadRequest("due", Reason.BAD_DUE, value=due)
    unit_id = None
    if params["unit"]:
        try:
            unit_id = unit_by_code(session, params["unit"]).id
        except NotFound:
            raise BadRequest("unit", Reason.UNKNOWN_UNIT, code=params["unit"]) from None
    period = None
    if params["since"] or params["until"]:
        until = parse_day("until", params["until"]) if params["until"] else today_local()
        since = parse_day("since", params["since"]) if params["since"] else until - dt.timedelta(days=365)
        if since > until:
            raise BadRequest("since", Reason.PERIOD_REVERSED)
        period = Period(since, until)
    page_text = query.get("page", "1")
    page = int(page_text) if page_text.isascii() and page_text.isdigit() and 0 < len(page_text) < 7 else 1
    return Search(TicketFilter(params["q"], state, unit_id, channel, period, due=due, at=utcnow() if due else None),
                  {k: v for k, v in params.items() if v}, max(1, page))


def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


async def search(request: Request) -> Response:
    site, user = _site(request), request.state.user
    own = _own_unit(user)

    def work(session: Session) -> dict[str, Any]:
        asked = parse_search(session, request, user)
        found = None
        if not asked.wanted.empty:
            # brief: the page shows a few columns of each (its template's), read as rows.
            found = queries.staff_tickets(session, visible_to_unit=own, wanted=asked.wanted,
                                          page=asked.page, page_size=PAGE_SIZE, brief=True)
            # Past the end: the last counted page. Past the count (1000+), pages go on while
            # rows follow, as the staff API's next_page.
            if asked.page > found.pages and not found.tickets:
                found = queries.staff_tickets(session, visible_to_unit=own, wanted=asked.wanted,
                                              page=found.pages, page_size=PAGE_SIZE, brief=True)
        # Names of every unit, retired ones too (marked): a ticket keeps the unit it had. The
        # filter offers active units alone, the ones new work goes to.
        units, cache = site.services.units.active(session), site.services.units
        masked = masked_titles(session, user.actor, [t.id for t in found.tickets]) if found is not None else {}
        return {"asked": asked, "found": found, "unit_names": cache.names(session), "retired_units": cache.retired(session),
                "masked": masked, "units": [] if own is not None else [(u.code, u.name) for u in units]}

    # In one transaction, not read()'s statement-by-statement commits: a search by words sets
    # its settings (work_mem, no JIT, no parallel workers) for the transaction, and under
    # read() they lasted only for the statement that set them.
    context = await site.services.run(work)
    params = context["asked"].params
    if request.query_params.get(OPEN_EXACT) and (number := _exact_number(context["found"], params)):
        return RedirectResponse(f"/tickets/{number}", status_code=303)
    context.update(q=params.get("q", ""), params=params, query=urlencode(params), due_choices=SEARCH_DUE_ZH,
                   states=[s.value for s in State], channels=[c.value for c in Channel],
                   open_states={s.value for s in UNIT_STATES},   # held by a unit: its time left shown
                   hide_confidential=own is not None,
                   csv_limit=SEARCH_CSV_LIMIT_ZH.format(limit=EXPORT_LIMIT), export_limit=EXPORT_LIMIT,
                   page_link=lambda n: "/search?" + urlencode({**params, "page": n}))
    return site.render(request, "search.html", context)


def _exact_number(found: queries.TicketPage | None, params: dict[str, str]) -> str | None:
    """The one ticket found, when its number is what was typed and nothing else narrowed
    the search (only tickets the user may see are found)."""
    if found is None or set(params) != {"q"} or found.total != 1 or len(found.tickets) != 1:
        return None
    number = found.tickets[0].number
    return number if number == params["q"] else None


async def search_csv(request: Request) -> Response:
    site, user, client = _site(request), request.state.user, client_key(request)

    def work(session: Session) -> tuple[Search, list[Ticket], dict[int, str], dict[int, str], bool]:
        asked = parse_search(session, request, user)
        # One more than the limit: whether the file is the whole result, or was cut.
        tickets = queries.filtered_tickets(session, asked.wanted, visible_to_unit=_own_unit(user),
                                           limit=EXPORT_LIMIT + 1)
        cut = len(tickets) > EXPORT_LIMIT
        tickets = tickets[:EXPORT_LIMIT]
        masked = masked_titles(session, user.actor, [t.id for t in tickets])
        # In the same transaction as the read: no file leaves without its line in the log.
        staff_activity.record(session, staff_activity.ActivityKind.EXPORT, user.actor, target="search.csv",
                              address=client, detail={**{k: v for k, v in asked.params.items() if v and k != "q"},
                                                      "rows": len(tickets), **({"cut": True} if cut else {})})
        return asked, tickets, site.services.units.names(session), masked, cut

    asked, tickets, unit_names, masked, cut = await site.services.run(work)
    return export_tickets(user, asked, tickets, unit_names, masked, cut=cut)


def export_tickets(user: StaffIdentity, asked: Search, tickets: list[Ticket], unit_names: dict[int, str],
                   masked: dict[int, str] | None = None, *, cut: bool = False) -> Response:
    """The one place a search result leaves as a file (search_csv records it in the staff
    activity log). No phones, names or bodies: the file travels further than the page.
    `masked`: titles shown masked (masked_titles). `cut`: the result had more than the file
    holds, said in its last line and a header."""
    masked = masked or {}
    hide = user.role is Role.UNIT_STAFF
    log.info("search exported", extra={"event": "search_export", "user": user.username,
                                       "rows": len(tickets), "filters": asked.params})
    rows = [[t.number, local_time(t.received_at), label(t.channel), label(t.request_type), label(t.urgency),
             label(t.state), unit_names.get(t.unit_id, "") if t.unit_id else "", t.category or "",
             CONFIDENTIAL_TITLE if hide and t.confidential else masked.get(t.id, t.title),
             local_time(t.deadline) if t.deadline else ""]
            for t in tickets]
    if cut:
        rows.append([SEARCH_CSV_CUT_ZH.format(limit=EXPORT_LIMIT)] + [""] * (len(SEARCH_CSV_COLUMNS) - 1))
    response = csv_response(f"tickets-{today_local().isoformat()}.csv", SEARCH_CSV_COLUMNS, rows)
    if cut:
        response.headers[CUT_HEADER] = str(EXPORT_LIMIT)
    return response


routes = [
    Route("/search", staff_only(search, ALL_STAFF), methods=["GET"]),
    # A staff API token reads it too (a unit's or the city's scripts), with the same roles.
    Route("/search.csv", session_or_bearer(search_csv, ALL_STAFF), methods=["GET"]),
]
