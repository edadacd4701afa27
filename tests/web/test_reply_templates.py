"""Reply templates (常用语) on the pages and in the staff API: a unit keeps its own list, an
admin the city-wide one, the ticket page offers both and fills a reply box with one (also
without a script), and the reply still meets the reply rules."""
from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any, Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from dispatch import api_tokens
from dispatch.clock import local_date, utcnow
from dispatch.models import ReplyTemplate, StaffActivity, StaffUser
from tests.web.pages_support import client_for, csrf, login, seed_demo, ticket_titled, token_in, version_in
from web.config import Settings
from web.services import Services

NOISE = "工地夜间施工噪音扰民"   # in progress with ecology-environment (demo account "ecology")
CLOSED_SITE = {"title": "工地已停工", "text": "经现场核查，工地已于{日期}停止夜间施工，工单{编号}办结。"}


def post(client: TestClient, path: str, page: str, **fields: str) -> Any:
    return client.post(path, data={"csrf_token": csrf(client, page), **fields})


def template_id(services: Services, title: str) -> int:
    with services.sessions() as session:
        found = session.scalar(select(ReplyTemplate.id).where(ReplyTemplate.title == title))
        assert found is not None
        return found


def error_of(page: Any) -> str:
    found = re.search(r'id="admin-error">([^<]*)<', page.text)
    assert found, page.text[:500]
    return html.unescape(found.group(1))


def test_a_unit_keeps_its_templates_and_another_unit_neither_sees_nor_changes_them(
        client: TestClient, services: Services) -> None:
    login(client, "housing")
    added = post(client, "/unit/templates", "/unit/templates", **CLOSED_SITE)
    assert added.status_code == 303 and added.headers["location"] == "/unit/templates?done=added"
    page = client.get("/unit/templates?done=added")
    assert "常用语已添加。" in page.text and "工地已停工" in page.text
    mine = template_id(services, "工地已停工")

    login(client, "ecology")
    theirs = client.get("/unit/templates")
    assert theirs.status_code == 200 and "工地已停工" not in theirs.text
    changed = post(client, f"/unit/templates/{mine}", "/unit/templates", title="改掉", text="改掉的内容")
    assert changed.status_code == 404 and error_of(changed) == "没有这条常用语。"
    deleted = post(client, f"/unit/templates/{mine}/delete", "/unit/templates")
    assert deleted.status_code == 404
    with services.sessions() as session:
        kept = session.get(ReplyTemplate, mine)
        assert kept is not None and kept.title == "工地已停工"
    # Without the page's CSRF token nothing is changed.
    assert client.post("/unit/templates", data={"title": "无令牌", "text": "内容"}).status_code == 403
    # The admin's page and the unit's are each their roles' only.
    assert client.get("/admin/templates").status_code == 403
    login(client, "operator")
    assert client.get("/unit/templates").status_code == 403


def test_the_admin_keeps_the_city_wide_list_which_units_read_but_cannot_change(
        client: TestClient, services: Services) -> None:
    login(client, "admin")
    assert post(client, "/admin/templates", "/admin/templates", title="感谢来电",
                text="感谢您对我们工作的支持。").status_code == 303
    city = template_id(services, "感谢来电")
    assert 'href="/admin/templates" aria-current="page"' in client.get("/admin/templates").text

    login(client, "housing")
    page = client.get("/unit/templates")
    assert 'id="city-templates"' in page.text and "感谢来电" in page.text
    assert f'action="/unit/templates/{city}"' not in page.text   # no form to change it
    refused = post(client, f"/unit/templates/{city}", "/unit/templates", title="感谢来电", text="改掉")
    assert refused.status_code == 403 and error_of(refused) == "这条常用语是全市通用的，只有管理员可以修改或删除。"

    login(client, "admin")
    saved = post(client, f"/admin/templates/{city}", "/admin/templates", title="感谢来电", text="感谢您的来电和支持。")
    assert saved.status_code == 303
    assert post(client, f"/admin/templates/{city}/delete", "/admin/templates").status_code == 303
    with services.sessions() as session:
        kinds = list(session.scalars(select(StaffActivity.kind).where(StaffActivity.kind.like("template_%"))
                                     .order_by(StaffActivity.id)))
    assert kinds == ["template_added", "template_changed", "template_removed"]
    assert "删除常用语" in client.get("/admin/activity").text


