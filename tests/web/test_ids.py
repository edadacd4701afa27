"""Ids and numbers that no database row can have: an id in a path too long for any integer
column is a plain 404, a number in a query, form or JSON body that is not ASCII digits or
does not fit is a 422 in Chinese; never a 500, on SQLite or PostgreSQL alike."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from tests.web.pages_support import csrf, login
from web.cli import main
from web.services import Services

# Past PostgreSQL's integer, past a 64-bit integer, and far past both.
TOO_BIG = ["2147483648", "99999999999999999999", "9" * 400]
# str.isdigit() says yes to all of these; int() refuses the first two and reads the rest.
NOT_ASCII = ["²", "①", "١", "１"]


def _post(client: TestClient, path: str, token: str, **fields: str) -> int:
    return client.post(path, data={"csrf_token": token, **fields}).status_code


@pytest.mark.parametrize("big", TOO_BIG)
def test_an_id_too_long_for_the_database_is_not_found(client: TestClient, big: str) -> None:
    page = client.get(f"/kb/{big}")
    assert page.status_code == 404 and "页面不存在" in page.text
    assert _post(client, f"/kb/{big}/deflection", csrf(client, "/")) == 404
    login(client, "supervisor")
    for path in (f"/supervisor/reports/{big}.html", f"/staff/kb/{big}"):
        assert client.get(path).status_code == 404, path
    token = csrf(client, "/supervisor")
    for path in (f"/staff/kb/{big}/publish", f"/supervisor/rules/{big}/remove", f"/supervisor/extensions/{big}"):
        assert _post(client, path, token, decision="approve") == 404, path
    login(client, "operator")
    assert _post(client, f"/operator/callbacks/{big}/done", csrf(client, "/operator"), note="已联系") == 404
    login(client, "admin")
    token = csrf(client, "/admin/tokens")
    for path in (f"/admin/tokens/{big}/revoke", f"/admin/users/{big}/deactivate", f"/admin/units/{big}/webhook",
                 f"/admin/units/1/webhook/redeliver/{big}"):
        assert _post(client, path, token, url="https://example.com/hook") == 404, path


def test_an_id_of_nine_digits_still_reaches_its_page(client: TestClient) -> None:
    page = client.get("/kb/999999999")
    assert page.status_code == 404 and "没有这篇知识库文章" in page.text


@pytest.mark.parametrize("bad", [*NOT_ASCII[:2], *TOO_BIG])
def test_a_bad_number_in_a_query_is_refused_or_ignored(client: TestClient, bad: str) -> None:
    assert client.get("/api/v1/catalogue", params={"q": "路灯", "limit": bad}).status_code == 200
    token = client.post("/api/v1/auth/token", json={"username": "housing", "password": "hotline-demo"}).json()["token"]
    listed = client.get("/api/v1/staff/tickets", params={"page": bad}, headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 422 and listed.json()["reason"] == "bad_page"
    login(client, "supervisor")
    assert client.get("/supervisor", params={"returned_page": bad}).status_code == 200
    login(client, "operator")
    assert client.get("/operator", params={"callbacks_page": bad}).status_code == 200


@pytest.mark.parametrize("bad", [*NOT_ASCII[:2], TOO_BIG[0], TOO_BIG[1]])
def test_a_bad_number_in_a_form_is_refused_in_chinese(client: TestClient, bad: str) -> None:
    login(client, "admin")
    token = csrf(client, "/admin/tokens")
    for fields, words in (({"user_id": bad}, "账号应在 1 到 2147483647 之间"),
                          ({"user_id": "1", "days": bad}, "天数应在 1 到 3650 之间")):
        refused = client.post("/admin/tokens", data={"csrf_token": token, "name": "业务系统", **fields})
        assert refused.status_code == 422, fields
        assert (words if bad.isascii() else "应为整数") in refused.text, fields
    login(client, "supervisor")
    made = client.post("/staff/kb", data={"csrf_token": csrf(client, "/staff/kb"), "unit_id": "abc", "title": "停水",
                                          "body": "停水通知"})
    assert made.status_code == 422 and "请选择承办单位" in made.text
    login(client, "housing")
    marked = client.post("/unit/notices/read", data={"csrf_token": csrf(client, "/unit"), "notice": bad})
    assert marked.status_code == 422 and "通知应为整数" in marked.text


@pytest.mark.parametrize("body", [{"expected_version": "²"}, {"days": "²"}, {"reply": "见文章", "article_id": "²"},
                                  {"reply": "见文章", "article_id": 2147483648}, {"expected_version": 10**20}])
def test_a_bad_number_in_an_action_body_is_refused(client: TestClient, services: Services, body: dict) -> None:
    # 延期 is a unit's to ask, 答复 an operator's: a role barred from the action is refused first.
    action, who, state = ("request_extension", "housing", None) if "days" in body else ("answer", "operator", "received")
    login_token = client.post("/api/v1/auth/token", json={"username": who, "password": "hotline-demo"})
    headers = {"Authorization": f"Bearer {login_token.json()['token']}"}
    listed = client.get("/api/v1/staff/tickets", params={"state": state} if state else {}, headers=headers)
    number = listed.json()["tickets"][0]["number"]
    refused = client.post(f"/api/v1/staff/tickets/{number}/{action}", json=body, headers=headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "invalid_input" and refused.json()["field"] == next(iter(body.keys() - {"reply"}))


@pytest.mark.parametrize("command", [["tokens", "revoke"], ["open311", "keys", "revoke"]])
def test_the_cli_refuses_an_id_too_big_in_one_line(database_url: str, command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "99999999999"], env={"HOTLINE_DATABASE_URL": database_url})
    assert result.exit_code == 2 and result.exception is not None and "Traceback" not in result.output
    assert "99999999999 is not in the range" in result.output
