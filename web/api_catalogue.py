"""The dispatch catalogue (派单目录) as JSON, served from the router's copy in memory: the
whole tree, or with `q` the level-3 entries an operator's typing finds. Public like the
list of units: the categories and who handles them are what a city publishes anyway."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dispatch.catalogue_match import MAX_SEARCH, Catalogue, Item
from dispatch.numbers import whole_number
from web.services import Services


def _catalogue(request: Request) -> Catalogue | None:
    services: Services = request.app.state.services
    return services.router.catalogue


def _entry(item: Item) -> dict[str, object]:
    entry = item.as_dict()
    entry.pop("description")
    return entry


async def catalogue(request: Request) -> Response:
    found = _catalogue(request)
    if found is None:
        return JSONResponse({"version": None, "entries": 0, "tree": []})
    query = (request.query_params.get("q") or "").strip()[:50]
    if query:
        limit_text = request.query_params.get("limit") or ""
        limit = min(whole_number(limit_text) or MAX_SEARCH, 100)
        return JSONResponse({"version": found.version, "query": query,
                             "entries": [_entry(i) for i in found.search(query, limit)]})
    tree = [{"name": l1["name"], "children": [{"name": l2["name"], "entries": [_entry(i) for i in l2["entries"]]}
                                              for l2 in l1["children"]]}  # type: ignore[attr-defined]
            for l1 in found.tree()]
    return JSONResponse({"version": found.version, "entries": len(found), "tree": tree})


routes = [Route("/api/v1/catalogue", catalogue, methods=["GET"])]
