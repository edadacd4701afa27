"""Staff sessions, roles, CSRF and rate limits, through the pages."""
from __future__ import annotations

import contextlib
import re
import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import httpx
import pytest
from sqlalchemy import select, update
from starlette.routing import Route
from starlette.testclient import TestClient

from dispatch import staff
from dispatch.limits import Limits
from dispatch.models import StaffActivity, StaffSession, StaffUser
from tests.web.pages_support import csrf, login, ticket_titled, token_in
from tests.web.server import ServerThread
from web import pages
from web.app import create_app
from web.auth import SESSION_COOKIE
from web.auth import client_address
from web.config import Settings, parse_networks
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


def test_wrong_passwords_lock_the_name_only_from_that_address(services: Services) -> None:
    with _client_from(services, "10.0.0.1") as guesser:
        token = csrf(guesser)
        for _ in range(5):
            assert guesser.post("/login", data={"csrf_token": token, "username": "operator",
                                                "password": "guess-guess"}).status_code == 401
        # Even the right password is refused from the guessing address...
        locked = guesser.post("/login", data={"csrf_token": token, "username": "operator",
                                              "password": "hotline-demo"})
        assert locked.status_code == 429 and "过于频繁" in locked.text and int(locked.headers["retry-after"]) > 0
        login(guesser, "supervisor")  # (another name from there is not locked)
    # ...while the user, elsewhere, logs in as always.
    with _client_from(services, "10.0.0.2") as owner:
        login(owner, "operator")


def test_logins_are_rate_limited_per_address_whatever_the_name(services: Services) -> None:
    services.settings = dataclasses.replace(services.settings,
                                            limits=Limits.build(login_failures_per_address=3))
    with _client_from(services, "10.0.0.1") as client:
        token = csrf(client)
        for name in ("a", "b", "c"):
            client.post("/login", data={"csrf_token": token, "username": name, "password": "whatever-1"})
        response = client.post("/login", data={"csrf_token": token, "username": "operator",
                                               "password": "hotline-demo"})
        assert response.status_code == 429


def test_login_failures_are_counted_across_processes(services: Services, database_url: str) -> None:
    other = Services.build(Settings(database_url=database_url))
    try:
        with _client_from(services, "10.0.0.1") as first:
            token = csrf(first)
            for _ in range(5):
                first.post("/login", data={"csrf_token": token, "username": "operator", "password": "guess-guess"})
        with _client_from(other, "10.0.0.1") as second:
            response = second.post("/login", data={"csrf_token": csrf(second), "username": "operator",
                                                   "password": "hotline-demo"})
            assert response.status_code == 429
    finally:
        other.close()


