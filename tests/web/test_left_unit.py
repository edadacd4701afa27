"""A ticket that has left a unit (returned, taken back by an upheld 改派申请, its 协办 or 二次派单
part answered or returned) stays in the unit's history, but the unit sees it as a 保密 ticket:
no citizen's phone or name, and nothing of what other units did after it left (their names
stay). Alike on the ticket page, the search page and its CSV, and the staff API. The unit's
own ticket, held or answered by it, is shown whole."""
from __future__ import annotations

import csv
import io
import json

from starlette.testclient import TestClient

from dispatch.staff_view import HIDDEN
from tests.web.pages_support import login
from tests.web.test_co_handling_web import act, add_unit_staff, bearer
from web.services import Services

PHONE = "13812345678"
NAME = "李四"
TITLE = "李四反映人民路路灯不亮"
BODY = "我是李四，人民路路灯一个星期不亮了，电话13812345678。"
REPLY = "路灯已于本周修复，线路已更换。"
RATING_NOTE = "市民说很满意，谢谢"


def file(client: TestClient, phone: str = PHONE) -> str:
    response = client.post("/api/v1/tickets", json={"body": BODY, "title": TITLE, "phone": phone, "name": NAME})
    assert response.status_code == 201, response.text
    return response.json()["number"]


def answered_by_transport(client: TestClient, services: Services, number: str) -> None:
    """The ticket goes to transport, which answers the citizen; the operator's 回访 rates it."""
    op, transport = bearer(services, "operator"), bearer(services, "transport")
    act(client, op, number, "transfer", unit="transport")
    act(client, transport, number, "accept")
    act(client, transport, number, "resolve", reply=REPLY)
    act(client, op, number, "follow_up", rating="satisfied", note=RATING_NOTE)


