"""主办 / 协办 and 二次派单 through the staff API (bearer tokens) and the staff pages (forms
with CSRF tokens): the co-handling unit's inbox, its part reply, forwarding to a sub-unit,
and what the citizen reads."""
from __future__ import annotations

import datetime as dt
import re
import threading

import httpx

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from dispatch import api_tokens
from dispatch.demo import DEMO_PASSWORD
from dispatch.models import StaffUser, Ticket
from dispatch.staff import create_user
from dispatch.vocabulary import Role
from web.app import create_app
from web.services import Services
from tests.web.pages_support import csrf, login, refused, token_in, version_in
from tests.web.server import ServerThread


def add_unit_staff(services: Services, username: str, unit_code: str) -> None:
    services.run_sync(lambda s: create_user(s, username, DEMO_PASSWORD, Role.UNIT_STAFF, unit_code=unit_code))


def bearer(services: Services, username: str) -> dict[str, str]:
    def make(session: Session) -> str:
        user = session.scalars(select(StaffUser).where(StaffUser.username == username)).one()
        return api_tokens.create(session, user, "test", lifetime=dt.timedelta(hours=1))[1]

    return {"Authorization": f"Bearer {services.run_sync(make)}"}


def file(client: TestClient, body: str) -> tuple[str, str]:
    response = client.post("/api/v1/tickets", json={"body": body, "phone": "13812345678", "name": "李四"})
    assert response.status_code == 201, response.text
    return response.json()["number"], response.json()["query_code"]


def act(client: TestClient, headers: dict[str, str], number: str, action: str, expect: int = 200,
        **body: object) -> dict:
    response = client.post(f"/api/v1/staff/tickets/{number}/{action}", json=body, headers=headers)
    assert response.status_code == expect, response.text
    return response.json()


def forwarded_to_gas(client: TestClient, services: Services) -> tuple[str, dict[str, str], dict[str, str]]:
    """A gas leak transferred to housing, accepted and forwarded to its sub-unit, the gas
    company: its number and the housing and gas staff's headers."""
    add_unit_staff(services, "gas", "gas")
    op, housing, gas = (bearer(services, u) for u in ("operator", "housing", "gas"))
    number, _ = file(client, "小区燃气表箱漏气，闻到很重的气味。")
    act(client, op, number, "transfer", unit="housing")
    act(client, housing, number, "accept")
    act(client, housing, number, "forward", unit="gas")
    return number, housing, gas