@pytest.mark.parametrize("path", ["/login", "/api/v1/auth/token"])
def test_a_burst_of_parallel_guesses_gets_401_only_up_to_the_limit(
        services: Services, monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    # Ten guesses at once, through two processes, each guess's argon2 check taking a while:
    # every one is past the limit's check before the first is found wrong.
    _slow_password_checks(monkeypatch)
    statuses = _guess_at_once(services, path, ["operator"] * 10)
    assert statuses.count(401) == 5 and statuses.count(429) == 5, statuses


def test_a_burst_of_parallel_guesses_at_many_names_is_held_to_the_address_limit(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    services.settings = dataclasses.replace(services.settings, limits=Limits.build(login_failures_per_address=3))
    _slow_password_checks(monkeypatch)
    statuses = _guess_at_once(services, "/login", [f"guess-{n}" for n in range(8)])
    assert statuses.count(401) == 3 and statuses.count(429) == 5, statuses
    # The owner of an account, elsewhere, is not locked out by any of it.
    with _client_from(services, "10.0.0.2") as owner:
        login(owner, "operator")


def _slow_password_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at the production cost (about half a second), not the tests' cheapest."""
    check = staff.verify_password

    def slow(*args: object) -> staff.PasswordCheck:
        time.sleep(0.3)
        return check(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(staff, "verify_password", slow)


def _guess_at_once(services: Services, path: str, names: list[str]) -> list[int]:
    """Every name tried with a wrong password at the same moment, alternately through this
    process's app and a second one's on the same database, each a real server; the statuses."""
    other = Services.build(services.settings)
    try:
        with ServerThread(create_app(services.settings, services)) as first, \
                ServerThread(create_app(other.settings, other)) as second, \
                httpx.Client(base_url=first.url, timeout=60) as one, httpx.Client(base_url=second.url, timeout=60) as two:
            clients = [one, two]
            tokens = [token_in(client.get("/login").text) for client in clients]

            def guess(n: int) -> int:
                client, token = clients[n % 2], tokens[n % 2]
                if path == "/login":
                    form = {"csrf_token": token, "username": names[n], "password": "guess-guess"}
                    return client.post(path, data=form).status_code
                return client.post(path, json={"username": names[n], "password": "guess-guess"}).status_code

            start = threading.Barrier(len(names))

            def at_once(n: int) -> int:
                start.wait(timeout=10)
                return guess(n)

            with ThreadPoolExecutor(len(names)) as pool:
                return sorted(pool.map(at_once, range(len(names))))
    finally:
        other.close()


@contextlib.contextmanager
def _client_from(services: Services, address: str, base_url: str = "http://testserver") -> Iterator[TestClient]:
    with TestClient(create_app(services.settings, services), follow_redirects=False,
                    client=(address, 50000), base_url=base_url) as client:
        yield client


def test_a_form_without_the_right_csrf_token_is_refused(client: TestClient) -> None:
    assert client.post("/login", data={"username": "operator", "password": "hotline-demo"}).status_code == 403
    assert client.post("/login", data={"csrf_token": "forged", "username": "operator",
                                       "password": "hotline-demo"}).status_code == 403
    assert client.post("/", data={"body": "路灯坏了"}).status_code == 403


def test_a_csrf_token_outside_ascii_gets_the_chinese_403_not_a_500(client: TestClient) -> None:
    csrf(client)  # the anonymous token cookie is set: the comparison is reached
    response = client.post("/login", data={"csrf_token": "令牌é", "username": "operator", "password": "hotline-demo"})
    assert response.status_code == 403 and "CSRF 校验失败" in response.text
    response = client.post("/", data={"csrf_token": "令牌é", "body": "路灯坏了"})  # the form again, filled in
    assert response.status_code == 403 and "请核对后再提交一次" in response.text and "路灯坏了" in response.text
    login(client, "admin")
    response = client.post("/logout", data={"csrf_token": "令牌"})
    assert response.status_code == 403 and "CSRF 校验失败" in response.text


def test_every_staff_form_checks_its_csrf_token(client: TestClient, services: Services) -> None:
    login(client, "admin")
    number = ticket_titled(services, "建议增加公交班次").number
    posts = [r for r in pages.routes if isinstance(r, Route) and "POST" in (r.methods or set())]
    assert len(posts) >= 8
    for route in posts:
        path = (route.path.replace("{number}", number).replace("{action}", "answer")
                .replace("{callback_id:id}", "1").replace("{request_id:id}", "1").replace("{rule_id:id}", "1"))
        path = re.sub(r"\{\w+:(?:int|id)\}", "1", path)   # any other numbered thing (accounts, units)
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


def test_a_logged_out_cookie_is_refused_when_replayed(client: TestClient) -> None:
    login(client, "housing")
    stolen = client.cookies[SESSION_COOKIE]
    assert client.get("/unit").status_code == 200
    client.post("/logout", data={"csrf_token": csrf(client, "/unit")})
    client.cookies.set(SESSION_COOKIE, stolen)
    assert client.get("/unit").status_code == 303


def test_a_new_password_or_deactivation_ends_every_session(client: TestClient, services: Services) -> None:
    login(client, "housing")
    kept = client.cookies[SESSION_COOKIE]
    services.run_sync(lambda s: staff.set_password(s, "housing", "a-new-password"))
    assert client.get("/unit").status_code == 303
    login(client, "housing", "a-new-password")
    assert client.get("/unit").status_code == 200
    services.run_sync(lambda s: staff.deactivate(s, "housing"))
    assert client.get("/unit").status_code == 303
    client.cookies.set(SESSION_COOKIE, kept)
    assert client.get("/unit").status_code == 303


def test_sessions_live_in_the_database_one_row_per_login(client: TestClient, services: Services) -> None:
    login(client, "operator")
    login(client, "operator")
    rows = services.run_sync(lambda s: s.scalars(select(StaffSession)).all())
    assert len(rows) == 2 and len({r.id for r in rows}) == 2 and all(len(r.id) >= 40 for r in rows)


def test_cookies_are_secure_when_the_public_url_is_https(services: Services) -> None:
    services.settings = dataclasses.replace(services.settings, public_url="https://hotline.example.gov.cn")
    with _client_from(services, "10.0.0.1", base_url="https://testserver") as client:
        response = client.post("/login", data={"csrf_token": csrf(client), "username": "operator",
                                               "password": "hotline-demo"})
        cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
        assert cookies and all("Secure" in c for c in cookies)


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


PROXIES = parse_networks("10.0.0.5, 172.30.0.0/24")


def test_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    assert client_address("203.0.113.7", ["198.51.100.1"], PROXIES) == "203.0.113.7"
    assert client_address("10.0.0.5", ["198.51.100.1"], PROXIES) == "198.51.100.1"
    assert client_address("10.0.0.5", [], PROXIES) == "10.0.0.5"
    assert client_address("10.0.0.5", ["198.51.100.1"], ()) == "10.0.0.5"


def test_the_client_is_the_right_most_address_no_trusted_proxy_wrote() -> None:
    # The client forged the first hop; the outer proxy appended the real one, the inner proxy its peer.
    chain = ["1.2.3.4, 198.51.100.1", "172.30.0.9"]
    assert client_address("10.0.0.5", chain, PROXIES) == "198.51.100.1"
    assert client_address("10.0.0.5", ["not-an-address, 172.30.0.9"], PROXIES) == "172.30.0.9"


def test_every_per_address_limit_sees_the_address_behind_the_proxy(services: Services) -> None:
    services.settings = dataclasses.replace(services.settings, trusted_proxies=parse_networks("127.0.0.1"))
    with _client_from(services, "127.0.0.1") as proxy:
        token = csrf(proxy)
        behind = {"x-forwarded-for": "198.51.100.1"}
        for _ in range(5):
            proxy.post("/login", headers=behind, data={"csrf_token": token, "username": "operator",
                                                         "password": "guess-guess"})
        assert proxy.post("/login", headers=behind, data={"csrf_token": token, "username": "operator",
                                                            "password": "hotline-demo"}).status_code == 429
        # Another citizen behind the same proxy is not locked out.
        other = proxy.post("/login", headers={"x-forwarded-for": "198.51.100.2"},
                           data={"csrf_token": token, "username": "operator", "password": "hotline-demo"})
        assert other.status_code == 303


def test_guesses_spread_over_many_addresses_lock_the_account_everywhere(services: Services) -> None:
    # Six addresses, each within its own share of five, guess one account's password: past
    # the default cap on the account (20) the guesses are refused, and so is the right
    # password from a seventh address, on the page and through the API, in Chinese; the
    # lock is logged once.
    statuses = []
    for n in range(6):
        with _client_from(services, f"10.0.1.{n}") as guesser:
            for _ in range(5):
                statuses.append(guesser.post("/api/v1/auth/token", json={"username": "operator",
                                                                         "password": "guess-guess"}).status_code)
    assert statuses == [401] * 20 + [429] * 10
    with _client_from(services, "10.0.2.1") as owner:
        refused = owner.post("/api/v1/auth/token", json={"username": "operator", "password": "hotline-demo"})
        assert refused.status_code == 429 and "token" not in refused.json(), refused.text
        assert refused.json()["reason"] == "account_locked" and "账号" in refused.json()["message"]
        assert 0 < int(refused.headers["retry-after"]) <= 15 * 60
        page = owner.post("/login", data={"csrf_token": csrf(owner), "username": "operator",
                                          "password": "hotline-demo"})
        assert page.status_code == 429 and "账号" in page.text and SESSION_COOKIE not in owner.cookies
        login(owner, "supervisor")   # another account is not locked
    with services.sessions() as session:
        kinds = session.scalars(select(StaffActivity.kind).where(StaffActivity.target == "operator")).all()
    assert kinds.count("login_locked") == 1 and kinds.count("login_failed") == 20


def test_the_cap_on_an_account_can_be_set_or_turned_off(services: Services) -> None:
    services.settings = dataclasses.replace(services.settings, limits=Limits.build(login_failures_per_user=0))
    for n in range(6):
        with _client_from(services, f"10.0.1.{n}") as guesser:
            for _ in range(5):
                guesser.post("/api/v1/auth/token", json={"username": "operator", "password": "guess-guess"})
    with _client_from(services, "10.0.2.1") as owner:
        assert owner.post("/api/v1/auth/token", json={"username": "operator",
                                                      "password": "hotline-demo"}).status_code == 200


def test_an_ipv6_client_is_counted_by_its_slash_64(services: Services) -> None:
    # Each guess from another address of one /64: the pair's share of five still holds.
    for n in range(1, 6):
        with _client_from(services, f"2001:db8:1:2::{n:x}") as guesser:
            assert guesser.post("/api/v1/auth/token", json={"username": "operator",
                                                            "password": "guess-guess"}).status_code == 401
    with _client_from(services, "2001:db8:1:2:ffff::9") as same_network:
        assert same_network.post("/api/v1/auth/token", json={"username": "operator",
                                                             "password": "hotline-demo"}).status_code == 429
    with _client_from(services, "2001:db8:1:3::1") as next_network:
        assert next_network.post("/api/v1/auth/token", json={"username": "operator",
                                                             "password": "hotline-demo"}).status_code == 200