def test_bad_templates_are_refused_in_chinese_and_what_was_typed_stays(client: TestClient) -> None:
    login(client, "housing")
    empty = post(client, "/unit/templates", "/unit/templates", title="空的", text="   ")
    assert empty.status_code == 422 and error_of(empty) == "请填写常用语内容。"
    assert 'value="空的"' in empty.text
    long = post(client, "/unit/templates", "/unit/templates", title="太长", text="字" * 2_001)
    assert error_of(long) == "常用语内容不能超过 2000 个字。"
    assert post(client, "/unit/templates", "/unit/templates", **CLOSED_SITE).status_code == 303
    again = post(client, "/unit/templates", "/unit/templates", title="工地已停工", text="另一段")
    assert again.status_code == 422 and error_of(again) == "已有标题为「工地已停工」的常用语，请换一个标题。"


def _reply_box(page: str, form: str) -> str:
    found = re.search(rf'<textarea name="text" id="{form}-text"[^>]*>([^<]*)</textarea>', page)
    assert found, f"no {form} box"
    return html.unescape(found.group(1))


def test_the_ticket_page_offers_the_units_and_the_city_wide_templates_filled_in_for_the_ticket(
        client: TestClient, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "admin")
    post(client, "/admin/templates", "/admin/templates", title="感谢来电", text="感谢您对我们工作的支持。")
    login(client, "housing")
    post(client, "/unit/templates", "/unit/templates", title="住建局的", text="住建局的答复")
    login(client, "ecology")
    post(client, "/unit/templates", "/unit/templates", **CLOSED_SITE)

    page = client.get(f"/tickets/{noise.number}").text
    picker = page[page.index('id="resolve-templates"'):page.index('id="resolve-form"')]
    today = local_date(utcnow())
    filled = f"经现场核查，工地已于{today.year}年{today.month}月{today.day}日停止夜间施工，工单{noise.number}办结。"
    assert f'data-text="{filled}">工地已停工</option>' in picker
    assert "感谢来电" in picker and "住建局的" not in picker
    assert _reply_box(page, "resolve") == ""

    # Without a script: 插入 asks for the page with the box filled.
    mine = template_id(services, "工地已停工")
    prefilled = client.get(f"/tickets/{noise.number}?reply_for=resolve&template={mine}").text
    assert _reply_box(prefilled, "resolve") == filled
    foreign = template_id(services, "住建局的")
    assert _reply_box(client.get(f"/tickets/{noise.number}?reply_for=resolve&template={foreign}").text, "resolve") == ""
    assert _reply_box(client.get(f"/tickets/{noise.number}?reply_for=escalate&template={mine}").text, "resolve") == ""


@pytest.fixture
def strict_services(database_url: str, sessions: sessionmaker[Session]) -> Iterator[Services]:
    """The demo, in a city that wants the result in words: HOTLINE_REPLY_MIN_CHARS=10."""
    services = Services.build(Settings(database_url=database_url, reply_min_chars=10))
    seed_demo(services)
    yield services
    services.close()


def test_a_reply_from_a_template_still_meets_the_reply_rules(strict_services: Services) -> None:
    services = strict_services
    noise = ticket_titled(services, NOISE)
    opened = client_for(services)
    client = next(opened)
    try:
        login(client, "ecology")
        post(client, "/unit/templates", "/unit/templates", title="已处理", text="已处理。")
        short = template_id(services, "已处理")
        page = client.get(f"/tickets/{noise.number}?reply_for=resolve&template={short}").text
        refused = client.post(f"/tickets/{noise.number}/resolve", data={
            "csrf_token": token_in(page), "expected_version": str(version_in(page)),
            "text": _reply_box(page, "resolve")}, follow_redirects=True)
        assert "答复市民的内容至少需要 10 个字" in html.unescape(refused.text)
        assert ticket_titled(services, NOISE).state == "in_progress"
    finally:
        opened.close()


# -- the staff API ---------------------------------------------------------------------------


def token_of(services: Services, username: str) -> dict[str, str]:
    def make(session: Session) -> str:
        user = session.scalars(select(StaffUser).where(StaffUser.username == username)).one()
        return api_tokens.create(session, user, "test", lifetime=dt.timedelta(hours=1))[1]

    return {"Authorization": f"Bearer {services.run_sync(make)}"}


API = "/api/v1/staff/reply_templates"