def test_a_co_handled_ticket_over_the_staff_api(client: TestClient, services: Services) -> None:
    for username, code in (("transport", "transport"), ("urban", "urban-management")):
        add_unit_staff(services, username, code)
    op, housing, transport, urban, hr = (bearer(services, u) for u in ("operator", "housing", "transport", "urban", "hr"))
    number, code = file(client, "李四反映：人民路燃气管道施工后路面一直没有恢复，井盖也松了。")
    # "category" belongs to the dispatch catalogue; the transfer takes it and names its units.
    moved = act(client, op, number, "transfer", unit="housing", co_units=["transport", "urban-management"],
                category="城乡建设/城市建设和市政管理/燃气供应")
    assert moved["unit_code"] == "housing" and moved["state"] == "transferred"
    detail = client.get(f"/api/v1/staff/tickets/{number}", headers=transport).json()
    assert detail["allowed_actions"] == ["accept", "return"]
    assert [(p["unit_code"], p["role"], p["status"]) for p in detail["parts"]] == [
        ("transport", "co", "pending"), ("urban-management", "co", "pending")]
    listed = client.get("/api/v1/staff/notices", headers=transport).json()["notices"]
    assert [(n["kind"], n["ticket"]) for n in listed] == [("co_handling", number)]

    assert act(client, housing, number, "accept")["part"] is None   # the lead's 签收 is of the ticket
    # A co-handling unit's 签收 is of its part: the answer says what became of the part, beside
    # the ticket, which stays with the lead in its own state.
    taken = act(client, transport, number, "accept")
    assert (taken["number"], taken["state"], taken["state_label"], taken["unit_code"]) == (
        number, "in_progress", "在办", "housing")
    part = taken["part"]
    assert {k: part[k] for k in ("unit_code", "unit", "role", "status", "status_label", "reply")} == {
        "unit_code": "transport", "unit": "济源示范区交通运输局", "role": "co", "status": "accepted",
        "status_label": "已签收", "reply": None}
    assert part == next(p for p in client.get(f"/api/v1/staff/tickets/{number}", headers=transport).json()["parts"]
                        if p["unit_code"] == "transport") | {"status_label": "已签收"}
    returned = act(client, urban, number, "return", reason="井盖归燃气公司，不属城管")
    assert (returned["state"], returned["part"]["unit_code"], returned["part"]["status"],
            returned["part"]["return_reason"]) == ("in_progress", "urban-management", "returned", "井盖归燃气公司，不属城管")
    # A unit without a part may not even see the ticket; the lead has no part to reply.
    act(client, hr, number, "part_reply", 404, reply="代答")
    refused = act(client, housing, number, "part_reply", 403, reply="代答")
    assert re.search(r"[\u4e00-\u9fff]", refused["message"])
    waiting = act(client, housing, number, "resolve", 409, reply="已恢复路面，经现场核实问题已解决")
    assert "济源示范区交通运输局" in waiting["message"]
    replied = act(client, transport, number, "part_reply", reply="路面已于本周恢复，李四可到现场查看。")
    assert (replied["part"]["status"], replied["part"]["status_label"]) == ("replied", "已答复")
    done = act(client, housing, number, "resolve", reply="管道和井盖已修好。")
    assert done["state"] == "resolved"

    public = client.get(f"/api/v1/tickets/{number}", params={"code": code}).json()
    assert public["reply"] == "管道和井盖已修好。"
    assert public["parts"] == [{"unit": "济源示范区交通运输局", "reply": "路面已于本周恢复，李*可到现场查看。"}]
    status = client.get(f"/status?number={number}&code={code}")
    assert "协办单位意见" in status.text and "路面已于本周恢复" in status.text and "李四" not in status.text


def test_forwarding_to_a_sub_unit_over_the_api(client: TestClient, services: Services) -> None:
    add_unit_staff(services, "gas", "gas")
    op, housing, gas = (bearer(services, u) for u in ("operator", "housing", "gas"))
    number, _ = file(client, "小区燃气表箱漏气，闻到很重的气味。")
    act(client, op, number, "transfer", unit="housing")
    act(client, housing, number, "accept")
    refused = act(client, housing, number, "forward", 422, unit="qinyuan-xuanhua")
    assert refused["field"] == "unit" and "下级单位" in refused["message"]
    act(client, housing, number, "forward", unit="gas")
    act(client, gas, number, "forward", 403, unit="gas")   # the sub-unit does not hold the ticket
    act(client, gas, number, "return", reason="表箱属物业")
    act(client, housing, number, "forward", unit="gas")
    act(client, gas, number, "accept")
    act(client, gas, number, "part_reply", reply="已关阀换表")
    detail = client.get(f"/api/v1/staff/tickets/{number}", headers=housing).json()
    assert detail["unit_code"] == "housing" and detail["state"] == "in_progress"
    assert [p["status"] for p in detail["parts"]] == ["returned", "replied"]
    assert [e["role"] for e in detail["events"] if e["action"].startswith("part_")] == ["forward", "forward"]
    assert act(client, housing, number, "resolve", reply="燃气公司已关阀换表。")["state"] == "resolved"
    # On the ticket page a sub-unit's steps are its own, not co-handling's.
    login(client, "housing")
    timeline = client.get(f"/tickets/{number}").text.split('class="timeline"')[1]
    assert "下级单位签收" in timeline and "下级单位答复" in timeline and "协办" not in timeline