def assert_seen_as_left(client: TestClient, services: Services, username: str, number: str,
                        own_words: str) -> None:
    """What `username`'s unit sees of a ticket that has left it, on every view."""
    headers = bearer(services, username)
    detail = client.get(f"/api/v1/staff/tickets/{number}", headers=headers).json()
    text = json.dumps(detail, ensure_ascii=False)
    assert detail["phone"] == HIDDEN and detail["name"] == HIDDEN
    assert PHONE not in text and NAME not in text   # the body masked as a 保密 ticket's: 138****5678, 李*
    assert REPLY not in text and RATING_NOTE not in text and "satisfied" not in text
    assert detail["reply"] is None and detail["rating"] is None
    assert own_words in text   # its own steps stay
    assert detail["left_unit"] is True
    assert any(e["unit"] == "济源示范区交通运输局" and e["action"] == "resolve" for e in detail["events"])
    listed = client.get("/api/v1/staff/tickets", params={"q": number}, headers=headers).json()["tickets"]
    assert [t["number"] for t in listed] == [number] and NAME not in listed[0]["title"]
    by_phone = client.get("/api/v1/staff/tickets", params={"q": PHONE}, headers=headers).json()["tickets"]
    assert number not in [t["number"] for t in by_phone]

    login(client, username)
    page = client.get(f"/tickets/{number}")
    assert page.status_code == 200
    assert 'id="left-unit"' in page.text and own_words in page.text
    for hidden in (PHONE, NAME, REPLY, RATING_NOTE, "满意"):
        assert hidden not in page.text, hidden
    found = client.get("/search", params={"q": number})
    assert number in found.text and NAME not in found.text and "李*反映人民路路灯不亮" in found.text
    for words in (PHONE, NAME):
        assert number not in client.get("/search", params={"q": words}).text, words
    rows = list(csv.reader(io.StringIO(client.get("/search.csv", params={"q": number}).content.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [number]
    assert NAME not in rows[1][8] and "李*" in rows[1][8]


def test_a_unit_sees_a_ticket_it_returned_without_the_citizen_or_the_next_units_work(
        client: TestClient, services: Services) -> None:
    add_unit_staff(services, "transport", "transport")
    number = file(client)
    op, housing = bearer(services, "operator"), bearer(services, "housing")
    act(client, op, number, "transfer", unit="housing")
    act(client, housing, number, "return", reason="路灯归交通局管理")
    answered_by_transport(client, services, number)
    assert_seen_as_left(client, services, "housing", number, "路灯归交通局管理")
    # The unit that answered the citizen sees its finished ticket whole.
    detail = client.get(f"/api/v1/staff/tickets/{number}", headers=bearer(services, "transport")).json()
    assert not detail.get("left_unit") and detail["phone"] == "+86" + PHONE and detail["name"] == NAME
    assert detail["reply"] == REPLY and detail["rating"] == "satisfied"


def test_a_unit_whose_dispute_was_upheld_sees_the_ticket_as_left(client: TestClient, services: Services) -> None:
    add_unit_staff(services, "transport", "transport")
    number = file(client)
    op, housing, supervisor = (bearer(services, u) for u in ("operator", "housing", "supervisor"))
    act(client, op, number, "transfer", unit="housing")
    act(client, housing, number, "accept")
    act(client, housing, number, "dispute", reason="签收后发现属交通局职责")
    act(client, supervisor, number, "decide_dispute", approve=True, reason="同意改派")
    answered_by_transport(client, services, number)
    assert_seen_as_left(client, services, "housing", number, "签收后发现属交通局职责")


def test_a_co_handling_unit_whose_part_is_answered_sees_the_ticket_as_left(
        client: TestClient, services: Services) -> None:
    add_unit_staff(services, "transport", "transport")
    add_unit_staff(services, "urban", "urban-management")
    number = file(client)
    op, housing, urban = (bearer(services, u) for u in ("operator", "housing", "urban"))
    act(client, op, number, "transfer", unit="housing", co_units=["urban-management"])
    act(client, urban, number, "accept")
    act(client, urban, number, "part_reply", reply="城管已清理路灯下的占道摊点")
    # Until the lead answers, what the co-unit did is all there is; then the lead's answer and 回访.
    act(client, housing, number, "accept")
    act(client, housing, number, "resolve", reply=REPLY)
    act(client, op, number, "follow_up", rating="satisfied", note=RATING_NOTE)
    headers = bearer(services, "urban")
    detail = client.get(f"/api/v1/staff/tickets/{number}", headers=headers).json()
    text = json.dumps(detail, ensure_ascii=False)
    assert detail["phone"] == HIDDEN and detail["name"] == HIDDEN
    assert PHONE not in text and REPLY not in text and RATING_NOTE not in text and detail["rating"] is None
    assert detail["left_unit"] is True
    assert [p["reply"] for p in detail["parts"]] == ["城管已清理路灯下的占道摊点"]   # its own part
    login(client, "urban")
    page = client.get(f"/tickets/{number}").text
    assert "城管已清理路灯下的占道摊点" in page and REPLY not in page and PHONE not in page and NAME not in page
    assert NAME not in client.get("/search", params={"q": number}).text
    assert number not in client.get("/search", params={"q": PHONE}).text


def test_a_sub_unit_that_returned_its_part_sees_the_ticket_as_left(client: TestClient, services: Services) -> None:
    add_unit_staff(services, "gas", "gas")
    number = file(client)
    op, housing, gas = (bearer(services, u) for u in ("operator", "housing", "gas"))
    act(client, op, number, "transfer", unit="housing")
    act(client, housing, number, "accept")
    act(client, housing, number, "forward", unit="gas")
    act(client, gas, number, "return", reason="不属燃气公司")
    act(client, housing, number, "resolve", reply=REPLY)
    detail = client.get(f"/api/v1/staff/tickets/{number}", headers=gas).json()
    text = json.dumps(detail, ensure_ascii=False)
    assert PHONE not in text and NAME not in text and REPLY not in text
    assert "不属燃气公司" in text and detail["left_unit"] is True


def test_the_units_own_held_ticket_is_shown_whole(client: TestClient, services: Services) -> None:
    number = file(client)
    op, housing = bearer(services, "operator"), bearer(services, "housing")
    act(client, op, number, "transfer", unit="housing")
    act(client, housing, number, "accept")
    detail = client.get(f"/api/v1/staff/tickets/{number}", headers=housing).json()
    assert not detail.get("left_unit")
    assert detail["phone"] == "+86" + PHONE and detail["name"] == NAME and detail["title"] == TITLE
    assert detail["body"] == BODY
    listed = client.get("/api/v1/staff/tickets", params={"q": PHONE}, headers=housing).json()["tickets"]
    assert [(t["number"], t["title"]) for t in listed] == [(number, TITLE)]
    login(client, "housing")
    page = client.get(f"/tickets/{number}").text
    assert NAME in page and 'id="left-unit"' not in page
    assert TITLE in client.get("/search", params={"q": PHONE}).text
    rows = list(csv.reader(io.StringIO(client.get("/search.csv", params={"q": number}).content.decode("utf-8-sig"))))
    assert rows[1][8] == TITLE


def test_a_sub_unit_sees_its_own_part_not_the_parents_pending_extension(
        client: TestClient, services: Services) -> None:
    add_unit_staff(services, "gas", "gas")
    number = file(client)
    op, housing, gas = (bearer(services, u) for u in ("operator", "housing", "gas"))
    act(client, op, number, "transfer", unit="housing")
    act(client, housing, number, "accept")
    act(client, housing, number, "forward", unit="gas")
    act(client, housing, number, "request_extension", days=15, reason="需协调多个部门施工")
    assert client.get(f"/api/v1/staff/tickets/{number}", headers=gas).json()["pending_extension"] is None
    assert client.get(f"/api/v1/staff/tickets/{number}", headers=housing).json()["pending_extension"]["days"] == 15
    login(client, "gas")
    page = client.get(f"/tickets/{number}").text
    assert "<dt>延期申请</dt>" not in page and "待审批" not in page
    login(client, "housing")
    assert "15 个工作日，待审批" in client.get(f"/tickets/{number}").text


def test_a_ticket_that_left_the_unit_is_not_among_the_similar_ones_it_is_shown(
        client: TestClient, services: Services) -> None:
    left, held = file(client), file(client, phone="13900002222")
    op, housing = bearer(services, "operator"), bearer(services, "housing")
    for number in (left, held):
        act(client, op, number, "transfer", unit="housing")
    act(client, housing, left, "return", reason="不属本单位")
    similar = client.get(f"/api/v1/staff/tickets/{held}/similar", headers=op).json()["similar"]
    assert left in [s["number"] for s in similar]   # a dispatcher sees it
    similar = client.get(f"/api/v1/staff/tickets/{held}/similar", headers=housing).json()["similar"]
    assert left not in [s["number"] for s in similar]
