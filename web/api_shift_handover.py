"""The staff API's 交接班 (dispatch/shift_handover.py): the token's user's shift as it stands
and the handovers waiting for 接班; 交班 with a note; 接班 of another operator's note.
Operators, supervisors and admins; anyone else is refused (403) by the domain."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dispatch import shift_handover
from dispatch.errors import NotFound, Reason
from dispatch.numbers import MAX_ID_DIGITS, whole_number
from web.api import MAX_JSON_BYTES, parse_json_object
from web.api_auth import bearer_only
from web.auth import StaffIdentity
from web.body_limit import read_body
from web.services import Services

PATH = "/api/v1/staff/handovers"


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


async def list_pending(request: Request) -> Response:
    """The handovers not yet taken over (newest first) and the user's own shift so far."""
    user: StaffIdentity = request.state.user

    def work(session: Session) -> dict[str, Any]:
        waiting = shift_handover.pending(session, user.actor)
        shift = shift_handover.shift_summary(session, user.actor)
        return {"pending": [h.as_dict() for h in waiting.handovers], "count": waiting.count,
                "shift": shift.as_dict()}

    return JSONResponse(await _services(request).read(work))


async def hand_over(request: Request) -> Response:
    """交班: {"note": "..."}; the counts are those listed at this moment."""
    user: StaffIdentity = request.state.user
    shift_handover.operator_id(user.actor, "hand over a shift")   # a unit's token: 403 before its body is read
    raw = await read_body(request, MAX_JSON_BYTES)
    params = parse_json_object(raw) if raw else {}

    def work(session: Session) -> dict[str, Any]:
        handover = shift_handover.hand_over(session, user.actor, params.get("note"))
        return shift_handover.view(handover).as_dict()

    return JSONResponse(await _services(request).run(work), status_code=201)


async def acknowledge(request: Request) -> Response:
    """接班 of another operator's handover: once (409 after someone else's, naming them)."""
    user: StaffIdentity = request.state.user
    raw = request.path_params["handover_id"]
    handover_id = whole_number(raw, high=10 ** MAX_ID_DIGITS - 1)
    if handover_id is None:
        raise NotFound(Reason.HANDOVER_NOT_FOUND, handover_id=raw[:20])

    def work(session: Session) -> dict[str, Any]:
        handover = shift_handover.acknowledge(session, user.actor, handover_id)
        return shift_handover.view(handover).as_dict()

    return JSONResponse(await _services(request).run(work))


routes = [
    Route(PATH, bearer_only(list_pending), methods=["GET"]),
    Route(PATH, bearer_only(hand_over), methods=["POST"]),
    Route(f"{PATH}/{{handover_id}}/acknowledge", bearer_only(acknowledge), methods=["POST"]),
]