def test_the_pages_transfer_with_co_units_and_the_co_unit_replies_from_its_inbox(
        client: TestClient, services: Services) -> None:
    add_unit_staff(services, "transport", "transport")
    number, code = file(client, "李四反映：人民路燃气施工后路面没有恢复。")
    login(client, "operator")
    page = client.get(f"/tickets/{number}")
    assert 'id="co-units"' in page.text
    posted = client.post(f"/tickets/{number}/transfer", data={
        "csrf_token": token_in(page.text), "expected_version": str(version_in(page.text)), "unit_code": "housing",
        "co_units": ["transport"], "source": "picker"})
    assert posted.status_code == 303, posted.text

    login(client, "transport")
    inbox = client.get("/unit")
    row = re.search(rf'<tr[^>]*>(?:(?!</tr>).)*{number}(?:(?!</tr>).)*</tr>', inbox.text, re.S)
    assert row and 'data-part="co"' in row.group(0) and "协办" in row.group(0)
    assert 'title="主办：济源示范区住房和城乡建设局"' in row.group(0) and '<span class="tag">待签收</span>' in row.group(0)
    assert "待签收 <b>1</b>" in inbox.text   # the part not yet taken counts as new
    page = client.get(f"/tickets/{number}")
    assert 'id="accept-form"' in page.text and 'id="part-reply-form"' not in page.text
    assert "<h2>签收协办</h2>" in page.text and "办理协办" not in page.text
    no_token = client.post(f"/tickets/{number}/accept", data={"expected_version": str(version_in(page.text))})
    assert no_token.status_code == 403
    assert client.post(f"/tickets/{number}/accept", data={
        "csrf_token": token_in(page.text), "expected_version": str(version_in(page.text))}).status_code == 303
    page = client.get(f"/tickets/{number}")
    # Accepted: the page says what the unit does now (answer or return its part), not 签收 again.
    assert "签收协办" not in page.text and 'id="accept-form"' not in page.text
    handling = page.text.split('id="part-reply"')[1].split("</section>")[0]
    assert "<h2>办理协办</h2>" in handling and 'id="part-reply-form"' in handling and 'id="return-form"' in handling
    assert client.post(f"/tickets/{number}/part_reply", data={
        "csrf_token": token_in(page.text), "expected_version": str(version_in(page.text)),
        "text": "路面已恢复。"}).status_code == 303
    page = client.get(f"/tickets/{number}?done=part_reply")
    assert "已答复主办单位" in page.text and 'data-status="replied"' in page.text

    login(client, "housing")
    page = client.get(f"/tickets/{number}")
    assert 'data-unit="transport"' in page.text and "路面已恢复。" in page.text
    assert client.post(f"/tickets/{number}/accept", data={
        "csrf_token": token_in(page.text), "expected_version": str(version_in(page.text))}).status_code == 303
    page = client.get(f"/tickets/{number}")
    assert 'id="forward-form"' in page.text and "济源市燃气公司" in page.text
    assert client.post(f"/tickets/{number}/forward", data={
        "csrf_token": token_in(page.text), "expected_version": str(version_in(page.text)),
        "unit_code": "gas"}).status_code == 303
    inbox = client.get("/unit")
    assert "已二次派单 济源市燃气公司" in inbox.text
    with services.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None and ticket.state == "in_progress"
    assert csrf(client, "/unit")


def test_a_co_unit_finds_the_part_it_answered_and_its_notice_says_it_answered(
        client: TestClient, services: Services) -> None:
    """Once answered, a 协办 part leaves the unit's worklist: the inbox lists it under 最近答复
    (the citizen masked, as the ticket's page shows it to the unit), and the notice that gave
    the part says 已答复协办, not 已移出本单位 as if the ticket had been taken elsewhere."""
    add_unit_staff(services, "transport", "transport")
    number, _ = file(client, "李四反映：人民路燃气施工后路面没有恢复。")
    op, transport = bearer(services, "operator"), bearer(services, "transport")
    act(client, op, number, "transfer", unit="housing", co_units=["transport"])
    act(client, transport, number, "accept")
    login(client, "transport")
    assert 'id="answered-parts"' in (inbox := client.get("/unit").text)
    assert number not in inbox.split('id="answered-parts"')[1]
    act(client, transport, number, "part_reply", reply="路面已恢复。")

    inbox = client.get("/unit").text
    worklist, answered = inbox.split('id="inbox-list"')[1].split('id="notices"')[0], \
        inbox.split('id="answered-parts"')[1].split("</section>")[0]
    assert number not in worklist
    row = re.search(rf"<tr>(?:(?!</tr>).)*{number}(?:(?!</tr>).)*</tr>", answered, re.S)
    assert row and "协办" in row.group(0) and "李四" not in row.group(0) and "人民路燃气施工" in row.group(0)
    notice = re.search(rf'<li class="[^"]*"[^>]*>(?:(?!</li>).)*{number}(?:(?!</li>).)*</li>',
                       client.get("/unit/notices").text, re.S)
    assert notice and 'data-done="true"' in notice.group(0)
    assert "已答复协办" in notice.group(0) and "已移出本单位" not in notice.group(0)
    listed = client.get("/api/v1/staff/notices", headers=transport).json()["notices"]
    assert [(n["ticket_left_unit"], n["part_answered"]) for n in listed if n["ticket"] == number] == [(True, "co")]


