"""The routing rules page: supervisors see every rule the router applies, add a phrase ->
unit rule and remove one; the change applies to the next ticket, no restart (the router
lives in the one `hotline serve` process and is refreshed after each change)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dispatch import routing_rules
from dispatch.actors import SUPERVISING_ROLES
from dispatch.errors import DispatchError
from dispatch.models import Unit
from web import config_changes
from web.auth import staff_only
from web.errors import status_of
from web.messages import describe
from web.pages.labels import RULES_DONE_ZH
from web.pages.site import Site



def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


async def page(request: Request, *, error: str | None = None, status: int = 200,
               values: dict[str, str] | None = None) -> Response:
    site = _site(request)

    def read(session: Session):  # type: ignore[no-untyped-def]
        units = session.execute(select(Unit.code, Unit.name).where(Unit.active.is_(True))
                                .order_by(Unit.kind, Unit.code)).all()
        return routing_rules.listing(session, site.services.city), units

    (active, from_file, removed), units = await site.services.run(read)
    return site.render(request, "rules.html", {
        "active": active, "from_file": from_file, "removed": removed, "units": units, "error": error,
        "values": values or {}, "done": RULES_DONE_ZH.get(request.query_params.get("done", ""))}, status)


async def add(request: Request) -> Response:
    site, user, form = _site(request), request.state.user, request.state.form
    values = {name: str(form.get(name) or "") for name in ("phrases", "unit", "note")}
    try:
        await site.services.run(lambda s: routing_rules.add_rule(s, values["phrases"], values["unit"], user.actor,
                                                                 note=values["note"]))
    except DispatchError as exc:
        return await page(request, error=describe(exc), status=status_of(exc), values=values)
    await site.services.refresh_rules()
    config_changes.tell(site.hub, config_changes.RULES)
    return RedirectResponse("/supervisor/rules?done=added", status_code=303)


async def remove(request: Request) -> Response:
    site, user = _site(request), request.state.user
    rule_id = int(request.path_params["rule_id"])
    try:
        await site.services.run(lambda s: routing_rules.remove_rule(s, rule_id, user.actor))
    except DispatchError as exc:
        return await page(request, error=describe(exc), status=status_of(exc))
    await site.services.refresh_rules()
    config_changes.tell(site.hub, config_changes.RULES)
    return RedirectResponse("/supervisor/rules?done=removed", status_code=303)


routes = [
    Route("/supervisor/rules", staff_only(page, SUPERVISING_ROLES), methods=["GET"]),
    Route("/supervisor/rules", staff_only(add, SUPERVISING_ROLES), methods=["POST"]),
    Route("/supervisor/rules/{rule_id:id}/remove", staff_only(remove, SUPERVISING_ROLES), methods=["POST"]),
]
