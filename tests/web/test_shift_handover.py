"""交接班 on a real server: an operator files a ticket from the console, finds it on the
handover page, leaves a note (交班); the next operator sees it on the console and takes it
over (接班); a supervisor reads the history; units are refused. The staff API alike."""
from __future__ import annotations

import datetime as dt
import html
import re
from typing import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import api_tokens, shift_handover, staff, telephony
from dispatch.clock import utcnow
from dispatch.models import Callback, StaffActivity, StaffUser
from dispatch.vocabulary import Role
from tests.web.pages_support import csrf, login
from tests.web.server import ServerThread
from web.app import create_app
from web.services import Services

PASSWORD = "handover pass 1"
NOTE = "路灯一件待转办，市民要求下午回电；13803910001 两次回拨无人接听。"


@pytest.fixture
def server(services: Services) -> Iterator[ServerThread]:
    def add(session: Session) -> None:
        staff.create_user(session, "zhou", PASSWORD, Role.OPERATOR, display_name="话务员 周敏")
        staff.create_user(session, "qian", PASSWORD, Role.OPERATOR, display_name="话务员 钱进")

    services.run_sync(add)
    with ServerThread(create_app(services.settings, services)) as running:
        yield running


def browser(server: ServerThread, username: str, password: str = PASSWORD) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=60, follow_redirects=False)
    login(client, username, password)  # type: ignore[arg-type]
    return client


def error_of(page: httpx.Response) -> str:
    found = re.search(r'id="handover-error">([^<]*)<', page.text)
    assert found, page.text[:500]
    return html.unescape(found.group(1))


