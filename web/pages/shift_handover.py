"""交接班 (dispatch/shift_handover.py): the outgoing operator's page lists what they leave
behind and takes their note (交班); every operator sees the notes not yet taken over and
acknowledges one (接班); supervisors read the history. Linked from the header of the
operator's pages; the console says when a note waits."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dispatch import shift_handover
from dispatch.actors import DISPATCH_ROLES, SUPERVISING_ROLES
from dispatch.errors import DispatchError
from dispatch.numbers import whole_number
from web.auth import staff_only
from web.errors import status_of
from web.messages import describe
from web.pages.labels import HANDOVER_DONE_ZH
from web.pages.site import Site

PAGE = "/operator/handover"


def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


async def handover_page(request: Request, *, error: str | None = None, status: int = 200,
                        typed: str | None = None) -> Response:
    """The operator's shift as it stands, the 交班 form, and the notes waiting for 接班."""
    site, user = _site(request), request.state.user
    summary, pending = await site.services.read(
        lambda s: (shift_handover.shift_summary(s, user.actor), shift_handover.pending(s, user.actor)))
    return site.render(request, "shift_handover.html", {
        "summary": summary, "pending": pending, "error": error, "typed": typed or "",
        "done": HANDOVER_DONE_ZH.get(request.query_params.get("done", "")),
        "max_note": shift_handover.MAX_NOTE_CHARS, "listed": shift_handover.LISTED, "me": user.id}, status)


async def hand_over(request: Request) -> Response:
    site, user = _site(request), request.state.user
    # Cut far past the limit: what comes back into the form; the domain refuses the whole.
    typed = str(request.state.form.get("note") or "")[:shift_handover.MAX_NOTE_CHARS * 2]
    try:
        await site.services.run(lambda s: shift_handover.hand_over(s, user.actor, typed))
    except DispatchError as exc:
        return await handover_page(request, error=describe(exc), status=status_of(exc), typed=typed)
    return RedirectResponse(f"{PAGE}?done=handed_over", status_code=303)


async def acknowledge(request: Request) -> Response:
    site, user = _site(request), request.state.user
    handover_id = int(request.path_params["handover_id"])
    try:
        await site.services.run(lambda s: shift_handover.acknowledge(s, user.actor, handover_id))
    except DispatchError as exc:
        return await handover_page(request, error=describe(exc), status=status_of(exc))
    return RedirectResponse(f"{PAGE}?done=taken_over", status_code=303)


async def history_page(request: Request) -> Response:
    """Every handover, newest first, 50 a page, with who took each over."""
    site, user = _site(request), request.state.user
    page = whole_number(request.query_params.get("page", ""), high=999_999) or 1
    found = await site.services.read(lambda s: shift_handover.history(s, user.actor, page))
    context: dict[str, Any] = {"handovers": found}
    return site.render(request, "supervisor_handovers.html", context)


routes = [Route(PAGE, staff_only(handover_page, DISPATCH_ROLES), methods=["GET"]),
          Route(PAGE, staff_only(hand_over, DISPATCH_ROLES), methods=["POST"]),
          Route(f"{PAGE}/{{handover_id:id}}/acknowledge", staff_only(acknowledge, DISPATCH_ROLES), methods=["POST"]),
          Route("/supervisor/handovers", staff_only(history_page, SUPERVISING_ROLES), methods=["GET"])]
