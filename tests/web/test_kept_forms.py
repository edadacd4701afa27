"""Nothing typed is lost when a session or a page's token has expired: a unit's reply posted
after its session ended comes back filled in after login; a citizen's complaint posted with
a stale token comes back as the form, filled in, with a token that works."""
from __future__ import annotations

import datetime as dt
import json
import re

from sqlalchemy import select, update
from starlette.testclient import TestClient

from dispatch.clock import utcnow
from dispatch.demo import DEMO_PASSWORD
from dispatch.models import KeptForm, StaffSession
from tests.web.pages_support import act, csrf, login, refusal, refused, ticket_titled, token_in, version_in
from web.services import Services

SAME_SITE = {"origin": "http://testserver", "referer": "http://testserver/tickets/N"}
REPLY = "已于12月3日更换济水大街路灯灯具，经现场查看路灯正常亮起，谢谢您的反映。"


def _in_progress_with_housing(client: TestClient, services: Services) -> str:
    number = ticket_titled(services, "建议增加公交班次").number
    login(client, "operator")
    assert act(client, number, "transfer", unit_code="housing").status_code == 303  # type: ignore[attr-defined]
    login(client, "housing")
    assert act(client, number, "accept").status_code == 303  # type: ignore[attr-defined]
    return number


def _idle_too_long(services: Services) -> None:
    """Every session last seen three hours ago: past the two-hour idle timeout."""
    then = utcnow() - dt.timedelta(hours=3)
    services.run_sync(lambda s: s.execute(update(StaffSession).values(last_seen_at=then)))


def _expired_reply(client: TestClient, services: Services, number: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    page = client.get(f"/tickets/{number}")
    assert 'action="/tickets/%s/resolve"' % number in page.text
    data = {"csrf_token": token_in(page.text), "expected_version": str(version_in(page.text)), "text": REPLY}
    _idle_too_long(services)
    referer = headers.get("referer", "").replace("/tickets/N", f"/tickets/{number}")
    return client.post(f"/tickets/{number}/resolve", data=data, headers={**headers, "referer": referer} if referer else headers)


def test_a_units_reply_posted_after_its_session_expired_comes_back_after_login(
        client: TestClient, services: Services) -> None:
    number = _in_progress_with_housing(client, services)
    response = _expired_reply(client, services, number, SAME_SITE)

    assert response.status_code == 401
    assert "登录已过期，请重新登录，您填写的内容已保留" in response.text and 'name="password"' in response.text
    kept = re.search(r'name="kept" value="([^"]+)"', response.text)
    assert kept, "the login form does not carry the kept form"
    with services.sessions() as session:
        row = session.get(KeptForm, kept.group(1))
        assert row is not None and row.fields == {"text": REPLY}  # no CSRF token, no version
        assert row.page == f"/tickets/{number}" and row.action == f"/tickets/{number}/resolve"
    assert ticket_titled(services, "建议增加公交班次").state == "in_progress"  # nothing done yet

    back = client.post("/login", data={"csrf_token": token_in(response.text), "username": "housing",
                                       "password": DEMO_PASSWORD, "next": f"/tickets/{number}",
                                       "kept": kept.group(1)})
    assert back.status_code == 303 and back.headers["location"] == f"/tickets/{number}?kept={kept.group(1)}"
    page = client.get(back.headers["location"])
    assert page.status_code == 200 and "页面已过期" in page.text and "您填写的内容已恢复" in page.text
    restored = json.loads(re.search(r'<script type="application/json" id="kept-form">(.*?)</script>',
                                    page.text, re.S).group(1))  # type: ignore[union-attr]
    assert restored == {"action": f"/tickets/{number}/resolve", "fields": {"text": REPLY}}
    assert REPLY in page.text  # listed on the page too, for a browser without script

    # The restored reply goes through with the page's fresh token and version.
    resolved = client.post(f"/tickets/{number}/resolve", data={
        "csrf_token": token_in(page.text), "expected_version": str(version_in(page.text)), "text": restored["fields"]["text"]})
    assert resolved.status_code == 303
    ticket = ticket_titled(services, "建议增加公交班次")
    assert ticket.state == "resolved" and ticket.reply == REPLY


def test_a_kept_form_is_shown_only_to_who_logged_in_with_it(client: TestClient, services: Services) -> None:
    number = _in_progress_with_housing(client, services)
    response = _expired_reply(client, services, number, SAME_SITE)
    token = re.search(r'name="kept" value="([^"]+)"', response.text).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"csrf_token": token_in(response.text), "username": "housing",
                                "password": DEMO_PASSWORD, "kept": token})
    login(client, "supervisor")  # another account, with the token in the URL
    page = client.get(f"/tickets/{number}?kept={token}")
    assert page.status_code == 200 and REPLY not in page.text and 'id="kept-form"' not in page.text
    # and a second login with the same token does not move it to the supervisor either
    client.cookies.clear()
    again = client.post("/login", data={"csrf_token": csrf(client), "username": "supervisor",
                                        "password": DEMO_PASSWORD, "kept": token})
    assert again.status_code == 303 and "kept=" not in again.headers["location"]


def test_a_form_posted_from_another_site_is_not_kept(client: TestClient, services: Services) -> None:
    number = _in_progress_with_housing(client, services)
    response = _expired_reply(client, services, number, {"origin": "https://evil.example"})
    assert response.status_code == 401
    assert "登录已过期，请重新登录" in response.text and "内容已保留" not in response.text
    assert 'name="kept"' not in response.text
    with services.sessions() as session:
        assert session.scalars(select(KeptForm)).all() == []


