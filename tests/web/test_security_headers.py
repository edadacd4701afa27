"""Every answer tells the browser not to frame the page, not to sniff types and not to hand
the address on to other sites: pages, the APIs, Open311, static files, errors (a 500 too),
and the live streams, which still stream."""
from __future__ import annotations

import dataclasses

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.testclient import TestClient

from tests.web.server import ServerThread
from web.app import create_app
from web.services import Services

EXPECTED = {"x-frame-options": "DENY", "content-security-policy": (
                "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
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


# ---- caching: nothing personal or staff stays in a browser's or a proxy's cache ------------

def test_staff_pages_exports_and_reports_are_never_stored(client: TestClient, services: Services) -> None:
    from tests.web.pages_support import login

    ticket = _a_ticket(services)
    login(client, "supervisor")
    for path in ("/supervisor", f"/tickets/{ticket.number}", "/search?q=路灯", "/search.csv",
                 "/supervisor/export/tickets.csv", "/supervisor/reports", "/admin/activity", "/operator",
                 "/no-such-page"):
        response = client.get(path)
        assert response.headers.get("cache-control") == "no-store", (path, response.status_code)
    assert client.post("/logout", data={"csrf_token": _csrf_of(client)}).headers["cache-control"] == "no-store"


def test_the_staff_api_and_a_citizens_lookup_are_never_stored(client: TestClient, services: Services) -> None:
    ticket = _a_ticket(services)
    token = client.post("/api/v1/auth/token", json={"username": "supervisor", "password": "hotline-demo"})
    assert token.status_code == 200 and token.headers["cache-control"] == "no-store"
    staff = client.get(f"/api/v1/staff/tickets/{ticket.number}",
                       headers={"Authorization": f"Bearer {token.json()['token']}"})
    assert staff.status_code == 200 and staff.headers["cache-control"] == "no-store"
    public = client.get(f"/api/v1/tickets/{ticket.number}?code={ticket.query_code}")
    assert public.status_code == 200 and public.headers["cache-control"] == "no-store"
    for path in ("/login", "/status", "/"):
        assert client.get(path).headers["cache-control"] == "no-store", path


def test_static_files_and_the_favicon_keep_their_caching(client: TestClient) -> None:
    static = client.get("/static/app.css")
    assert static.status_code == 200 and "cache-control" not in static.headers and static.headers["etag"]
    assert client.get("/static/app.css", headers={"If-None-Match": static.headers["etag"]}).status_code == 304
    assert client.get("/favicon.ico").headers.get_list("cache-control") == ["public, max-age=86400"]
    assert "cache-control" not in client.get("/healthz").headers   # the probes are left as they were


def test_a_route_that_sets_its_own_caching_keeps_it(services: Services) -> None:
    app = create_app(services.settings, services)

    async def cached(request: Request) -> Response:
        return Response("ok", headers={"Cache-Control": "public, max-age=60"})

    app.add_route("/cached", cached)
    with TestClient(app) as client:
        assert client.get("/cached").headers.get_list("cache-control") == ["public, max-age=60"]


def _a_ticket(services: Services):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from dispatch.models import Ticket

    with services.sessions() as session:
        return session.scalars(select(Ticket).order_by(Ticket.id)).first()


def _csrf_of(client: TestClient) -> str:
    from tests.web.pages_support import token_in

    return token_in(client.get("/supervisor").text)


# ---- HSTS: once a browser has seen the site over https, it never asks over http -----------

@pytest.mark.parametrize("path", ["/", "/login", "/static/app.css", "/api/v1/units", "/no-such-page", "/healthz"])
def test_an_https_site_asks_browsers_to_keep_to_https(services: Services, path: str) -> None:
    settings = dataclasses.replace(services.settings, public_url="https://12345.example.gov.cn")
    with TestClient(create_app(settings, services)) as client:   # behind a TLS proxy: http inside
        assert client.get(path).headers.get("strict-transport-security") == "max-age=31536000"


def test_a_request_over_https_gets_hsts_and_plain_http_does_not(services: Services) -> None:
    with TestClient(create_app(services.settings, services), base_url="https://testserver") as client:
        assert client.get("/").headers.get("strict-transport-security") == "max-age=31536000"
    with TestClient(create_app(services.settings, services)) as client:
        assert "strict-transport-security" not in client.get("/").headers