def test_every_co_handling_event_and_notice_reads_in_chinese() -> None:
    from web.pages.labels import ACTIONS_ZH, NOTICE_KINDS_ZH, PART_ROLES_ZH, PART_STATUS_ZH

    for action in ("co_transfer", "part_accept", "part_return", "part_reply", "forward", "hand_back",
                   "override_parts"):
        assert re.search(r"[\u4e00-\u9fff]", ACTIONS_ZH[action]), action
    for words in (*(NOTICE_KINDS_ZH[k] for k in ("co_handling", "forwarded", "part")), *PART_ROLES_ZH.values(),
                  *PART_STATUS_ZH.values()):
        assert re.search(r"[\u4e00-\u9fff]", words)


def test_the_ticket_page_and_the_inbox_show_the_deadline_class(client: TestClient, services: Services) -> None:
    op = bearer(services, "operator")
    number, _ = file(client, "李四反映：小区燃气管道漏气，煤气味很重。")
    before = client.get(f"/api/v1/staff/tickets/{number}", headers=op).json()["deadline"]
    assert client.get(f"/api/v1/staff/tickets/{number}", headers=op).json()["deadline_class"] is None
    act(client, op, number, "transfer", unit="gas", category="城乡建设/城市建设和市政管理/燃气供应")
    detail = client.get(f"/api/v1/staff/tickets/{number}", headers=op).json()
    after = detail["deadline"]
    assert after < before          # urgent: one working day from dispatch
    assert detail["deadline_class"] == "urgent"
    add_unit_staff(services, "gasman", "gas")
    login(client, "gasman")
    inbox = client.get("/unit").text
    row = re.search(rf'<tr[^>]*>(?:(?!</tr>).)*{number}(?:(?!</tr>).)*</tr>', inbox, re.S)
    assert row and 'data-class="urgent"' in row.group(0) and "紧急件" in row.group(0)
    page = client.get(f"/tickets/{number}").text
    assert re.search(r'id="deadline-class" data-class="urgent"[^>]*>紧急件 · 1个工作日<', page)


def test_the_parent_is_warned_before_resolving_over_an_open_forward_and_the_part_shows_taken_back(
        client: TestClient, services: Services) -> None:
    number, housing, gas = forwarded_to_gas(client, services)
    login(client, "housing")
    page = client.get(f"/tickets/{number}")
    warning = re.search(r'<p class="alert" id="open-forward"[^>]*>([^<]*)</p>', page.text)
    assert warning and "济源市燃气公司" in warning.group(1) and "收回" in warning.group(1)
    assert client.post(f"/tickets/{number}/resolve", data={
        "csrf_token": token_in(page.text), "expected_version": str(version_in(page.text)),
        "text": "本局已派人关阀，并更换了燃气表。"}).status_code == 303
    page = client.get(f"/tickets/{number}")
    assert 'data-status="withdrawn"' in page.text and "已收回" in page.text and "待签收" not in page.text
    assert 'id="open-forward"' not in page.text
    assert "收回二次派单" in page.text.split('class="timeline"')[1]
    listed = client.get("/api/v1/staff/notices", headers=gas).json()["notices"]
    assert [(n["kind"], n["read_at"] is None) for n in listed] == [("forwarded", True), ("forwarded", False)]
    assert "已收回" in listed[0]["text"]