def test_a_password_field_is_never_kept(client: TestClient, services: Services) -> None:
    login(client, "admin")
    _idle_too_long(services)
    response = client.post("/operator/tickets", headers=SAME_SITE,
                           data={"csrf_token": "old", "body": "路灯坏了", "password": "hunter2-hunter2", "phone": "13800000000"})
    assert response.status_code == 401
    with services.sessions() as session:
        [row] = session.scalars(select(KeptForm)).all()
        assert row.fields == {"body": "路灯坏了", "phone": "13800000000"}


def test_a_citizens_complaint_with_a_stale_token_comes_back_filled_in(client: TestClient) -> None:
    stale = csrf(client, "/")
    client.cookies.clear()  # the browser was closed: its token cookie is gone
    body = "天坛路北口公交站牌被风刮倒，压在人行道上，很危险，请尽快处理。"
    response = client.post("/", data={"csrf_token": stale, "body": body, "phone": "13912340000",
                                      "title": "公交站牌倒了", "type": "report", "form_id": "f-1"})
    assert response.status_code == 403
    assert "页面已过期，您填写的内容已保留，请核对后再提交一次" in response.text
    assert body in response.text and 'value="13912340000"' in response.text and 'value="公交站牌倒了"' in response.text
    assert re.search(r'<option value="report"\s+selected', response.text)
    assert 'name="viewport"' in response.text and 'id="complaint-form"' in response.text  # the mobile layout
    fresh = token_in(response.text)
    assert fresh != stale
    again = client.post("/", data={"csrf_token": fresh, "body": body, "phone": "13912340000", "title": "公交站牌倒了",
                                   "type": "report"})
    assert again.status_code == 201 and re.search(r'id="ticket-number"', again.text)


def test_a_page_older_than_the_session_comes_back_filled_in_not_a_bare_403(
        client: TestClient, services: Services) -> None:
    """Logged in again in another tab: the old tab's token is the old session's."""
    number = _in_progress_with_housing(client, services)
    old_page = client.get(f"/tickets/{number}")
    login(client, "housing")  # a new session, a new CSRF token
    data = {"csrf_token": token_in(old_page.text), "expected_version": str(version_in(old_page.text)), "text": REPLY}
    response = client.post(f"/tickets/{number}/resolve", data=data,
                           headers={"origin": "http://testserver", "referer": f"http://testserver/tickets/{number}"})
    assert response.status_code == 303 and response.headers["location"].startswith(f"/tickets/{number}?kept=")
    page = client.get(response.headers["location"])
    assert "页面已过期" in page.text and "您填写的内容已恢复" in page.text and REPLY in page.text
    assert ticket_titled(services, "建议增加公交班次").state == "in_progress"  # the stale post did nothing
    # Without our own page as its origin it is the plain refusal, as before.
    assert client.post(f"/tickets/{number}/resolve", data=data).status_code == 403


def _two_tabs(client: TestClient, number: str) -> dict[str, str]:
    """The fields of a page opened in a second tab, before the first tab acts."""
    page = client.get(f"/tickets/{number}")
    return {"csrf_token": token_in(page.text), "expected_version": str(version_in(page.text))}


def test_a_return_reason_typed_while_a_colleague_accepted_moves_into_the_dispute_form(
        client: TestClient, services: Services) -> None:
    number = ticket_titled(services, "建议增加公交班次").number
    login(client, "operator")
    assert act(client, number, "transfer", unit_code="housing").status_code == 303  # type: ignore[attr-defined]
    login(client, "housing")
    tab_b = _two_tabs(client, number)
    assert act(client, number, "accept").status_code == 303  # type: ignore[attr-defined]   # tab A
    reason = "公交班次属交通运输局职责，请改派。"
    shown = refused(client, client.post(f"/tickets/{number}/return", data={**tab_b, "text": reason}))
    assert "本次操作没有保存" in shown
    assert 'id="return-form"' not in shown
    dispute = re.search(r'<form[^>]*id="dispute-form".*?</form>', shown, re.S)
    assert dispute and f'value="{reason}"' in dispute.group(0)
    assert 'id="typed-moved"' in shown and "改派申请" in shown


def test_a_reply_typed_while_a_colleague_resolved_is_shown_to_copy(client: TestClient, services: Services) -> None:
    number = _in_progress_with_housing(client, services)
    tab_b = _two_tabs(client, number)
    assert act(client, number, "resolve", text="已处理，经现场核实问题已解决。").status_code == 303  # type: ignore[attr-defined]
    shown = refused(client, client.post(f"/tickets/{number}/resolve", data={**tab_b, "text": REPLY}))
    assert 'id="resolve-form"' not in shown
    lost = re.search(r'<div class="notice" role="status" id="typed-lost">.*?</div>', shown, re.S)
    assert lost and REPLY in lost.group(0)



def test_an_extension_refused_for_its_days_keeps_them(
        client: TestClient, services: Services) -> None:
    number = _in_progress_with_housing(client, services)
    for typed in ("16", "-3", "2.5"):
        shown = refusal(client, number, "extend", working_days=typed, text="需协调多个部门")
        # The API's reasons stay as documented: out_of_range for 16 and -3 (an integer, out of
        # the range), not_integer for 2.5.
        assert ("应为整数" if typed == "2.5" else "应在 1 到 15 之间") in shown
        form = re.search(r'<form[^>]*id="extend-form".*?</form>', shown, re.S)
        assert form and f'name="working_days" type="number" min="1" max="15" value="{typed}"' in form.group(0)
        assert 'value="需协调多个部门"' in form.group(0)
    assert 'name="working_days" type="number" min="1" max="15" value="5"' in client.get(f"/tickets/{number}").text