def test_one_operator_hands_over_and_the_next_takes_over(server: ServerThread, services: Services) -> None:
    from dispatch.demo import DEMO_PASSWORD

    zhou = browser(server, "zhou")
    filed = zhou.post("/operator/tickets", data={
        "csrf_token": csrf(zhou, "/operator"), "type": "complaint", "urgency": "normal", "title": "小区路灯不亮",
        "body": "幸福小区3号楼前路灯连续一周不亮，晚上出行不安全。", "phone": "13803917788"})  # type: ignore[arg-type]
    assert filed.status_code == 303, filed.text[:500]
    number = re.search(r"/tickets/([0-9-]+)", filed.headers["location"]).group(1)  # type: ignore[union-attr]

    page = zhou.get("/operator/handover")
    assert page.status_code == 200 and 'href="/operator/handover" id="nav-handover">交接班</a>' in page.text
    listed = page.text.split('id="waiting-tickets"')[1].split("</table>")[0]
    assert number in listed and "已受理" in listed

    # No CSRF token: nothing stored. An empty or too long note: refused in Chinese, typed words kept.
    assert zhou.post("/operator/handover", data={"note": NOTE}).status_code == 403
    token = csrf(zhou, "/operator/handover")  # type: ignore[arg-type]
    empty = zhou.post("/operator/handover", data={"csrf_token": token, "note": "   "})
    assert empty.status_code == 422 and error_of(empty) == "请填写交班说明。"
    long = zhou.post("/operator/handover", data={"csrf_token": token, "note": "长" * 1001})
    assert long.status_code == 422 and error_of(long) == "交班说明不能超过 1000 个字。" and "长" * 1001 in long.text

    handed = zhou.post("/operator/handover", data={"csrf_token": token, "note": NOTE})
    assert handed.status_code == 303 and handed.headers["location"] == "/operator/handover?done=handed_over"
    page = zhou.get("/operator/handover?done=handed_over")
    assert "已交班，交班说明已留给下一班。" in page.text and NOTE in page.text
    assert "这是您的交班说明" in page.text and "/acknowledge" not in page.text   # not theirs to take over
    # Their next shift starts now: the ticket was handed over with the note.
    assert number not in page.text.split('id="waiting-tickets"')[1].split("</table>")[0]
    assert 'id="console-handovers"' not in zhou.get("/operator").text

    qian = browser(server, "qian")
    console = qian.get("/operator").text
    assert 'id="console-handovers"' in console and "话务员 周敏" in console and "路灯一件待转办" in console
    handover_id = int(re.search(r'/operator/handover/(\d+)/acknowledge', console).group(1))  # type: ignore[union-attr]
    taken = qian.post(f"/operator/handover/{handover_id}/acknowledge",
                      data={"csrf_token": csrf(qian, "/operator/handover")})  # type: ignore[arg-type]
    assert taken.status_code == 303 and taken.headers["location"] == "/operator/handover?done=taken_over"
    page = qian.get("/operator/handover?done=taken_over")
    assert "已接班。" in page.text and "没有待接班的交班说明" in page.text
    assert 'id="console-handovers"' not in qian.get("/operator").text
    again = zhou.post(f"/operator/handover/{handover_id}/acknowledge",
                      data={"csrf_token": csrf(zhou, "/operator/handover")})  # type: ignore[arg-type]
    assert again.status_code == 403 and error_of(again) == "这是您自己的交班说明，请由下一班的话务员接班。"

    chief = browser(server, "supervisor", DEMO_PASSWORD)
    history = chief.get("/supervisor/handovers")
    assert history.status_code == 200
    row = history.text.split(f'id="handover-{handover_id}"')[1].split("</tr>")[0]
    assert "话务员 周敏" in row and NOTE in row and "话务员 钱进" in row
    assert qian.get("/supervisor/handovers").status_code == 403

    unit = browser(server, "housing", DEMO_PASSWORD)
    assert unit.get("/operator/handover").status_code == 403
    assert "nav-handover" not in unit.get("/unit").text
    unit_token = csrf(unit, "/unit")  # type: ignore[arg-type]
    assert unit.post("/operator/handover", data={"csrf_token": unit_token, "note": "无"}).status_code == 403

    with services.sessions() as session:
        logged = session.execute(select(StaffActivity.kind, StaffActivity.actor, StaffActivity.target)
                                 .where(StaffActivity.kind.like("shift_%")).order_by(StaffActivity.id)).all()
    assert logged == [("shift_handed_over", "zhou", f"shift_handover:{handover_id}"),
                      ("shift_taken_over", "qian", f"shift_handover:{handover_id}")]
    for client in (zhou, qian, chief, unit):
        client.close()


def token_of(services: Services, username: str) -> dict[str, str]:
    def make(session: Session) -> str:
        user = session.scalars(select(StaffUser).where(StaffUser.username == username)).one()
        return api_tokens.create(session, user, "test", lifetime=dt.timedelta(hours=1))[1]

    return {"Authorization": f"Bearer {services.run_sync(make)}"}


def test_the_staff_api_hands_over_and_takes_over_with_the_pages_rules(server: ServerThread, services: Services) -> None:
    api = httpx.Client(base_url=f"{server.url}/api/v1/staff", timeout=60)
    zhou, qian, unit = (token_of(services, name) for name in ("zhou", "qian", "housing"))

    refused = api.post("/handovers", json={"note": ""}, headers=zhou)
    assert refused.status_code == 422 and refused.json()["message"] == "请填写交班说明。"
    made = api.post("/handovers", json={"note": NOTE}, headers=zhou)
    assert made.status_code == 201, made.text
    handover = made.json()
    assert handover["by"] == "话务员 周敏" and handover["note"] == NOTE and handover["acknowledged_by"] is None

    waiting = api.get("/handovers", headers=qian).json()
    assert waiting["count"] == 1 and waiting["pending"][0]["id"] == handover["id"]
    assert {"since", "waiting_tickets", "open_callbacks", "unreached_callbacks"} <= set(waiting["shift"])

    taken = api.post(f"/handovers/{handover['id']}/acknowledge", headers=qian)
    assert taken.status_code == 200 and taken.json()["acknowledged_by"] == "话务员 钱进"
    assert api.get("/handovers", headers=zhou).json()["count"] == 0
    twice = api.post(f"/handovers/{handover['id']}/acknowledge", headers=qian)
    assert twice.status_code == 409 and twice.json()["message"] == "这次交班已由话务员 钱进接班。"
    assert api.post("/handovers/99999/acknowledge", headers=qian).status_code == 404

    assert api.get("/handovers", headers=unit).status_code == 403
    assert api.post("/handovers", json={"note": "无"}, headers=unit).status_code == 403
    assert api.get("/handovers").status_code == 401
    api.close()


def test_the_handover_page_lists_first_the_callbacks_the_operator_tried_without_reaching_anyone(
        server: ServerThread, services: Services) -> None:
    """周敏 tried one missed call, 钱进 a newer one: 周敏's handover page puts 周敏's own first
    under 我回拨未接通的, then the rest, each naming who tried last."""
    def calls(session: Session) -> tuple[int, int]:
        zhou, qian = (staff.actor_for(session.scalars(select(StaffUser).where(StaffUser.username == name)).one())
                      for name in ("zhou", "qian"))
        ids = []
        for caller, actor in (("13803915501", zhou), ("13803915502", qian)):
            now = utcnow()
            telephony.record_call(session, telephony.CallData(
                linkedid=f"1700000001.{caller[-4:]}", outcome="abandoned", caller=caller, dialed="12345",
                started_at=now - dt.timedelta(minutes=3), queue="hotline", entered_queue_at=now, ended_at=now))
            callback = session.scalars(select(Callback).where(Callback.caller.like(f"%{caller}"))).one()
            telephony.record_callback_attempt(session, callback.id, actor, "dial_no_answer (originate reason 3)",
                                              reached=False)
            ids.append(callback.id)
        return ids[0], ids[1]

    zhous, qians = services.run_sync(calls)
    page = browser(server, "zhou").get("/operator/handover").text
    table = page.split('id="open-callbacks"')[1].split("</table>")[0]
    rows = re.findall(r'data-callback="(\d+)"', table)
    assert rows[:2] == [str(zhous), str(qians)]
    assert table.index("我回拨未接通的") < table.index(f'data-callback="{zhous}"') < table.index("其余待回拨")
    assert table.index("其余待回拨") < table.index(f'data-callback="{qians}"')
    own = table.split(f'data-callback="{zhous}"')[1].split("</tr>")[0]
    assert "话务员 周敏" in own and "无人接听" in own
    assert "话务员 钱进" in table.split(f'data-callback="{qians}"')[1].split("</tr>")[0]
    assert re.search(r'id="own-count">1<', page)


def test_the_history_marks_a_note_nobody_took_over_in_a_day_and_the_console_no_longer_offers_it(
        server: ServerThread, services: Services) -> None:
    from dispatch.demo import DEMO_PASSWORD

    def old_note(session: Session) -> int:
        zhou = staff.actor_for(session.scalars(select(StaffUser).where(StaffUser.username == "zhou")).one())
        return shift_handover.hand_over(session, zhou, "两天前的交班：请继续回拨", now=utcnow() - dt.timedelta(days=2)).id

    handover_id = services.run_sync(old_note)
    qian = browser(server, "qian")
    assert "两天前的交班" not in qian.get("/operator").text
    assert "两天前的交班" not in qian.get("/operator/handover").text
    late = qian.post(f"/operator/handover/{handover_id}/acknowledge",
                     data={"csrf_token": csrf(qian, "/operator/handover")})  # type: ignore[arg-type]
    assert late.status_code == 409 and error_of(late) == "这次交班已超过 24 小时无人接班，已过期，不能再接班。"
    history = browser(server, "supervisor", DEMO_PASSWORD).get("/supervisor/handovers").text
    row = history.split(f'id="handover-{handover_id}"')[1].split("</tr>")[0]
    assert "两天前的交班" in row and "未接班（已过期）" in row and "待接班" not in row