def test_the_staff_api_lists_and_changes_the_tokens_units_templates_only(
        client: TestClient, services: Services) -> None:
    housing, ecology = token_of(services, "housing"), token_of(services, "ecology")
    admin, operator = token_of(services, "admin"), token_of(services, "operator")
    assert client.get(API).status_code == 401

    made = client.post(API, json=CLOSED_SITE, headers=ecology)
    assert made.status_code == 201, made.text
    body = made.json()
    assert {k: body[k] for k in ("title", "text", "scope", "editable")} == {**CLOSED_SITE, "scope": "unit",
                                                                          "editable": True}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["changed_at"]) and body["changed_by"] == "ecology"
    city = client.post(API, json={"title": "感谢来电", "text": "感谢您对我们工作的支持。"}, headers=admin).json()
    assert city["scope"] == "city"

    listed = client.get(API, headers=ecology).json()
    assert [(t["title"], t["scope"], t["editable"]) for t in listed["templates"]] == [
        ("工地已停工", "unit", True), ("感谢来电", "city", False)]
    assert listed["limit"] == 200
    assert [t["title"] for t in client.get(API, headers=housing).json()["templates"]] == ["感谢来电"]
    assert [t["title"] for t in client.get(API, headers=operator).json()["templates"]] == ["感谢来电"]

    # Another unit's template is not found; the city-wide one is the admin's to change.
    for method in ("put", "delete"):
        other = client.request(method.upper(), f"{API}/{body['id']}", headers=housing,
                                json={"title": "改", "text": "改"} if method == "put" else None)
        assert other.status_code == 404 and other.json()["message"] == "没有这条常用语。"
    assert client.put(f"{API}/{city['id']}", json={"title": "改", "text": "改"}, headers=ecology).status_code == 403
    assert client.post(API, json=CLOSED_SITE, headers=operator).status_code == 403
    assert client.put(f"{API}/x1", json=CLOSED_SITE, headers=ecology).status_code == 404

    refused = client.post(API, json={"title": "工地已停工", "text": "另一段"}, headers=ecology)
    assert refused.status_code == 422 and refused.json()["field"] == "template_title"
    assert refused.json()["message"] == "已有标题为「工地已停工」的常用语，请换一个标题。"
    empty = client.post(API, json={"title": "空", "text": ""}, headers=ecology).json()
    assert empty["field"] == "template_text" and empty["message"] == "请填写常用语内容。"

    changed = client.put(f"{API}/{body['id']}", json={"title": "工地已停工", "text": "工地已停工。"}, headers=ecology)
    assert changed.status_code == 200 and changed.json()["text"] == "工地已停工。"
    assert client.delete(f"{API}/{body['id']}", headers=ecology).json() == {"deleted": body["id"]}
    assert [t["title"] for t in client.get(API, headers=ecology).json()["templates"]] == ["感谢来电"]


def test_a_co_handling_unit_and_an_operator_are_offered_templates_above_their_own_reply_boxes(
        client: TestClient, services: Services) -> None:
    operator, housing, ecology = (token_of(services, u) for u in ("operator", "housing", "ecology"))
    filed = client.post("/api/v1/tickets", json={"body": "小区旁工地夜间施工，渣土车经过路面破损。", "phone": "13812345678"})
    number = filed.json()["number"]
    assert client.post(f"/api/v1/staff/tickets/{number}/transfer", headers=operator,
                       json={"unit": "housing", "co_units": ["ecology-environment"]}).status_code == 200
    assert client.post(f"/api/v1/staff/tickets/{number}/accept", headers=ecology, json={}).status_code == 200
    client.post(API, json=CLOSED_SITE, headers=ecology)
    client.post(API, json={"title": "住建局的", "text": "住建局的答复"}, headers=housing)
    client.post(API, json={"title": "感谢来电", "text": "感谢您对我们工作的支持。"}, headers=token_of(services, "admin"))

    login(client, "ecology")
    page = client.get(f"/tickets/{number}").text
    picker = page[page.index('id="part-reply-templates"'):page.index('id="part-reply-form"')]
    assert f"工单{number}办结" in picker and "感谢来电" in picker and "住建局的" not in picker
    assert 'id="resolve-templates"' not in page
    mine = template_id(services, "工地已停工")
    prefilled = client.get(f"/tickets/{number}?reply_for=part_reply&template={mine}").text
    assert _reply_box(prefilled, "part-reply").endswith(f"工单{number}办结。")

    # An operator answering at intake (直接办结) is offered the city-wide templates.
    other = client.post("/api/v1/tickets", json={"body": "咨询社保卡补办需要带什么材料。", "phone": "13812345679"})
    login(client, "operator")
    page = client.get(f"/tickets/{other.json()['number']}").text
    picker = page[page.index('id="answer-templates"'):page.index('id="answer-form"')]
    assert "感谢来电" in picker and "工地已停工" not in picker and "住建局的" not in picker
