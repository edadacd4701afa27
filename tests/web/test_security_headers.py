"""Every answer tells the browser not to frame the page, not to sniff types and not to hand
the address on to other sites: pages, the APIs, Open311, static files, errors (a 500 too),
and the live streams, which still stream."""
from __future__ import annotations

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.testclient import TestClient

from tests.web.server import ServerThread
from web.app import create_app
from web.services import Services

EXPECTED = {"x-frame-options": "DENY", "content-security-policy": "frame-ancestors 'none'",
            "x-content-type-options": "nosniff", "referrer-policy": "same-origin"}


def assert_protected(response: httpx.Response) -> None:
    assert {name: response.headers.get(name) for name in EXPECTED} == EXPECTED, response.url


@pytest.mark.parametrize("path, status", [
    ("/", 200), ("/board", 200), ("/login", 200), ("/status", 200), ("/static/app.css", 200),
    ("/api/v1/units", 200), ("/open311/v2/services.json", 200), ("/open311/v2/services.xml", 200),
    ("/healthz", 200), ("/static/board.js", 200), ("/operator", 303), ("/no-such-page", 404),
    ("/api/v1/no-such-thing", 404),
    ("/api/v1/tickets/20261101-0001?code=1", 404), ("/board?since=1999-01-01", 422), ("/status?code=%00", 422),
])
def test_every_answer_carries_the_headers(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert_protected(response)


def test_a_500_carries_them_too(services: Services) -> None:
    app = create_app(services.settings, services)

    async def broken(request: Request) -> Response:
        raise RuntimeError("a bug")

    app.add_route("/broken", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/broken")
    assert response.status_code == 500
    assert_protected(response)


def test_a_header_a_route_sets_itself_is_kept(services: Services) -> None:
    app = create_app(services.settings, services)

    async def framed(request: Request) -> Response:
        return Response("ok", headers={"X-Frame-Options": "SAMEORIGIN"})

    app.add_route("/framed", framed)
    with TestClient(app) as client:
        response = client.get("/framed")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_board_still_streams_its_events(services: Services) -> None:
    with ServerThread(create_app(services.settings, services)) as server:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            with http.stream("GET", "/board/events") as stream:
                assert stream.headers["content-type"].startswith("text/event-stream")
                assert_protected(stream)
                lines = stream.iter_lines()
                assert next(line for line in lines if line.startswith("event:")) == "event: hello"
                created = http.post("/api/v1/tickets", json={"body": "济水大街路灯不亮", "phone": "13912340000"})
                assert created.status_code == 201
                assert next(line for line in lines if line.startswith("event:")) == "event: board"
