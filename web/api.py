"""The JSON API (v1): intake, the public view of a ticket, and the figures."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dispatch import calendar_days, catalogue_figures, limits, queries, reports
from dispatch.clock import MAX_DAY, MIN_DAY, api_time, local_date, utcnow
from dispatch.errors import NotFound, Reason
from dispatch.intake import IntakeRequest
from dispatch.intake_many import Submission
from dispatch.public import public_view
from dispatch.vocabulary import Channel, Urgency, parse_request_type
from web.auth import client_key
from web.body_limit import read_body
from web.charsets import utf8_json
from web.errors import BadRequest
from web.idempotent import once
from web.inputs import parse_day, refuse_unstorable
from web.messages import REPEAT_JOINED
from web.services import Services

MAX_JSON_BYTES = 256 * 1024


async def read_json_object(request: Request) -> dict[str, Any]:
    return parse_json_object(await read_body(request, MAX_JSON_BYTES))


def parse_json_object(raw: bytes) -> dict[str, Any]:
    utf8_json(raw)
    try:
        data = json.loads(raw or b"null")
    except (ValueError, RecursionError):  # RecursionError: nested thousands deep
        raise BadRequest("body", Reason.NOT_JSON) from None
    if not isinstance(data, dict):
        raise BadRequest("body", Reason.NOT_JSON_OBJECT)
    refuse_unstorable(data.items())
    return data


def _text(data: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise BadRequest(name, Reason.REQUIRED)
        return None
    if not isinstance(value, str):
        raise BadRequest(name, Reason.NOT_TEXT)
    return value


def intake_request_from_json(data: dict[str, Any], channel: Channel) -> IntakeRequest:
    confidential = data.get("confidential", False)
    if not isinstance(confidential, bool):
        raise BadRequest("confidential", Reason.NOT_BOOLEAN)
    try:
        request_type = parse_request_type(_text(data, "type"))
    except ValueError:
        raise BadRequest("type", Reason.BAD_REQUEST_TYPE) from None
    try:
        urgency = Urgency(_text(data, "urgency") or Urgency.NORMAL.value)
    except ValueError:
        raise BadRequest("urgency", Reason.BAD_URGENCY) from None
    return IntakeRequest(channel=channel, body=_text(data, "body", required=True) or "",
                         title=_text(data, "title"), phone=_text(data, "phone"), name=_text(data, "name"),
                         location=_text(data, "location"), request_type=request_type, urgency=urgency,
                         confidential=confidential)


async def create_ticket(request: Request) -> Response:
    services: Services = request.app.state.services
    data = await read_json_object(request)
    client = client_key(request)
    # A key scoped to the address: a retry from elsewhere files anew, but no one reads
    # another address's answer (its query code) by guessing a key.
    return await once(request, services, lambda session: f"api:{client}", data,
                      lambda: _create_ticket(request, services, data))


async def _create_ticket(request: Request, services: Services, data: dict[str, Any]) -> JSONResponse:
    intake_request = intake_request_from_json(data, Channel.WEB)
    proposal = await services.propose(intake_request)
    # Written with the intakes that came meanwhile (web/intake_batch.py, dispatch/intake_many.py).
    result = await services.intake_batch.run(Submission(intake_request, proposal, client_key(request)))
    if result.repeat_of_open_ticket:
        # Told that it was joined, never which ticket nor its code: whoever knows a citizen's
        # phone number and words could otherwise read their case. The code goes by SMS to the
        # phone on file (outbox kind repeat_code).
        return JSONResponse({"repeat_of_open_ticket": True, "message": REPEAT_JOINED})
    ticket = result.ticket
    return JSONResponse({"number": ticket.number, "query_code": ticket.query_code, "state": ticket.state,
                         "deadline": api_time(ticket.deadline) if ticket.deadline else None,
                         "received_at": api_time(ticket.received_at), "repeat_of_open_ticket": False},
                        status_code=201 if result.created else 200)


async def show_ticket(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    number = request.path_params["number"]
    code = request.query_params.get("code", "")
    client = client_key(request)

    def work(session: Session) -> dict[str, Any] | None:
        ticket = limits.limited_lookup(session, services.settings.limits, number, code, client)
        return None if ticket is None else public_view(session, ticket)

    view = await services.run(work)  # a failure is counted and committed before the 404
    if view is None:
        raise NotFound(Reason.LOOKUP_FAILED)
    return JSONResponse(view)


def _date_param(request: Request, name: str, default: dt.date) -> dt.date:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    return parse_day(name, raw)


def period_from_query(request: Request) -> reports.Period:
    today = local_date(utcnow())
    until = _date_param(request, "until", today)
    since = _date_param(request, "since", max(until - dt.timedelta(days=29), MIN_DAY))
    if since > until:
        raise BadRequest("since", Reason.PERIOD_REVERSED)
    return reports.Period(since=since, until=until)


def level_param(request: Request) -> int | None:
    """`level=1|2|3`: the figures per dispatch catalogue level as well."""
    raw = request.query_params.get("level")
    if raw is None or raw == "":
        return None
    if raw not in ("1", "2", "3"):
        raise BadRequest("level", Reason.BAD_LEVEL, value=raw[:10])
    return int(raw)


async def stats(request: Request) -> Response:
    services: Services = request.app.state.services
    period = period_from_query(request)
    level = level_param(request)
    policy = services.call_policy()

    def work(session: Session, now: dt.datetime) -> bytes:
        figures = reports.public_summary(session, period, now=now, calls=policy)
        if level is not None:
            figures["catalogue"] = {"level": level, "groups": [
                g.as_dict() for g in catalogue_figures.figures_by_level(session, period, level)]}
        return JSONResponse(figures).body

    # The same body for everyone asking the same period at the same marker: from the
    # process's figures cache (web/pages/figures_cache.py).
    changes = await services.read(queries.figures_marker)
    body = await request.app.state.site.figures.get(
        ("stats", period, level, policy), changes, lambda now: services.read(lambda session: work(session, now)))
    return Response(body, media_type=JSONResponse.media_type)


def holidays_json(view: calendar_days.YearView) -> dict[str, Any]:
    """A year's calendar as the API and `hotline holidays list --json` give it (no staff names)."""
    # `missing`: the festivals not entered for a year the package does not know, whose days
    # count as ordinary weekdays meanwhile (the page warns of the same).
    return {"year": view.year, "basis": view.coverage.basis, "official": view.coverage.official,
            "missing": list(view.coverage.missing), "days": [{"date": d.day.isoformat(), "kind": d.kind, "name": d.name,
                      "source": "official" if d.set_by is None else "entered"} for d in view.days]}


def year_param(request: Request, today: dt.date) -> int:
    raw = request.query_params.get("year") or str(today.year)
    if not (raw.isascii() and raw.isdigit()):
        raise BadRequest("year", Reason.NOT_INTEGER)
    if len(raw) > 4 or not MIN_DAY.year <= int(raw) <= MAX_DAY.year:
        raise BadRequest("year", Reason.OUT_OF_RANGE, low=MIN_DAY.year, high=MAX_DAY.year)
    return int(raw)


async def holidays(request: Request) -> JSONResponse:
    """Public: holidays are public, and a unit's system counts its own deadlines with them."""
    services: Services = request.app.state.services
    year = year_param(request, local_date(utcnow()))
    view = await services.run(lambda session: calendar_days.year_view(session, year))
    return JSONResponse(holidays_json(view))


routes = [
    Route("/api/v1/holidays", holidays, methods=["GET"]),
    Route("/api/v1/tickets", create_ticket, methods=["POST"]),
    Route("/api/v1/tickets/{number}", show_ticket, methods=["GET"]),
    Route("/api/v1/stats", stats, methods=["GET"]),
]
