"""The dispatch catalogue page (派单目录): supervisors see the tree with each entry's unit and
deadline class, search it, change one entry's unit, terms or deadline class (each save is
a new version, in the activity log), and read the versions and the figures per level.
A save applies to the next ticket: the router's copy is reloaded at once."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dispatch import catalogue, catalogue_figures
from dispatch.actors import SUPERVISING_ROLES
from dispatch.catalogue_match import Catalogue
from dispatch.errors import DispatchError
from dispatch.models import Unit
from web import config_changes
from web.auth import staff_only
from web.errors import status_of
from web.messages import describe
from web.pages.labels import CATALOGUE_DONE_ZH
from web.pages.periods import PRESETS, parse_period, today_local
from web.pages.site import Site



def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


def _level(request: Request) -> int:
    raw = request.query_params.get("level", "1")
    return int(raw) if raw in ("1", "2", "3") else 1


async def page(request: Request, *, error: str | None = None, status: int = 200,
               values: dict[str, Any] | None = None, code: str | None = None) -> Response:
    site = _site(request)
    query = (request.query_params.get("q") or "").strip()[:50]
    code = code or (request.query_params.get("code") or "").strip()[:20] or None
    level = _level(request)
    period = parse_period(request, today_local())
    city = site.services.city

    def read(session: Session) -> dict[str, Any]:
        current = Catalogue(catalogue.current_entries(session))
        items = current.search(query, limit=len(current)) if query else list(current.items)
        chosen = current.by_code.get(code) if code else None
        return {"items": items, "chosen": chosen, "total": len(current),
                "history": catalogue.entry_history(session, code) if chosen else [],
                "versions": catalogue.versions(session),
                "units": session.execute(select(Unit.code, Unit.name).where(Unit.active.is_(True))
                                         .order_by(Unit.kind, Unit.code)).all(),
                "unit_names": {u.id: u.name for u in session.scalars(select(Unit))},
                "retired_units": set(session.scalars(select(Unit.id).where(Unit.active.is_(False)))),
                "figures": catalogue_figures.figures_by_level(session, period, level)}

    context = await site.services.run(read)
    classes = city.catalogue.deadline_classes if city.catalogue else {}
    context.update(query=query, level=level, period=period, presets=PRESETS, error=error, classes=classes,
                   values=values, done=CATALOGUE_DONE_ZH.get(request.query_params.get("done", "")))
    return site.render(request, "catalogue.html", context, status)


async def save(request: Request) -> Response:
    site, user, form = _site(request), request.state.user, request.state.form
    code = request.path_params["code"]
    values = {name: str(form.get(name) or "") for name in ("unit", "terms", "deadline_class", "note")}
    values["local"] = form.get("local") == "on"
    change = catalogue.EntryChange(unit_code=values["unit"] or None, local=bool(values["local"]),
                                   terms_text=values["terms"], deadline_class=values["deadline_class"] or None,
                                   note=values["note"])
    try:
        await site.services.run(lambda s: catalogue.edit_entry(s, site.services.city, code, change, user.actor))
    except DispatchError as exc:
        return await page(request, error=describe(exc), status=status_of(exc), values=values, code=code)
    await site.services.refresh_catalogue()
    config_changes.tell(site.hub, config_changes.CATALOGUE)
    return RedirectResponse(f"/supervisor/catalogue?code={code}&done=saved#entry", status_code=303)


routes = [
    Route("/supervisor/catalogue", staff_only(page, SUPERVISING_ROLES), methods=["GET"]),
    Route("/supervisor/catalogue/{code}", staff_only(save, SUPERVISING_ROLES), methods=["POST"]),
]
