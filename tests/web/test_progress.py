"""办理进展 over HTTP: the unit answers a 督办 with a progress note from the ticket page or
the staff API, without resolving; staff see it in the log, the citizen only when the unit
made it public, masked as replies are."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from dispatch import api_tokens
from dispatch.models import StaffUser, TicketEvent
from tests.web.pages_support import act, csrf, login, refusal, ticket_titled
from web.services import Services

NOISE = "工地夜间施工噪音扰民"       # in progress with ecology-environment (demo account "ecology")
WAGES = "农民工工资被拖欠"           # transferred to human-resources, not accepted yet


def bearer(services: Services, username: str) -> dict[str, str]:
    def make(session: Session) -> str:
        user = session.scalars(select(StaffUser).where(StaffUser.username == username)).one()
        return api_tokens.create(session, user, "test", lifetime=dt.timedelta(hours=1))[1]

    return {"Authorization": f"Bearer {services.run_sync(make)}"}


def progress_events(services: Services, ticket_id: int) -> list[TicketEvent]:
    with services.sessions() as session:
        return list(session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id,
                                                              TicketEvent.action == "progress")))


def test_the_unit_answers_an_escalation_with_progress_and_the_ticket_stays_in_progress(
        client: TestClient, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "supervisor")
    assert act(client, noise.number, "escalate", text="请今天下班前反馈处理方案").status_code == 303
    login(client, "ecology")
    page = client.get(f"/tickets/{noise.number}").text
    assert 'id="progress-form"' in page
    assert 'id="escalation-to-answer"' in page and "请今天下班前反馈处理方案" in page
    response = act(client, noise.number, "progress", text="已约谈施工方，今晚22点后停止施工，明天复查。")
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    page = client.get(response.headers["location"]).text  # type: ignore[attr-defined]
    assert "已记录办理进展。" in page and "答复督办" in page and "已约谈施工方" in page
    assert 'id="escalation-to-answer"' not in page        # answered: nothing left to answer
    after = ticket_titled(services, NOISE)
    assert after.state == "in_progress" and after.reply is None
    [event] = progress_events(services, noise.id)
    assert event.from_state == event.to_state == "in_progress" and event.unit_id == noise.unit_id
    assert event.data["answers_escalation"] and event.data["public"] is False
    # The supervisor sees it in the ticket's log too.
    login(client, "supervisor")
    assert "已约谈施工方" in client.get(f"/tickets/{noise.number}").text


def answered_rows(client: TestClient) -> str:
    page = client.get("/supervisor").text
    return page.split('id="table-escalations_answered"')[1].split("</section>")[0]


def test_the_supervisor_hears_once_that_the_unit_answered_their_escalation(
        client: TestClient, services: Services) -> None:
    """Supervisors have no notices: their /supervisor lists the 督办 a unit answered with a
    办理进展 note (督办已反馈), who chased and what the unit said, once per 督办."""
    noise = ticket_titled(services, NOISE)
    login(client, "supervisor")
    assert act(client, noise.number, "escalate", text="请今天下班前反馈处理方案").status_code == 303
    assert noise.number not in answered_rows(client)           # not answered yet
    login(client, "ecology")
    assert act(client, noise.number, "progress", text="已约谈施工方，今晚停工。").status_code == 303
    assert act(client, noise.number, "progress", text="明天复查。").status_code == 303   # answers nothing
    login(client, "supervisor")
    rows = answered_rows(client)
    assert rows.count(f"/tickets/{noise.number}") == 1
    assert "请今天下班前反馈处理方案" in rows and "已约谈施工方，今晚停工。" in rows and "明天复查" not in rows


def test_progress_is_staff_only_unless_the_unit_makes_it_public(client: TestClient, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "ecology")
    assert act(client, noise.number, "progress", text="内部：等待执法队排期").status_code == 303
    assert act(client, noise.number, "progress", text="已联系施工方整改，如有问题请拨打 0391-1234567 或联系 13803910001",
               public="1").status_code == 303
    client.cookies.clear()
    public = client.get(f"/api/v1/tickets/{noise.number}", params={"code": noise.query_code}).json()
    shown = [e for e in public["timeline"] if e["action"] == "progress"]
    assert len(shown) == 1 and "等待执法队排期" not in str(public)
    assert "已联系施工方整改" in shown[0]["text"] and "0391-1234567" in shown[0]["text"]
    looked_up = client.post("/status", data={"csrf_token": csrf(client, "/status"), "number": noise.number,
                                             "code": noise.query_code})
    assert looked_up.status_code == 303, looked_up.text
    status = client.get("/status").text
    assert "办理进展" in status and "已联系施工方整改" in status and "等待执法队排期" not in status


def test_the_staff_api_takes_progress_and_refuses_others(client: TestClient, services: Services) -> None:
    noise, wages = ticket_titled(services, NOISE), ticket_titled(services, WAGES)
    url = f"/api/v1/staff/tickets/{noise.number}/progress"
    ecology = bearer(services, "ecology")
    assert "progress" in client.get(f"/api/v1/staff/tickets/{noise.number}", headers=ecology).json()["allowed_actions"]
    answer = client.post(url, json={"text": "已现场核查"}, headers=ecology)
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "in_progress"
    too_long = client.post(url, json={"text": "进" * 1001}, headers=ecology)
    assert too_long.status_code == 422 and too_long.json()["message"] == "办理进展不能超过 1000 个字。"
    empty = client.post(url, json={"text": "  "}, headers=ecology)
    assert empty.status_code == 422 and "办理进展" in empty.json()["message"]
    assert client.post(url, json={"text": "x"}, headers=bearer(services, "operator")).status_code == 403
    assert client.post(url, json={"text": "x"}, headers=bearer(services, "housing")).status_code == 404
    # Not yet accepted: nothing to report on before 签收.
    hr = client.post(f"/api/v1/staff/tickets/{wages.number}/progress", json={"text": "x"},
                     headers=bearer(services, "hr"))
    assert hr.status_code == 409, hr.text
    assert len(progress_events(services, noise.id)) == 1 and not progress_events(services, wages.id)


def test_the_progress_form_needs_its_csrf_token(client: TestClient, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "ecology")
    csrf(client, f"/tickets/{noise.number}")
    response = client.post(f"/tickets/{noise.number}/progress",
                           data={"csrf_token": "forged", "expected_version": str(noise.version), "text": "x"})
    assert response.status_code == 403
    with services.sessions() as session:
        assert not session.scalar(select(func.count()).select_from(TicketEvent)
                                  .where(TicketEvent.action == "progress"))


def test_a_refused_progress_form_comes_back_with_its_words_and_its_public_tick(
        client: TestClient, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "ecology")
    too_long = "已约谈施工方" + "。" * 1000
    page = refusal(client, noise.number, "progress", text=too_long, public="1")
    form = page.split('id="progress-form"')[1].split("</form>")[0]
    assert too_long in form
    assert '<input type="checkbox" name="public" value="1" checked>' in form
    # Left unticked, it comes back unticked.
    page = refusal(client, noise.number, "progress", text=too_long)
    form = page.split('id="progress-form"')[1].split("</form>")[0]
    assert '<input type="checkbox" name="public" value="1">' in form and too_long in form
    assert progress_events(services, noise.id) == []