def test_the_inbox_counts_link_to_the_lines_they_count_and_a_finished_tickets_notice_is_done(
        client: TestClient, services: Services) -> None:
    from dispatch import unit_inbox
    from dispatch.clock import utcnow

    op, housing = bearer(services, "operator"), bearer(services, "housing")
    waiting, taken = (file(client, f"小区燃气表箱漏气，第{i}栋。")[0] for i in (1, 2))
    for number in (waiting, taken):
        act(client, op, number, "transfer", unit="housing")
    act(client, housing, taken, "accept")
    login(client, "housing")
    page = client.get("/unit")
    counts = page.text.split('id="inbox-counts"')[1].split("</ul>")[0]
    assert 'href="/unit?show=new#inbox"' in counts and 'href="/unit?show=overdue#inbox"' in counts
    inbox = page.text.split('id="inbox"')[1].split("</table>")[0]
    assert waiting in inbox and taken in inbox
    new = client.get("/unit?show=new").text
    rows = new.split('id="inbox"')[1].split("</table>")[0]
    assert waiting in rows and taken not in rows and "只看待签收" in new
    assert client.get("/unit?show=bogus").status_code == 200   # an unknown part: the whole inbox
    # A page of one line: the 待签收 ticket is the first line of 待签收, whatever comes first in all.
    with services.sessions() as session:
        unit_id = session.scalar(select(StaffUser.unit_id).where(StaffUser.username == "housing"))
        assert unit_id is not None
        assert [line.number for line in unit_inbox.page(session, unit_id, utcnow(), offset=0, size=1,
                                                         show="new")] == [waiting]
        assert [line.number for line in unit_inbox.page(session, unit_id, utcnow(), offset=0, size=1,
                                                         show="overdue")] == []
    # Both transfers told the unit; the one resolved since is done, out of the unread count.
    before = re.search(r'id="unread-count">(\d+) 条未读', page.text)
    act(client, housing, taken, "resolve", reply="已关阀换表，经现场核实问题已解决。")
    after_page = client.get("/unit").text
    after = re.search(r'id="unread-count">(\d+) 条未读', after_page)
    assert before and after and int(after.group(1)) == int(before.group(1)) - 1
    done = re.search(rf'<li class="read notice-transferred" data-done="true">(?:(?!</li>).)*{taken}(?:(?!</li>).)*', after_page, re.S)
    assert done and "已办结" in done.group(0)


def test_a_sub_unit_reads_its_own_steps_and_forwarding_without_a_choice_names_the_sub_unit(
        client: TestClient, services: Services) -> None:
    add_unit_staff(services, "gas", "gas")
    add_unit_staff(services, "transport", "transport")
    op, housing = bearer(services, "operator"), bearer(services, "housing")
    number, _ = file(client, "小区燃气表箱漏气，路面也没有恢复。")
    act(client, op, number, "transfer", unit="housing", co_units=["transport"])
    act(client, housing, number, "accept")
    login(client, "housing")
    page = client.get(f"/tickets/{number}")
    posted = client.post(f"/tickets/{number}/forward", data={
        "csrf_token": token_in(page.text), "expected_version": str(version_in(page.text)), "unit_code": ""})
    assert "请选择二次派单的下级单位" in refused(client, posted)
    refusal = act(client, housing, number, "forward", 422)
    assert refusal["message"] == "请选择二次派单的下级单位。" and refusal["reason"] == "unit_required"   # as documented
    act(client, housing, number, "forward", unit="gas")

    login(client, "gas")
    page = client.get(f"/tickets/{number}").text
    forms = page.split('id="accept-form"')[0].rsplit('<section class="card">', 1)[1] + page.split('id="return-form"')[1].split("</form>")[0]
    assert "退回上级单位" in forms and "签收二次派单" in forms and "退单" not in forms and "协办" not in forms
    act(client, bearer(services, "gas"), number, "accept")
    page = client.get(f"/tickets/{number}").text
    reply = page.split('id="part-reply"')[1].split("</section>")[0]
    assert "下级单位答复" in reply and "答复上级单位" in reply and "协办" not in reply
    assert "<h2>办理二次派单</h2>" in reply and "退回上级单位" in reply and "签收二次派单" not in page

    login(client, "transport")   # a co-handling unit keeps the words of 协办
    page = client.get(f"/tickets/{number}").text
    assert "退回协办" in page.split('id="return-form"')[1].split("</form>")[0]


