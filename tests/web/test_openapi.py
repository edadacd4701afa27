"""The hand-written OpenAPI description covers every /api/v1 route the app serves."""
from __future__ import annotations

from starlette.routing import Route
from starlette.testclient import TestClient

from dispatch.actions import ACTIONS
from web.app import create_app
from web.config import Settings
from web.openapi import ACTION_BODIES, SPEC


def api_routes() -> set[tuple[str, str]]:
    app = create_app(Settings(database_url="sqlite://"))
    found = set()
    for route in app.routes:
        if isinstance(route, Route) and route.path.startswith("/api/v1"):
            found |= {(route.path, method.lower()) for method in route.methods or () if method != "HEAD"}
    return found


def test_every_api_route_and_method_is_described() -> None:
    routes = api_routes()
    assert ("/api/v1/staff/tickets/{number}/{action}", "post") in routes and len(routes) >= 10
    described = {(path, method) for path, item in SPEC["paths"].items() for method in item}
    assert routes - described == set(), "routes missing from web/openapi.py"
    assert described - routes == set(), "web/openapi.py describes routes the app does not serve"


def test_every_staff_action_has_its_body_described() -> None:
    assert set(ACTION_BODIES) == set(ACTIONS)
    action = SPEC["paths"]["/api/v1/staff/tickets/{number}/{action}"]["post"]
    assert action["parameters"][1]["schema"]["enum"] == list(ACTIONS)


def test_the_description_is_served(database_url: str) -> None:
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        served = client.get("/api/v1/openapi.json").json()
    assert served["openapi"].startswith("3.") and served["paths"].keys() == SPEC["paths"].keys()
    refs = {value.split("/")[-1] for value in _refs(served)}
    assert refs <= served["components"]["schemas"].keys()


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []
