"""A ticket's photos on the staff pages, over HTTP against a real server: a unit adds photos
(on their own, and with its 办结 reply), sees them and fetches them stripped of their
metadata with headers that keep a browser from guessing; another unit gets 404 as for the
ticket; a file that is not an image, or one too many, is refused in words."""
from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from typing import Iterator
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import api_tokens
from dispatch.actions import ActionContext, perform
from dispatch.actors import Actor
from dispatch.models import Attachment, StaffUser, TicketEvent
from dispatch.vocabulary import Role
from tests import images
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket
from tests.web.pages_support import csrf, login, ticket_titled, version_in
from tests.web.server import ServerThread
from web.app import create_app
from web.body_limit import photo_forms_limit
from web.services import Services

NOISE = "工地夜间施工噪音扰民"   # in progress with ecology-environment (demo account "ecology")


@pytest.fixture
def client(services: Services) -> Iterator[httpx.Client]:
    with ServerThread(create_app(services.settings, services)) as server, \
            httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as http:
        yield http


def send(client: httpx.Client, number: str, action: str, files: list[tuple[str, bytes]], **fields: str) -> httpx.Response:
    page = client.get(f"/tickets/{number}")
    data = {"csrf_token": csrf(client, f"/tickets/{number}"), "expected_version": str(version_in(page.text)), **fields}
    return client.post(f"/tickets/{number}/{action}", data=data,
                       files=[("photos", (name, content, "application/octet-stream")) for name, content in files])


def error_on(client: httpx.Client, response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    found = re.search(r'id="action-error">([^<]*)<', page.text)
    assert found, page.text[:500]
    return html.unescape(found.group(1))


def photo_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li data-id="(\d+)" data-type=', page)]


def test_a_unit_adds_a_photo_sees_it_stripped_and_another_unit_gets_404(
        client: httpx.Client, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "ecology")
    sent = send(client, noise.number, "attach", [("现场 照片.jpg", images.jpeg_with_metadata())])
    assert sent.status_code == 303 and "done=attach" in sent.headers["location"]
    page = client.get(sent.headers["location"])
    assert "图片已上传。" in page.text and "现场 照片.jpg" in page.text
    assert "生态环境局 刘洋" in re.search(r'id="photo-list">(.*?)</ul>', page.text, re.S).group(1)   # who, by name
    [photo] = photo_ids(page.text)
    # The list shows the thumbnail; the full photo opens from its link.
    assert f'<a href="/tickets/{noise.number}/attachments/{photo}"' in page.text
    assert f'<img src="/tickets/{noise.number}/attachments/{photo}/thumbnail"' in page.text

    got = client.get(f"/tickets/{noise.number}/attachments/{photo}")
    assert got.status_code == 200
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["cache-control"] == "private, max-age=3600"
    assert got.headers["content-disposition"] == f"inline; filename*=UTF-8''{quote('现场 照片.jpg', safe='')}"
    assert got.content.startswith(b"\xff\xd8") and images.OWNER not in got.content
    assert images.GPS_LATITUDE not in got.content
    with services.sessions() as session:
        stored = session.get(Attachment, photo)
        assert stored is not None and stored.unit_id is not None and stored.size == len(got.content)
        event = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == noise.id)
                                .order_by(TicketEvent.id.desc())).first()
        assert event is not None and event.action == "attach" and event.data["attachments"] == [photo]
    assert "上传图片" in client.get(f"/tickets/{noise.number}").text   # in the log, in words

    login(client, "housing")   # another unit: neither the ticket nor its photo
    assert client.get(f"/tickets/{noise.number}").status_code == 404
    assert client.get(f"/tickets/{noise.number}/attachments/{photo}").status_code == 404
    assert client.get(f"/tickets/{noise.number}/attachments/x1").status_code == 404
    login(client, "operator")
    assert client.get(f"/tickets/{noise.number}/attachments/{photo}").content == got.content
    client.cookies.clear()
    assert client.get(f"/tickets/{noise.number}/attachments/{photo}").status_code == 303   # to the login