def test_the_lead_is_warned_of_a_silent_co_unit_before_typing_its_reply(client: TestClient, services: Services) -> None:
    add_unit_staff(services, "transport", "transport")
    op, housing = bearer(services, "operator"), bearer(services, "housing")
    number, _ = file(client, "李四反映：人民路燃气施工后路面没有恢复。")
    act(client, op, number, "transfer", unit="housing", co_units=["transport"])
    act(client, housing, number, "accept")
    login(client, "housing")
    page = client.get(f"/tickets/{number}").text
    warning = re.search(r'<p class="alert" id="co-parts-waiting" data-units="transport">(.*?)</p>', page, re.S)
    assert warning, "no warning over the 办结 form"
    assert "交通运输局尚未答复" in warning.group(1) and "同意先行办结" in warning.group(1)
    assert page.index('id="co-parts-waiting"') < page.index('id="resolve-form"')
    assert '<a href="#progress">办理进展</a>' in warning.group(1) and 'id="progress-form"' in page
    # Once the co-handling unit has answered, no warning.
    act(client, bearer(services, "transport"), number, "accept")
    act(client, bearer(services, "transport"), number, "part_reply", reply="路面已恢复。")
    assert 'id="co-parts-waiting"' not in client.get(f"/tickets/{number}").text


def test_a_sub_unit_sees_its_leads_extension_request_without_its_reason(client: TestClient,
                                                                         services: Services) -> None:
    number, housing, gas = forwarded_to_gas(client, services)
    act(client, housing, number, "request_extension", working_days=3, reason="需协调市政审批管线改造")

    def steps(headers: dict[str, str]) -> list[object]:
        events = client.get(f"/api/v1/staff/tickets/{number}", headers=headers).json()["events"]
        return [e["note"] for e in events if e["action"] == "request_extension"]

    assert steps(housing) == ["需协调市政审批管线改造"] and steps(gas) == [None]
    login(client, "gas")
    timeline = client.get(f"/tickets/{number}").text.split('class="timeline"')[1]
    assert "申请延期" in timeline and "市政审批" not in timeline


def test_the_lead_asks_to_resolve_first_and_the_supervisor_decides(client: TestClient, services: Services) -> None:
    add_unit_staff(services, "transport", "transport")
    op, housing, transport, sup, hr = (bearer(services, u)
                                       for u in ("operator", "housing", "transport", "supervisor", "hr"))
    number, _ = file(client, "李四反映：人民路燃气施工后路面没有恢复。")
    act(client, op, number, "transfer", unit="housing", co_units=["transport"])
    act(client, housing, number, "accept")
    # Only the lead unit asks: another unit does not see the ticket, the co unit and a supervisor may not.
    act(client, hr, number, "override-request", 404, reason="代问")
    assert re.search(r"[\u4e00-\u9fff]", act(client, transport, number, "override-request", 403, reason="代问")["message"])
    act(client, sup, number, "override-request", 403, reason="代问")
    blank = act(client, housing, number, "override-request", 422, reason="")
    assert blank["field"] == "reason" and re.search(r"[\u4e00-\u9fff]", blank["message"])
    long = act(client, housing, number, "override-request", 422, reason="长" * 501)
    assert "500" in long["message"] and re.search(r"[\u4e00-\u9fff]", long["message"])
    act(client, housing, number, "override-request", reason="交通局三天未答复，路面已由我局修好")
    again = act(client, housing, number, "override-request", 409, reason="再问一次")
    assert "已有一条先行办结申请" in again["message"]
    assert "request_override" not in client.get(f"/api/v1/staff/tickets/{number}", headers=housing).json()[
        "allowed_actions"]

    # The supervisor's list and the ticket page.
    login(client, "supervisor")
    dashboard = client.get("/supervisor").text
    listed = dashboard[dashboard.index('id="table-override_requests"'):].split("</section>")[0]
    assert number in listed and "交通局三天未答复" in listed and f"/tickets/{number}" in listed
    page = client.get(f"/tickets/{number}").text
    assert 'id="refuse-override-form"' in page and 'id="override-parts-form"' in page
    assert "交通局三天未答复" in page.split('id="override-parts"')[1].split("</section>")[0]
    # Only supervisors decide; a refusal tells the lead unit why.
    refused = client.post(f"/api/v1/staff/tickets/{number}/override-request/refuse", json={"reason": "不行"},
                          headers=housing)
    assert refused.status_code == 403
    assert client.post(f"/tickets/{number}/refuse_override", data={
        "csrf_token": token_in(page), "expected_version": str(version_in(page)),
        "text": "请再催交通局一天"}).status_code == 303
    dashboard = client.get("/supervisor").text
    assert number not in dashboard[dashboard.index('id="table-override_requests"'):].split("</section>")[0]
    notices = client.get("/api/v1/staff/notices", headers=housing).json()["notices"]
    assert [(n["kind"], n["ticket"]) for n in notices if n["kind"] == "override"] == [("override", number)]
    assert "请再催交通局一天" in [n for n in notices if n["kind"] == "override"][0]["text"]
    nothing = client.post(f"/api/v1/staff/tickets/{number}/override-request/refuse", json={"reason": "不行"},
                          headers=sup)
    assert nothing.status_code == 409 and "没有等待决定的先行办结申请" in nothing.json()["message"]

    # The lead's page: the refusal, and the form to ask again, in the 办结 form's warning.
    login(client, "housing")
    page = client.get(f"/tickets/{number}").text
    resolve = page.split('id="co-parts-waiting"')[1].split('id="resolve-form"')[0]
    assert 'data-status="refused"' in resolve and "请再催交通局一天" in resolve
    assert 'id="override-request-form"' in resolve
    assert client.post(f"/tickets/{number}/request_override", data={
        "csrf_token": token_in(page), "expected_version": str(version_in(page)),
        "text": "交通局仍未答复"}).status_code == 303
    page = client.get(f"/tickets/{number}?done=request_override").text
    assert "先行办结申请已提交" in page
    resolve = page.split('id="co-parts-waiting"')[1].split('id="resolve-form"')[0]
    assert 'data-status="open"' in resolve and "交通局仍未答复" in resolve and 'id="override-request-form"' not in resolve

    # Agreed through the existing 同意先行办结: the request is closed and the lead resolves.
    act(client, sup, number, "override_parts", reason="同意先行办结")
    assert client.post(f"/api/v1/staff/tickets/{number}/override-request/refuse", json={"reason": "晚了"},
                       headers=sup).status_code == 409
    login(client, "supervisor")
    dashboard = client.get("/supervisor").text
    assert number not in dashboard[dashboard.index('id="table-override_requests"'):].split("</section>")[0]
    assert act(client, housing, number, "resolve", reply="路面已恢复。")["state"] == "resolved"


