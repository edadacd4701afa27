"""What people read when something is refused: the API answers a code and Chinese words, the
pages show the same words without English field names, and unknown or failing pages are the
site's own Chinese pages with a way back."""
from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.testclient import TestClient

from dispatch.demo import DEMO_PASSWORD
from tests.web.pages_support import csrf, login
from web.app import create_app
from web.messages import has_chinese
from web.services import Services

ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")


def chinese_only(message: str) -> bool:
    """Chinese words, and no English word (a field name, an English sentence) among them."""
    return has_chinese(message) and ENGLISH_WORD.search(message) is None


def file(client: TestClient) -> dict:
    response = client.post("/api/v1/tickets", json={"body": "人民路路灯坏了一个星期，晚上很黑。", "phone": "13812345678"})
    assert response.status_code == 201, response.text
    return response.json()


def bearer(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_a_bad_phone_number_is_answered_in_chinese_with_its_code(client: TestClient) -> None:
    response = client.post("/api/v1/tickets", json={"body": "路灯坏了", "phone": "12"})
    answer = response.json()
    assert response.status_code == 422
    assert answer["error"] == "invalid_input" and answer["reason"] == "invalid_phone" and answer["field"] == "phone"
    assert chinese_only(answer["message"]) and "联系电话" in answer["message"] and "「12」" in answer["message"]
    assert answer["detail"] == "phone: invalid_phone"  # the code, without its data (the logs keep that)


def test_an_empty_body_is_answered_in_chinese(client: TestClient) -> None:
    response = client.post("/api/v1/tickets", json={"body": "   "})
    answer = response.json()
    assert response.status_code == 422 and answer["reason"] == "required" and answer["field"] == "body"
    assert answer["message"] == "请填写诉求内容。"


def test_a_missing_body_and_broken_json_are_answered_in_chinese(client: TestClient) -> None:
    missing = client.post("/api/v1/tickets", json={"phone": "13812345678"}).json()
    broken = client.post("/api/v1/tickets", content=b"{", headers={"content-type": "application/json"}).json()
    wrong_type = client.post("/api/v1/tickets", json={"body": 5}).json()
    assert missing["message"] == "请填写诉求内容。"
    assert broken["reason"] == "not_json" and has_chinese(broken["message"])
    assert wrong_type["reason"] == "not_text" and chinese_only(wrong_type["message"])


def test_an_unknown_ticket_is_answered_in_chinese_by_both_apis(client: TestClient) -> None:
    public = client.get("/api/v1/tickets/20000101-9999", params={"code": "123456"})
    staff = client.get("/api/v1/staff/tickets/20000101-9999", headers=bearer(client, "operator"))
    assert public.status_code == staff.status_code == 404
    for answer in (public.json(), staff.json()):
        assert answer["error"] == "not_found" and chinese_only(answer["message"]), answer


def test_the_staff_apis_refusals_keep_their_code_and_words_but_no_internal_data(client: TestClient) -> None:
    number = file(client)["number"]
    missing = client.get("/api/v1/staff/tickets/20000101-9999", headers=bearer(client, "housing")).json()
    moved = client.post(f"/api/v1/staff/tickets/{number}/transfer", json={"unit": "housing"},
                        headers=bearer(client, "operator"))
    assert moved.status_code == 200, moved.text
    refused = client.post(f"/api/v1/staff/tickets/{number}/override_parts", json={"reason": "不必等待"},
                          headers=bearer(client, "housing")).json()
    assert missing["error"] == "not_found" and missing["reason"] == "ticket_not_found"
    assert refused["error"] == "permission_denied" and refused["reason"] == "role_not_allowed"
    for answer in (missing, refused):
        assert chinese_only(answer["message"]), answer
        assert answer.get("detail") in (None, answer["reason"]), answer   # no actor, number or repr
        assert "housing" not in str(answer) and "=" not in str(answer.get("detail")), answer


def test_an_illegal_move_is_answered_in_chinese_naming_state_and_action(client: TestClient) -> None:
    number = file(client)["number"]
    response = client.post(f"/api/v1/staff/tickets/{number}/accept", json={}, headers=bearer(client, "admin"))
    answer = response.json()
    assert response.status_code == 409
    assert answer["error"] == "illegal_transition" and answer["state"] == "received" and answer["action"] == "accept"
    assert answer["message"] == "工单当前状态为「已受理」，不能执行「签收」。"


def test_a_badly_typed_action_field_and_an_unknown_action_are_answered_in_chinese(client: TestClient) -> None:
    number = file(client)["number"]
    headers = bearer(client, "operator")
    typed = client.post(f"/api/v1/staff/tickets/{number}/transfer", json={"unit": "housing", "note": 5},
                        headers=headers)
    unknown = client.post(f"/api/v1/staff/tickets/{number}/teleport", json={}, headers=headers)
    assert typed.status_code == 422 and typed.json()["message"] == "说明应为文字。"
    assert unknown.status_code == 404 and chinese_only(unknown.json()["message"].replace("teleport", ""))


def test_a_stale_version_is_answered_in_chinese(client: TestClient) -> None:
    number = file(client)["number"]
    response = client.post(f"/api/v1/staff/tickets/{number}/transfer",
                           json={"unit": "housing", "expected_version": 99}, headers=bearer(client, "operator"))
    answer = response.json()
    assert response.status_code == 409 and answer["error"] == "conflict" and answer["reason"] == "changed_by_others"
    assert chinese_only(answer["message"])


def test_an_unknown_api_path_and_method_answer_json_in_chinese(client: TestClient) -> None:
    unknown = client.get("/api/v1/nothing-here")
    method = client.delete("/api/v1/stats")
    assert unknown.status_code == 404 and method.status_code == 405
    for response in (unknown, method):
        assert response.headers["content-type"].startswith("application/json")
        assert chinese_only(response.json()["message"])


def test_the_citizen_form_shows_the_chinese_words_without_english_field_names(client: TestClient) -> None:
    response = client.post("/", data={"csrf_token": csrf(client, "/"), "body": "路灯坏了", "phone": "12",
                                      "type": "complaint"})
    assert response.status_code == 422
    alert = re.search(r'<p class="alert" role="alert">([^<]*)</p>', response.text)
    assert alert is not None
    assert alert.group(1) == ("联系电话「12」不是有效的号码。请填写11位手机号或带区号的固定电话，"
                              "例如 13812345678 或 0391-6612345；其他说明请写在诉求内容里。")
    assert "phone:" not in response.text and "not a valid" not in response.text


def test_the_rules_page_words_a_short_phrase_in_chinese(client: TestClient) -> None:
    login(client, "supervisor")
    page = client.get("/supervisor/rules")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    response = client.post("/supervisor/rules", data={"csrf_token": token.group(1), "phrases": "烟",
                                                      "unit": "housing"})
    error = re.search(r'id="rule-error">([^<]*)<', response.text)
    assert response.status_code == 422 and error is not None
    assert error.group(1) == "关键词「烟」应为 2 到 30 个字。"


def test_an_unknown_page_is_the_sites_own_chinese_page_with_a_way_back(client: TestClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    text = response.text
    assert '<link rel="stylesheet" href="/static/app.css">' in text  # the base template, styled
    assert "政务服务便民热线" in text and "页面不存在" in text and 'href="/"' in text and "返回首页" in text
    assert "Not Found" not in text


def test_a_wrong_method_on_a_page_is_a_chinese_page(client: TestClient) -> None:
    response = client.delete("/board")
    assert response.status_code == 405 and "不支持的请求" in response.text and "Method Not Allowed" not in response.text


def test_an_unknown_ticket_page_for_staff_leads_back_to_their_console(client: TestClient) -> None:
    login(client, "operator")
    response = client.get("/tickets/20000101-9999")
    assert response.status_code == 404
    assert "未找到该工单" in response.text and 'href="/operator"' in response.text and "返回工作台" in response.text


def test_a_refused_form_token_is_a_chinese_page(client: TestClient) -> None:
    response = client.post("/login", data={"csrf_token": "forged", "username": "admin", "password": "x"})
    assert response.status_code == 403 and "CSRF" in response.text and "/static/app.css" in response.text


def test_a_failing_page_and_api_call_answer_500_in_chinese(services: Services) -> None:
    """A bug stands in as a route that raises; the answer is the site's page or JSON, in Chinese."""
    app = create_app(services.settings, services)

    async def broken(request: Request) -> Response:
        raise RuntimeError("a bug")

    app.add_route("/broken", broken)
    app.add_route("/api/v1/broken", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        page, api = client.get("/broken"), client.get("/api/v1/broken")
    assert page.status_code == api.status_code == 500
    assert "系统出错" in page.text and "/static/app.css" in page.text and "a bug" not in page.text
    assert api.json()["error"] == "server_error" and chinese_only(api.json()["message"])