def test_a_unit_resolves_with_result_photos_in_one_step(client: httpx.Client, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "ecology")
    done = send(client, noise.number, "resolve", [("办结1.png", images.png_with_metadata()),
                                                  ("办结2.webp", images.webp_with_metadata())],
                text="经现场核查，工地已停止夜间施工。")
    assert done.status_code == 303 and "done=resolve" in done.headers["location"]
    page = client.get(f"/tickets/{noise.number}")
    assert len(photo_ids(page.text)) == 2 and "办结1.png" in page.text
    with services.sessions() as session:
        stored = session.scalars(select(Attachment).where(Attachment.ticket_id == noise.id)).all()
        assert sorted(a.media_type for a in stored) == ["image/png", "image/webp"]
        assert all(images.OWNER not in a.content for a in stored)
    assert ticket_titled(services, NOISE).state == "resolved"


def test_a_refused_reply_keeps_no_photo_and_says_to_choose_them_again(client: httpx.Client, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "ecology")
    refused = send(client, noise.number, "resolve", [("办结.png", images.PNG)], text="好")   # too short
    assert "所选图片未保存，请重新选择。" in error_on(client, refused)
    with services.sessions() as session:
        assert session.scalars(select(Attachment)).all() == []
    assert ticket_titled(services, NOISE).state == "in_progress"


def test_not_an_image_and_one_too_many_are_refused_in_words(client: httpx.Client, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "ecology")
    said = error_on(client, send(client, noise.number, "attach", [("井盖.jpg", b"<html>not a photo</html>")]))
    assert "「井盖.jpg」不是图片" in said and "所选图片未保存" in said
    said = error_on(client, send(client, noise.number, "attach", [(f"{i}.png", images.PNG) for i in range(10)]))
    assert "图片太多：每件工单最多 9 张" in said
    # A photo larger than the site's usual 2 MB body limit still comes through on this form.
    big = images.PNG[:33] + images.png_chunk(b"tEXt", b"Comment\x00" + b"x" * 3_000_000) + images.PNG[33:]
    assert send(client, noise.number, "attach", [("大.png", big)]).status_code == 303
    with services.sessions() as session:
        [stored] = session.scalars(select(Attachment)).all()
        assert stored.content == images.PNG
    # Only the forms that carry photos take such a body: any other keeps the 2 MB limit.
    wider = photo_forms_limit(9, 5 * 1024 * 1024)
    assert wider({"method": "POST", "path": f"/tickets/{noise.number}/attach"}) == 46 * 1024 * 1024
    assert wider({"method": "POST", "path": "/"}) == 46 * 1024 * 1024
    assert wider({"method": "POST", "path": f"/tickets/{noise.number}/progress"}) is None
    assert wider({"method": "POST", "path": "/status"}) is None
    # Without the page's CSRF token nothing is added.
    bare = client.post(f"/tickets/{noise.number}/attach", files=[("photos", ("a.png", images.PNG, "image/png"))])
    assert bare.status_code == 403


def test_a_unit_that_does_not_handle_the_ticket_has_no_upload_form(client: httpx.Client, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "operator")
    assert 'id="attach-form"' in client.get(f"/tickets/{noise.number}").text
    login(client, "ecology")
    assert 'id="resolve-photos"' in client.get(f"/tickets/{noise.number}").text


def token_for(services: Services, username: str) -> str:
    with services.sessions.begin() as session:
        user = session.scalars(select(StaffUser).where(StaffUser.username == username)).one()
        return api_tokens.create(session, user, "test", lifetime=dt.timedelta(hours=1))[1]


