"""Staff sessions, roles, CSRF and rate limits, through the pages."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import update
from starlette.routing import Route
from starlette.testclient import TestClient

from dispatch.models import StaffUser
from tests.web.pages_support import csrf, login, ticket_titled
from web import pages
from web.auth import SESSION_COOKIE, RateLimiter
from web.services import Services


def test_staff_pages_send_anonymous_visitors_to_the_login_page(client: TestClient) -> None:
    for path in ("/operator", "/unit", "/supervisor", "/search?q=x", "/tickets/20260101-0001"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=/")


def test_login_leads_to_the_role_home_with_a_httponly_samesite_cookie(client: TestClient) -> None:
    response = client.post("/login", data={"csrf_token": csrf(client), "username": "housing",
                                           "password": "hotline-demo"})
    assert response.status_code == 303 and response.headers["location"] == "/unit"
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=" in cookie
    assert client.get("/unit").status_code == 200


def test_a_wrong_password_says_nothing_about_which_part_was_wrong(client: TestClient) -> None:
    token = csrf(client)
    wrong_password = client.post("/login", data={"csrf_token": token, "username": "housing", "password": "nope-nope"})
    unknown_user = client.post("/login", data={"csrf_token": token, "username": "nobody", "password": "nope-nope"})
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert "用户名或密码错误" in wrong_password.text and "用户名或密码错误" in unknown_user.text
    assert SESSION_COOKIE not in client.cookies


def test_logins_are_rate_limited_per_user_name(client: TestClient) -> None:
    token = csrf(client)
    for _ in range(5):
        assert client.post("/login", data={"csrf_token": token, "username": "operator",
                                           "password": "guess-guess"}).status_code == 401
    # Even the right password is refused while the name is locked.
    locked = client.post("/login", data={"csrf_token": token, "username": "operator", "password": "hotline-demo"})
    assert locked.status_code == 429 and "过于频繁" in locked.text
    # Another account from the same address still works.
    login(client, "supervisor")


def test_logins_are_rate_limited_per_client(client: TestClient) -> None:
    client.app.state.site.limits.login_per_client = RateLimiter(3, 300)  # type: ignore[attr-defined]
    token = csrf(client)
    for name in ("a", "b", "c"):
        client.post("/login", data={"csrf_token": token, "username": name, "password": "whatever-1"})
    response = client.post("/login", data={"csrf_token": token, "username": "operator", "password": "hotline-demo"})
    assert response.status_code == 429


def test_a_form_without_the_right_csrf_token_is_refused(client: TestClient) -> None:
    assert client.post("/login", data={"username": "operator", "password": "hotline-demo"}).status_code == 403
    assert client.post("/login", data={"csrf_token": "forged", "username": "operator",
                                       "password": "hotline-demo"}).status_code == 403
    assert client.post("/", data={"body": "路灯坏了"}).status_code == 403


def test_every_staff_form_checks_its_csrf_token(client: TestClient, services: Services) -> None:
    login(client, "admin")
    number = ticket_titled(services, "建议增加公交班次").number
    posts = [r for r in pages.routes if isinstance(r, Route) and "POST" in (r.methods or set())]
    assert len(posts) >= 8
    for route in posts:
        path = (route.path.replace("{number}", number).replace("{action}", "answer")
                .replace("{callback_id:int}", "1").replace("{request_id:int}", "1").replace("{rule_id:int}", "1"))
        response = client.post(path, data={"text": "x", "expected_version": "1"})
        assert response.status_code == 403, f"{route.path} accepted a form without its CSRF token"
    assert ticket_titled(services, "建议增加公交班次").state == "received"


def test_the_session_token_is_not_the_anonymous_one(client: TestClient) -> None:
    anonymous = csrf(client, "/")
    login(client, "operator")
    assert csrf(client, "/operator") != anonymous


def test_sessions_end_after_the_idle_timeout(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    login(client, "operator")
    assert client.get("/operator").status_code == 200
    idle = client.app.state.site.auth.settings.idle_timeout.total_seconds()  # type: ignore[attr-defined]
    later = time.time() + idle + 60
    monkeypatch.setattr("itsdangerous.timed.time", type("Clock", (), {"time": staticmethod(lambda: later)}))
    assert client.get("/operator").status_code == 303


def test_sessions_end_at_their_maximum_age_however_busy(client: TestClient) -> None:
    login(client, "operator")
    auth = client.app.state.site.auth  # type: ignore[attr-defined]
    max_age = auth.settings.max_age.total_seconds()
    auth._clock = lambda: time.time() + max_age + 60
    assert client.get("/operator").status_code == 303


def test_logout_ends_the_session(client: TestClient) -> None:
    login(client, "operator")
    token = csrf(client, "/operator")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert client.get("/operator").status_code == 303


def test_a_deactivated_account_is_out_at_its_next_request(client: TestClient, services: Services) -> None:
    login(client, "operator")
    services.run_sync(lambda s: s.execute(update(StaffUser).where(StaffUser.username == "operator").values(active=False)))
    assert client.get("/operator").status_code == 303


def test_login_sends_back_only_to_pages_of_this_site(client: TestClient) -> None:
    for target, expected in (("/supervisor?days=7", "/supervisor?days=7"), ("//evil.example/x", "/supervisor"),
                             ("https://evil.example/", "/supervisor")):
        client.cookies.clear()
        response = client.post("/login", data={"csrf_token": csrf(client), "username": "supervisor",
                                               "password": "hotline-demo", "next": target})
        assert response.headers["location"] == expected


def test_roles_open_only_their_own_consoles(client: TestClient) -> None:
    expected = {
        "operator": {"/operator": 200, "/unit": 403, "/supervisor": 403, "/supervisor/export/units.csv": 403},
        "housing": {"/operator": 403, "/unit": 200, "/supervisor": 403, "/supervisor/export/units.csv": 403},
        "supervisor": {"/operator": 200, "/unit": 403, "/supervisor": 200, "/supervisor/export/units.csv": 200},
    }
    for username, paths in expected.items():
        login(client, username)
        assert {path: client.get(path).status_code for path in paths} == paths, username
