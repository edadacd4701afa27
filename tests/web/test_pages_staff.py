"""The staff consoles over HTTP: unit isolation, stale pages, the unit's and the
supervisor's work, CSV export, callbacks and search."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from sqlalchemy import func, select, update
from starlette.testclient import TestClient

from dispatch import follow_up, telephony, unit_inbox
from dispatch.demo import demo_actors
from dispatch.demo_history import HistorySize, generate
from dispatch.clock import utcnow
from dispatch.models import Callback, ExtensionRequest, Notice, StaffActivity, Ticket, TicketEvent, Transfer
from tests.web.pages_support import act, csrf, login, refusal, refused, ticket_titled, token_in, version_in
from web.pages import operator
from web.pages.spreadsheet import csv_cell
from web.services import Services

NOISE = "工地夜间施工噪音扰民"       # in progress with ecology-environment
WAGES = "农民工工资被拖欠"           # transferred to human-resources
BUS = "建议增加公交班次"             # received, waiting for dispatch
MANHOLE = "道路井盖缺失"             # returned by housing


def events_of(services: Services, ticket_id: int) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count(TicketEvent.id)).where(TicketEvent.ticket_id == ticket_id)) or 0)


def test_unit_staff_cannot_see_or_touch_another_units_ticket(client: TestClient, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    before = events_of(services, noise.id)
    login(client, "housing")
    assert client.get(f"/tickets/{noise.number}").status_code == 404
    token = csrf(client, "/unit")
    for action, fields in (("resolve", {"text": "不是我们的"}), ("accept", {}), ("return", {"text": "x"}),
                           ("extend", {"working_days": "5", "text": "x"}), ("transfer", {"unit_code": "housing"})):
        response = client.post(f"/tickets/{noise.number}/{action}",
                               data={"csrf_token": token, "expected_version": str(noise.version), **fields})
        assert response.status_code == 404, action
    assert NOISE not in client.get("/unit").text
    assert NOISE not in client.get("/search", params={"q": "噪音"}).text
    assert "找到 0 件" in client.get("/search", params={"q": noise.number}).text
    # The JSON API gives staff cookies nothing: without the query code it is not found.
    assert client.get(f"/api/v1/tickets/{noise.number}").status_code == 404
    assert ticket_titled(services, NOISE).state == "in_progress"
    assert events_of(services, noise.id) == before


def test_the_unit_inbox_shows_only_its_tickets_soonest_deadline_first(client: TestClient, services: Services) -> None:
    login(client, "operator")
    bus = ticket_titled(services, BUS)
    assert act(client, bus.number, "transfer", unit_code="ecology-environment").status_code == 303
    login(client, "ecology")
    inbox = client.get("/unit").text
    section = inbox[inbox.index('id="inbox"'):inbox.index("最近办结")]
    noise, bus = ticket_titled(services, NOISE), ticket_titled(services, BUS)
    assert noise.deadline < bus.deadline  # type: ignore[operator]
    assert section.index(noise.number) < section.index(bus.number)
    assert WAGES not in section and "河道有人倾倒垃圾" in inbox  # closed: in "recently resolved"


def test_the_unit_inbox_pages_through_its_tickets_in_deadline_order(
        client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unit_inbox, "PAGE_SIZE", 1)
    login(client, "operator")
    assert act(client, ticket_titled(services, BUS).number, "transfer", unit_code="ecology-environment").status_code == 303
    login(client, "ecology")
    noise, bus = ticket_titled(services, NOISE), ticket_titled(services, BUS)
    pages = client.get("/unit").text, client.get("/unit", params={"page": "2"}).text
    assert all("待办 <b>2</b>" in page for page in pages)   # the counts are of the whole inbox
    # The inbox table only: the notices above it name the newly transferred ticket too.
    first, second = (page[page.index('id="inbox"'):page.index('id="notices"')] for page in pages)   # the notices follow
    assert noise.number in first and bus.number not in first and 'href="/unit?page=2" rel="next"' in first
    assert bus.number in second and noise.number not in second and 'href="/unit?page=1" rel="prev"' in second
    assert bus.number in client.get("/unit", params={"page": "9"}).text   # past the end: the last page


def test_the_console_lists_the_oldest_tickets_waiting_and_counts_them_all(
        client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(operator, "WAITING_SHOWN", 1)
    with services.sessions() as session:
        waiting = list(session.scalars(select(Ticket).where(Ticket.state.in_(("received", "returned")))
                                       .order_by(Ticket.received_at)))
    assert len(waiting) >= 2
    login(client, "operator")
    console = client.get("/operator").text
    section = console[console.index("待派单"):console.index('id="follow-up"')]
    assert f'id="waiting-count">{len(waiting)}<' in section and "显示最早受理的 1 件" in section
    assert waiting[0].number in section and waiting[1].number not in section


def test_the_console_shows_why_a_waiting_ticket_was_left_to_the_operator_and_the_entry_proposed(
        client: TestClient, services: Services) -> None:
    bus, manhole = ticket_titled(services, BUS), ticket_titled(services, MANHOLE)
    with services.sessions() as session, session.begin():
        session.execute(update(Ticket).where(Ticket.id == bus.id).values(
            routing={"source": "manual", "reason": "未识别到具体诉求", "entry": {"path": "城乡建设/道路/井盖"}}))
        session.execute(update(Ticket).where(Ticket.id == manhole.id).values(
            routing={"source": "model", "reason": "模型：城乡建设 85%", "entry": None}))
    login(client, "operator")
    console = client.get("/operator").text
    rows = {number: console[console.index(f">{number}<"):][:600].split("</tr>")[0]
            for number in (bus.number, manhole.number)}
    assert "未识别到具体诉求" in rows[bus.number] and "目录：城乡建设/道路/井盖" in rows[bus.number]
    assert "模型：" not in rows[manhole.number] and "目录：" not in rows[manhole.number]   # routed by the model


def test_a_stale_page_gets_a_clear_conflict_and_nothing_is_written(client: TestClient, services: Services) -> None:
    bus = ticket_titled(services, BUS)
    login(client, "operator")
    page = client.get(f"/tickets/{bus.number}").text
    stale = {"csrf_token": token_in(page), "expected_version": str(version_in(page))}
    # Someone else transfers it first.
    assert act(client, bus.number, "transfer", unit_code="transport").status_code == 303
    response = client.post(f"/tickets/{bus.number}/answer", data={**stale, "text": "已答复市民的建议，将转交交通局研究"})
    assert "已被他人处理或修改" in refused(client, response)
    after = ticket_titled(services, BUS)
    assert after.state == "transferred" and after.reply is None


def test_an_empty_return_reason_is_explained_and_the_ticket_stays(client: TestClient, services: Services) -> None:
    login(client, "hr")
    wages = ticket_titled(services, WAGES)
    assert "请填写理由。" in refusal(client, wages.number, "return", text="   ")
    assert ticket_titled(services, WAGES).state == "transferred"
    assert act(client, wages.number, "return", text="应由住建局处理").status_code == 303
    assert ticket_titled(services, WAGES).state == "returned"
    login(client, "supervisor")
    dashboard = client.get("/supervisor").text
    returned = dashboard[dashboard.index('id="table-returned"'):dashboard.index('id="table-overdue"')]
    assert wages.number in returned and "应由住建局处理" in returned


def test_the_extension_form_asks_for_at_most_fifteen_working_days(client: TestClient, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "ecology")
    form = client.get(f"/tickets/{noise.number}").text.split('id="extend-form"')[1].split("</form>")[0]
    assert 'name="working_days" type="number" min="1" max="15"' in form
    assert "应在 1 到 15 之间" in refusal(client, noise.number, "extend", working_days="16", text="需要协调夜间执法")
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ExtensionRequest)) == 0


def test_an_extension_is_asked_by_the_unit_and_approved_by_a_supervisor(client: TestClient, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "ecology")
    assert act(client, noise.number, "extend", working_days="5", text="需要协调夜间执法").status_code == 303
    login(client, "supervisor")
    dashboard = client.get("/supervisor").text
    assert "需要协调夜间执法" in dashboard
    with services.sessions() as session:
        request_id = session.scalar(select(ExtensionRequest.id))
    response = client.post(f"/supervisor/extensions/{request_id}",
                           data={"csrf_token": token_in(dashboard), "decision": "approve", "note": "同意"},
                           headers={"Referer": "http://testserver/supervisor?extensions_page=3&days=7"})
    # Back to the page of the list it was decided on (clamped to the list's last page there).
    assert response.status_code == 303
    assert response.headers["location"] == "/supervisor?extensions_page=3&done=approved#table-extensions"
    assert ticket_titled(services, NOISE).deadline > noise.deadline  # type: ignore[operator]
    # The unit that asked hears the decision in its notices.
    with services.sessions() as session:
        told = session.scalars(select(Notice).where(Notice.kind == "extension")).all()
        assert [(n.ticket_id, n.unit_id) for n in told] == [(noise.id, noise.unit_id)]
        assert "延期申请已同意" in told[0].text and "新的办理时限" in told[0].text and "同意" in told[0].text
    again = client.post(f"/supervisor/extensions/{request_id}",
                        data={"csrf_token": token_in(dashboard), "decision": "refuse"})
    assert again.status_code == 409


def test_an_escalation_reaches_the_units_inbox(client: TestClient, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "supervisor")
    assert act(client, noise.number, "escalate", text="请今天内答复").status_code == 303
    login(client, "ecology")
    assert "督办 1" in client.get("/unit").text
    assert "请今天内答复" in client.get(f"/tickets/{noise.number}").text


def test_operators_may_not_escalate_and_units_may_not_dispatch(client: TestClient, services: Services) -> None:
    noise, bus = ticket_titled(services, NOISE), ticket_titled(services, BUS)
    login(client, "operator")
    token = csrf(client, "/operator")
    response = client.post(f"/tickets/{noise.number}/escalate",
                           data={"csrf_token": token, "expected_version": str(noise.version), "text": "快"})
    assert response.status_code == 403
    login(client, "housing")
    token = csrf(client, "/unit")
    response = client.post(f"/tickets/{bus.number}/transfer",
                           data={"csrf_token": token, "expected_version": str(bus.version), "unit_code": "housing"})
    assert response.status_code == 404  # not theirs to see, let alone dispatch


def test_any_dashboard_table_exports_as_csv(client: TestClient, services: Services) -> None:
    login(client, "supervisor")
    response = client.get("/supervisor/export/units.csv", params={"days": "7"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:2] == ["单位", "转办"] and "办结率(%)" in rows[0]
    assert any("生态环境局" in row[0] for row in rows[1:])
    for table in ("tickets", "categories", "channels", "daily", "calls", "returned", "overdue", "near_due",
                  "extensions"):
        assert client.get(f"/supervisor/export/{table}.csv").status_code == 200, table
    assert client.get("/supervisor/export/nothing.csv").status_code == 404


def test_the_audit_log_of_a_ticket_shows_every_event(client: TestClient, services: Services) -> None:
    login(client, "supervisor")
    page = client.get(f"/tickets/{ticket_titled(services, '河道有人倾倒垃圾').number}").text
    log = page[page.index('id="audit-log"'):]
    for word in ("受理", "转办", "签收", "办结", "回访关闭"):
        assert word in log


def test_a_missed_call_waits_on_the_callback_list_until_done(client: TestClient, services: Services) -> None:
    now = utcnow()
    services.run_sync(lambda s: telephony.record_call(s, telephony.CallData(
        linkedid="1700000000.7", outcome="abandoned", caller="13803910099", dialed="12345",
        started_at=now - dt.timedelta(minutes=3), queue="hotline", entered_queue_at=now, ended_at=now)))
    login(client, "operator")
    console = client.get("/operator").text
    assert "13803910099" in console
    with services.sessions() as session:
        callback_id = session.scalar(select(Callback.id))
    # 已回拨 without a call asks first: a click must not drop a caller on its own.
    asked = client.post(f"/operator/callbacks/{callback_id}/done",
                        data={"csrf_token": token_in(console), "note": "已回拨，市民已另行解决"})
    assert asked.status_code == 200 and 'id="confirm-callback"' in asked.text
    assert "确认 <b>13803910099</b> 已回拨？" in asked.text
    assert 'name="note" value="已回拨，市民已另行解决"' in asked.text
    with services.sessions() as session:
        assert session.get_one(Callback, callback_id).status == "pending"
    response = client.post(f"/operator/callbacks/{callback_id}/done",
                           data={"csrf_token": token_in(asked.text), "note": "已回拨，市民已另行解决",
                                 "confirmed": "yes"})
    assert response.status_code == 303
    assert "13803910099" not in client.get("/operator").text
    with services.sessions() as session:
        callback = session.get_one(Callback, callback_id)
        assert callback.status == "done" and callback.note == "已回拨，市民已另行解决"
        # The row is edited in place: who closed it stays in the append-only activity log.
        [closed] = session.scalars(select(StaffActivity).where(StaffActivity.kind == "callback_done")).all()
        assert (closed.actor_id, closed.target) == (callback.done_by, f"callback:{callback_id}")
        assert closed.detail == {"caller": "+8613803910099", "via": "by_hand", "note": "已回拨，市民已另行解决"}


def test_the_callback_list_shows_ten_missed_calls_a_page_newest_first(client: TestClient, services: Services) -> None:
    now = utcnow()

    def miss(i: int):  # type: ignore[no-untyped-def]
        at = now - dt.timedelta(minutes=60 - i)
        return lambda s: telephony.record_call(s, telephony.CallData(
            linkedid=f"1700000100.{i}", outcome="abandoned", caller=f"138039102{i:02d}", dialed="12345",
            started_at=at, queue="hotline", entered_queue_at=at, ended_at=at), now=at)

    for i in range(25):
        services.run_sync(miss(i))
    login(client, "operator")

    def listed(page: str) -> tuple[list[str], str]:
        html = client.get("/operator", params={"callbacks_page": page}).text
        section = html[html.index("未接来电回拨"):]
        section = section[:section.index("</section>")]
        return [f"138039102{i:02d}" for i in range(24, -1, -1) if f"138039102{i:02d}" in section], section

    first, section = listed("1")
    assert first == [f"138039102{i:02d}" for i in range(24, 14, -1)]  # the ten newest, newest first
    assert '<span class="count">25</span>' in section
    assert 'href="/operator?callbacks_page=2#callbacks"' in section and "更早" in section and "更新" not in section
    last, section = listed("3")
    assert last == [f"138039102{i:02d}" for i in range(4, -1, -1)]
    assert 'href="/operator?callbacks_page=2#callbacks"' in section and "更早" not in section
    assert listed("99")[0] == last and listed("x")[0] == first


def test_the_follow_up_queue_of_a_busy_city_shows_ten_a_page_oldest_first(client: TestClient,
                                                                         services: Services) -> None:
    # Busy enough on any day of the week: on a Saturday 7 days of 80 left 18 waiting.
    size = HistorySize(days=10, per_day=120, seed=3)
    services.run_sync(lambda s: generate(s, services.city, services.rules, demo_actors(s), size))
    with services.sessions() as session:
        waiting = follow_up.due(session, limit=1000)
    assert len(waiting) > 20, len(waiting)
    login(client, "operator")

    def listed(page: int) -> tuple[list[str], str]:
        html = client.get("/operator", params={"follow_ups_page": str(page)}).text
        section = html[html.index('id="follow-up"'):]
        section = section[:section.index("</section>")]
        return re.findall(r'id="follow-up-([0-9-]+)"', section), section

    first, section = listed(1)
    assert first == [t.number for t in waiting[:10]]
    assert f'<span class="count">{len(waiting)}</span>' in section and "下一页" in section
    assert listed(2)[0] == [t.number for t in waiting[10:20]]


def test_the_search_finds_tickets_by_number_phone_and_text(client: TestClient, services: Services) -> None:
    login(client, "operator")
    noise = ticket_titled(services, NOISE)
    assert noise.number in client.get("/search", params={"q": noise.number}).text
    assert noise.number in client.get("/search", params={"q": "138 0391 0002"}).text
    assert noise.number in client.get("/search", params={"q": "施工噪音"}).text
    assert noise.number not in client.get("/search", params={"q": "公交"}).text


def test_an_operator_files_a_call_and_answers_it_directly(client: TestClient, services: Services) -> None:
    login(client, "operator")
    console = client.get("/operator").text
    response = client.post("/operator/tickets", data={
        "csrf_token": token_in(console), "form_id": "f1", "type": "consultation", "urgency": "normal",
        "phone": "13803910123", "body": "请问公积金提取需要什么材料？"})
    assert response.status_code == 303 and response.headers["location"].endswith("?done=filed")
    number = response.headers["location"].split("/")[2].split("?")[0]
    assert act(client, number, "answer", text="携带身份证和购房合同到公积金中心办理。").status_code == 303
    with services.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None and ticket.state == "answered" and ticket.channel == "phone"


def test_a_repeat_call_filed_on_the_console_says_it_joined_the_open_ticket(
        client: TestClient, services: Services) -> None:
    login(client, "operator")
    fields = {"type": "complaint", "urgency": "normal", "phone": "13803910124",
              "body": "小区东门路灯连续三晚不亮，夜里行人看不清路。"}
    first = client.post("/operator/tickets", data={"csrf_token": csrf(client, "/operator"), "form_id": "r1", **fields})
    assert first.status_code == 303 and first.headers["location"].endswith("?done=filed")
    again = client.post("/operator/tickets", data={"csrf_token": csrf(client, "/operator"), "form_id": "r2", **fields})
    assert again.status_code == 303
    # The same open ticket, with the call joined to it: not a new one to transfer.
    assert again.headers["location"] == first.headers["location"].replace("done=filed", "done=joined")
    page = client.get(again.headers["location"]).text
    assert "该来电人已有在办工单，本次来电已并入本工单" in page and "已受理，请转办或直接办结。" not in page
    number = again.headers["location"].split("/")[2].split("?")[0]
    with services.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None
        actions = session.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id)).all()
        assert "repeat_contact" in actions


def test_a_text_that_never_reached_the_citizen_shows_on_the_supervisor_dashboard(
        client: TestClient, services: Services) -> None:
    from dispatch.models import OutboxMessage

    wages = ticket_titled(services, WAGES)
    with services.sessions.begin() as session:
        now = utcnow()
        session.add(OutboxMessage(ticket_id=wages.id, kind="transferred", recipient="+8613803910003", body="…",
                                  created_at=now, status="submitted", attempts=1, next_attempt_at=now,
                                  provider_sid="SMfailed0001", delivery_status="undelivered", error_code="30003"))
    login(client, "supervisor")
    dashboard = client.get("/supervisor").text
    failed = dashboard[dashboard.index('id="table-sms_failed"'):]
    assert wages.number in failed and "30003" in failed and "13803910003" in failed
    assert "30003" in client.get("/supervisor/export/sms_failed.csv").text


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_made_text(client: TestClient,
                                                                           services: Services) -> None:
    manhole = ticket_titled(services, MANHOLE)
    services.run_sync(lambda s: (
        s.execute(update(Ticket).where(Ticket.id == manhole.id).values(title='=HYPERLINK("http://evil.example","x")')),
        s.execute(update(Transfer).where(Transfer.ticket_id == manhole.id, Transfer.return_reason.is_not(None))
                  .values(return_reason="@SUM(1+1)*cmd|' /C calc'!A0"))))
    login(client, "supervisor")
    text = client.get("/supervisor/export/returned.csv").content.decode("utf-8").lstrip("\ufeff")
    row = next(r for r in csv.reader(io.StringIO(text)) if r[0] == manhole.number)
    assert row[1] == '\'=HYPERLINK("http://evil.example","x")' and row[3].startswith("'@SUM")
    for cell in ("=1", "+1", "-1", "@x", "\tx", "\rx"):
        assert csv_cell(cell) == "'" + cell
    assert csv_cell("路灯不亮") == "路灯不亮" and csv_cell(-1) == -1


def test_the_console_does_not_fill_in_a_call_whose_phone_went_back_to_ready(
        client: TestClient, services: Services) -> None:
    """The call's end was not written (its Hangup lost), but the PBX says the phone left it:
    picking that extension shows no 当前来电 and fills no number."""
    now = utcnow()
    answered = now - dt.timedelta(minutes=4)
    services.run_sync(lambda s: telephony.record_call(s, telephony.CallData(
        linkedid="1700000000.71", outcome="answered", caller="13803910071", dialed="12345",
        started_at=answered - dt.timedelta(seconds=20), queue="hotline", entered_queue_at=answered,
        agent="PJSIP/7003", agent_name="Zhang Wei", answered_at=answered)))

    def phone_state(on_call: bool, at: dt.datetime) -> None:
        services.run_sync(lambda s: telephony.record_agent(s, telephony.AgentData(
            interface="PJSIP/7003", member_name="Zhang Wei", queues=("hotline",), logged_in=True,
            paused=False, ringing=False, on_call=on_call, changed_at=at)))

    login(client, "operator")
    client.post("/operator/agent", data={"csrf_token": csrf(client, "/operator"), "agent": "PJSIP/7003"})
    phone_state(True, answered)
    console = client.get("/operator").text
    assert 'id="pop-caller"' in console and 'value="13803910071"' in console  # still on the call
    phone_state(False, now)
    console = client.get("/operator").text
    assert 'id="pop-caller"' not in console and "13803910071" not in console
    assert 'id="pop-waiting"' in console


def test_a_refused_transfer_comes_back_by_redirect_with_every_field_as_typed(
        client: TestClient, services: Services) -> None:
    """A reload of the page a refused form comes back to must not post it again: the page is
    reached by a redirect, and the units chosen and the words typed are there again."""
    bus = ticket_titled(services, BUS)
    login(client, "operator")
    page = client.get(f"/tickets/{bus.number}").text
    response = client.post(f"/tickets/{bus.number}/transfer", data={
        "csrf_token": token_in(page), "expected_version": str(version_in(page)), "source": "picker",
        "unit_code": "housing", "co_units": ["housing", "transport"], "text": "请两家单位协同处理"})
    shown = refused(client, response)
    assert "已是主办单位，不能同时作为协办单位" in shown
    form = shown.split('id="transfer-form"')[1].split("</form>")[0]
    lead = form.split('name="unit_code"')[1].split("</select>")[0]
    co = form.split('id="co-units"')[1].split("</select>")[0]
    assert re.findall(r'<option value="([\w-]+)" selected>', lead) == ["housing"]
    assert sorted(re.findall(r'<option value="([\w-]+)" selected>', co)) == ["housing", "transport"]
    assert 'value="请两家单位协同处理"' in form
    assert client.get(response.headers["location"]).text.count("已是主办单位") == 1   # a reload: the same page
    assert ticket_titled(services, BUS).state == "received"
    # Without the kept form, the page is as it always is.
    assert 'id="action-error"' not in client.get(f"/tickets/{bus.number}").text


def test_a_refused_invalid_keeps_the_number_flag_ticked(client: TestClient, services: Services) -> None:
    bus = ticket_titled(services, BUS)
    login(client, "operator")
    shown = refusal(client, bus.number, "invalidate", text="  ", flag_number="on")
    form = shown.split('id="invalidate-form"')[1].split("</form>")[0]
    assert "请填写理由。" in shown and re.search(r'name="flag_number" checked>', form)


def test_a_too_short_reply_is_refused_on_the_page_with_how_many_characters_it_needs(
        client: TestClient, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "ecology")
    shown = refusal(client, noise.number, "resolve", text="  好  ")
    assert "答复市民的内容至少需要 2 个字" in shown and "现在只有 1 个字" in shown
    assert "好" in shown.split('id="resolve-form"')[1].split("</form>")[0]
    assert ticket_titled(services, NOISE).state == "in_progress"


def test_the_citizens_number_is_a_tel_link_for_staff_who_may_see_it(client: TestClient, services: Services) -> None:
    noise, manhole = ticket_titled(services, NOISE), ticket_titled(services, MANHOLE)
    login(client, "ecology")
    page = client.get(f"/tickets/{noise.number}").text
    assert '<a href="tel:+8613803910002" id="contact-phone" class="tel">13803910002</a>' in page
    login(client, "housing")   # the manhole it returned has left it: the number is hidden, not a link
    page = client.get(f"/tickets/{manhole.number}").text
    assert 'id="contact-phone"' not in page and "tel:" not in page and "（保密）" in page