def test_the_staff_api_lists_a_tickets_photos_and_fetches_one_role_checked_like_the_ticket(
        client: httpx.Client, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "ecology")
    assert send(client, noise.number, "attach", [("现场.webp", images.webp_with_metadata())]).status_code == 303
    client.cookies.clear()
    unit = {"Authorization": f"Bearer {token_for(services, 'ecology')}"}
    detail = client.get(f"/api/v1/staff/tickets/{noise.number}", headers=unit).json()
    [photo] = detail["attachments"]
    assert photo["file_name"] == "现场.webp" and photo["media_type"] == "image/webp"
    assert photo["unit_code"] == "ecology-environment" and photo["by_citizen"] is False
    assert set(photo) == {"id", "file_name", "media_type", "size", "sha256", "added_at", "added_by", "by_citizen",
                          "unit_code", "merged_from"}
    assert photo["merged_from"] is None   # a photo of the ticket itself
    got = client.get(f"/api/v1/staff/tickets/{noise.number}/attachments/{photo['id']}", headers=unit)
    assert got.status_code == 200 and got.headers["content-type"] == "image/webp"
    assert got.headers["x-content-type-options"] == "nosniff" and got.headers["cache-control"] == "private, max-age=3600"
    assert hashlib.sha256(got.content).hexdigest() == photo["sha256"] and len(got.content) == photo["size"]
    assert images.OWNER not in got.content

    other = {"Authorization": f"Bearer {token_for(services, 'housing')}"}
    assert client.get(f"/api/v1/staff/tickets/{noise.number}/attachments/{photo['id']}", headers=other).status_code == 404
    assert client.get(f"/api/v1/staff/tickets/{noise.number}/attachments/{photo['id']}").status_code == 401
    operator = {"Authorization": f"Bearer {token_for(services, 'operator')}"}
    assert client.get(f"/api/v1/staff/tickets/{noise.number}/attachments/{photo['id']}",
                      headers=operator).content == got.content
    assert client.get(f"/api/v1/staff/tickets/{noise.number}/attachments/999999", headers=operator).status_code == 404


def test_a_co_handling_unit_sends_photos_with_its_reply_to_the_lead(client: httpx.Client, services: Services) -> None:
    def setup(session: Session) -> str:
        ticket = new_ticket(session, body="人民路燃气施工后路面没有恢复，请住建和人社一起处理。")
        operator = Actor(label="operator", role=Role.OPERATOR)
        perform(session, operator, ticket.number, "transfer", {"unit": "housing", "co_units": ["human-resources"]},
                ActionContext())
        perform(session, unit_staff(session, "human-resources"), ticket.number, "accept", {}, ActionContext())
        return ticket.number

    number = services.run_sync(setup)
    login(client, "hr")
    assert 'id="part-reply-photos"' in client.get(f"/tickets/{number}").text
    replied = send(client, number, "part_reply", [("协办.png", images.png_with_metadata())], text="本单位部分已办结。")
    assert replied.status_code == 303 and "done=part_reply" in replied.headers["location"]
    login(client, "housing")   # the lead sees the co-handling unit's photo
    page = client.get(f"/tickets/{number}")
    [photo] = photo_ids(page.text)
    assert "协办.png" in page.text and "人社局 陈静" in page.text
    assert client.get(f"/tickets/{number}/attachments/{photo}").content == images.PNG
    login(client, "ecology")
    assert client.get(f"/tickets/{number}/attachments/{photo}").status_code == 404


def test_a_merged_tickets_photos_show_on_the_main_ticket_and_come_through_its_address(
        client: httpx.Client, services: Services) -> None:
    from dispatch import attachments
    from dispatch.attachments import AttachmentLimits, Upload

    def setup(session: Session) -> tuple[str, str, int]:
        duplicate = new_ticket(session, body="和平路路灯坏了好几天，晚上很黑，请尽快修好。")
        [photo] = attachments.add(session, duplicate, Actor.citizen("web"), [Upload("路灯.png", images.PNG)],
                                  AttachmentLimits())
        main = new_ticket(session, body="和平路路灯不亮，已经一个星期了，请处理。")
        operator = Actor(label="operator", role=Role.OPERATOR)
        perform(session, operator, duplicate.number, "merge", {"into": main.number}, ActionContext())
        perform(session, operator, main.number, "transfer", {"unit": "housing"}, ActionContext())
        return duplicate.number, main.number, photo.id

    duplicate, main, photo = services.run_sync(setup)
    login(client, "operator")
    page = client.get(f"/tickets/{main}").text
    assert photo_ids(page) == [photo]
    listed = re.search(r'id="photo-list">(.*?)</ul>', page, re.S).group(1)
    assert "路灯.png" in listed and f'来自并入的工单 <a href="/tickets/{duplicate}">{duplicate}</a>' in listed
    assert client.get(f"/tickets/{main}/attachments/{photo}").content == images.PNG
    assert photo_ids(client.get(f"/tickets/{duplicate}").text) == [photo]   # still on its own page too

    login(client, "housing")   # the unit handling the main ticket sees it there, not the duplicate
    assert photo_ids(client.get(f"/tickets/{main}").text) == [photo]
    assert client.get(f"/tickets/{main}/attachments/{photo}").content == images.PNG
    assert client.get(f"/tickets/{duplicate}/attachments/{photo}").status_code == 404
    login(client, "ecology")   # another unit: neither
    assert client.get(f"/tickets/{main}/attachments/{photo}").status_code == 404
    client.cookies.clear()

    unit = {"Authorization": f"Bearer {token_for(services, 'housing')}"}
    [described] = client.get(f"/api/v1/staff/tickets/{main}", headers=unit).json()["attachments"]
    assert described["id"] == photo and described["merged_from"] == duplicate and described["by_citizen"] is True
    got = client.get(f"/api/v1/staff/tickets/{main}/attachments/{photo}", headers=unit)
    assert got.status_code == 200 and got.content == images.PNG
    operator = {"Authorization": f"Bearer {token_for(services, 'operator')}"}
    [own] = client.get(f"/api/v1/staff/tickets/{duplicate}", headers=operator).json()["attachments"]
    assert own["merged_from"] is None