def test_two_requests_to_resolve_first_sent_at_once_one_is_filed_the_other_is_409(services: Services) -> None:
    """Two of the lead unit's staff press 申请先行办结 at the same moment, over a real server on
    loopback: the ticket's row lock lets one in, the other waits and is told one is already
    waiting (PostgreSQL); SQLite's single writer orders them the same way. Every request goes
    to that one server (a second app over the same services beside a test client would run
    two schedulers on one database)."""
    add_unit_staff(services, "transport", "transport")
    add_unit_staff(services, "housing2", "housing")
    op, housing, housing2 = (bearer(services, u) for u in ("operator", "housing", "housing2"))
    bodies = ("李四反映：人民路燃气施工后路面没有恢复。", "学府街雨水井盖破损，夜里有行人踩空。",
              "幸福小区门前道路开挖两周无人回填，车辆无法通行。")
    with ServerThread(create_app(services.settings, services)) as server, \
            httpx.Client(base_url=server.url, timeout=30) as client:
        for body in bodies[:3 if services.engine.dialect.name == "postgresql" else 1]:
            number, _ = file(client, body)  # type: ignore[arg-type]
            act(client, op, number, "transfer", unit="housing", co_units=["transport"])  # type: ignore[arg-type]
            act(client, housing, number, "accept")  # type: ignore[arg-type]
            barrier, answers = threading.Barrier(2), []

            def ask(headers: dict[str, str], reason: str) -> None:
                with httpx.Client(base_url=server.url, timeout=30) as http:
                    barrier.wait(timeout=10)
                    answers.append(http.post(f"/api/v1/staff/tickets/{number}/request_override",
                                             json={"reason": reason}, headers=headers))

            threads = [threading.Thread(target=ask, args=(h, r))
                       for h, r in ((housing, "交通局三天未答复"), (housing2, "路面已由我局修好"))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
            refused = next(a for a in answers if a.status_code == 409).json()
            assert refused["error"] == "conflict" and re.search(r"[\u4e00-\u9fff]", refused["message"])
            events = client.get(f"/api/v1/staff/tickets/{number}", headers=housing).json()["events"]
            assert [e["action"] for e in events].count("request_override") == 1