def test_a_photo_added_by_mistake_is_removed_by_who_added_it_with_a_reason_kept_in_the_log(
        client: httpx.Client, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "ecology")
    sent = send(client, noise.number, "attach", [("拍错了.jpg", images.jpeg_with_metadata())])
    page = client.get(sent.headers["location"]).text
    [photo] = photo_ids(page)
    form = re.search(rf'<form method="post" action="/tickets/{noise.number}/detach"[^>]*id="detach-{photo}"[^>]*>',
                     page)
    assert form and 'data-confirm="确认删除这张图片？' in form.group(0)   # asked once, as other irreversible steps
    with services.sessions() as session:
        sha = session.get(Attachment, photo).sha256

    def detach(**fields: str) -> httpx.Response:
        shown = client.get(f"/tickets/{noise.number}")
        data = {"csrf_token": csrf(client, f"/tickets/{noise.number}"), "expected_version": str(version_in(shown.text)),
                "attachment_id": str(photo), **fields}
        return client.post(f"/tickets/{noise.number}/detach", data=data)

    assert "请填写理由。" in error_on(client, detach(reason="  "))
    assert client.post(f"/tickets/{noise.number}/detach", data={"attachment_id": str(photo), "reason": "拍错"}
                       ).status_code == 403   # no CSRF token: nothing removed
    login(client, "operator")   # neither who added it nor a supervisor: no form, and refused
    assert f'id="detach-{photo}"' not in client.get(f"/tickets/{noise.number}").text
    denied = detach(reason="拍错")
    assert denied.status_code == 403 and "只能由上传它的本人或督办员、管理员删除" in denied.text

    login(client, "ecology")
    removed = detach(reason="拍到了路人的脸，传错了")
    assert removed.status_code == 303 and "done=detach" in removed.headers["location"]
    page = client.get(removed.headers["location"]).text
    assert "图片已删除" in page and photo_ids(page) == [] and "删除图片" in page   # the log says it, in words
    assert client.get(f"/tickets/{noise.number}/attachments/{photo}").status_code == 404
    with services.sessions() as session:
        assert session.get(Attachment, photo) is None   # the bytes are gone
        event = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == noise.id)
                                .order_by(TicketEvent.id.desc())).first()
        assert event is not None and event.action == "detach" and event.note == "拍到了路人的脸，传错了"
        assert event.actor == "staff:ecology" or "ecology" in event.actor
        assert event.data["attachment"] == photo and event.data["name"] == "拍错了.jpg" and event.data["sha256"] == sha


def test_the_staff_api_removes_a_photo_a_supervisor_any_while_the_ticket_is_open(
        client: httpx.Client, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "ecology")
    send(client, noise.number, "attach", [("a.png", images.PNG), ("b.webp", images.WEBP)])
    client.cookies.clear()
    unit = {"Authorization": f"Bearer {token_for(services, 'ecology')}"}
    listed = client.get(f"/api/v1/staff/tickets/{noise.number}", headers=unit).json()["attachments"]
    first, second = (p["id"] for p in listed)
    url = f"/api/v1/staff/tickets/{noise.number}/attachments"

    refused = client.request("DELETE", f"{url}/{first}", headers=unit, json={})
    assert refused.status_code == 422 and refused.json()["field"] == "reason" and "理由" in refused.json()["message"]
    assert client.request("DELETE", f"{url}/{first}", json={"reason": "x"}).status_code == 401
    other = {"Authorization": f"Bearer {token_for(services, 'housing')}"}
    assert client.request("DELETE", f"{url}/{first}", headers=other, json={"reason": "x"}).status_code == 404
    operator = {"Authorization": f"Bearer {token_for(services, 'operator')}"}
    denied = client.request("DELETE", f"{url}/{first}", headers=operator, json={"reason": "x"})
    assert denied.status_code == 403 and "a.png" in denied.json()["message"]

    supervisor = {"Authorization": f"Bearer {token_for(services, 'supervisor')}"}
    done = client.request("DELETE", f"{url}/{first}", headers=supervisor, json={"reason": "与本工单无关"})
    assert done.status_code == 200, done.text
    assert done.json()["removed"] == first and done.json()["file_name"] == "a.png" and done.json()["reason"] == "与本工单无关"
    assert [p["id"] for p in client.get(f"/api/v1/staff/tickets/{noise.number}", headers=unit).json()["attachments"]] \
        == [second]
    assert client.request("DELETE", f"{url}/{first}", headers=supervisor, json={"reason": "x"}).status_code == 404

    resolved = client.post(f"/api/v1/staff/tickets/{noise.number}/resolve", headers=unit,
                           json={"reply": "经现场核查，工地已停止夜间施工。"})
    assert resolved.status_code == 200, resolved.text
    kept = client.request("DELETE", f"{url}/{second}?reason=晚了", headers=unit)
    assert kept.status_code == 409 and "不能删除" in kept.json()["message"]


def test_the_consoles_answer_from_an_article_takes_its_photos_as_the_ticket_pages_does(
        client: httpx.Client, services: Services) -> None:
    from dispatch.models import KbArticle, Ticket

    with services.sessions() as session:
        article = session.scalars(select(KbArticle).where(KbArticle.title == "燃气泄漏怎么办")).one()

    def answer(form_id: str, body: str, files: list[tuple[str, bytes]]) -> httpx.Response:
        return client.post("/operator/tickets", data={
            "csrf_token": csrf(client, "/operator"), "form_id": form_id, "type": "consultation", "urgency": "normal",
            "phone": "13803910141", "body": body, "answer_article": str(article.id)},
            files=[("photos", (name, content, "application/octet-stream")) for name, content in files])

    def ticket_of(body: str) -> Ticket | None:
        with services.sessions() as session:
            return session.scalars(select(Ticket).where(Ticket.body == body)).first()

    login(client, "operator")
    assert 'id="kb-answer-photos"' in client.get("/operator").text
    done = answer("gas-photo", "请问家里燃气表怎么充值", [("充值点.png", images.png_with_metadata())])
    assert done.status_code == 303 and done.headers["location"].endswith("?done=answer")
    ticket = ticket_of("请问家里燃气表怎么充值")
    assert ticket is not None and ticket.state == "answered"
    with services.sessions() as session:
        [stored] = session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)).all()
        assert stored.file_name == "充值点.png" and stored.content == images.PNG and stored.staff_id is not None
    assert "充值点.png" in client.get(f"/tickets/{ticket.number}").text

    # The same limits: a file that is not an image, or one too many, files nothing and says so.
    refused = answer("gas-bad", "请问燃气表在哪里买气", [("充值点.jpg", b"<html>not a photo</html>")])
    assert refused.status_code == 422
    assert "「充值点.jpg」不是图片" in html.unescape(refused.text) and "所选图片未保存" in refused.text
    refused = answer("gas-many", "请问燃气表在哪里买气", [(f"{i}.png", images.PNG) for i in range(10)])
    assert refused.status_code == 422 and "图片太多：每件工单最多 9 张" in html.unescape(refused.text)
    assert ticket_of("请问燃气表在哪里买气") is None
    # The console's form takes a body as large as the ticket page's photo forms do.
    assert photo_forms_limit(9, 5 * 1024 * 1024)({"method": "POST", "path": "/operator/tickets"}) == 46 * 1024 * 1024
