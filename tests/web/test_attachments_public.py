"""The citizen's photos: the web form takes them with the request (multipart, stored with the
ticket in one transaction, metadata cut out), a refused photo files nothing, and /status
and the public API say how many there are but never show them. Real server on loopback;
the last test is the form in Debian's chromium, a photo chosen with the file input."""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from sqlalchemy import select

from dispatch.models import Attachment, Ticket, TicketEvent
from tests import images
from tests.web.pages_support import csrf
from tests.web.server import ServerThread
from tests.web.test_browser import new_context, playwright_browser, site  # noqa: F401 (fixtures)
from web.app import create_app
from web.services import Services

COMPLAINT = {"type": "complaint", "title": "井盖破损", "body": "沁园街道人民路口井盖破损，晚上很危险。",
             "phone": "13812345678", "name": "张三丰", "location": "沁园街道人民路"}


@pytest.fixture
def client(services: Services) -> Iterator[httpx.Client]:
    with ServerThread(create_app(services.settings, services)) as server, \
            httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as http:
        yield http


def submit(client: httpx.Client, files: list[tuple[str, bytes]], **fields: str) -> httpx.Response:
    data = {"csrf_token": csrf(client, "/"), "form_id": str(time.monotonic_ns()), **COMPLAINT, **fields}
    return client.post("/", data=data, files=[("photos", (n, c, "image/jpeg")) for n, c in files])


def ids_of(response: httpx.Response) -> tuple[str, str]:
    number = re.search(r'id="ticket-number">([^<]+)<', response.text)
    code = re.search(r'id="query-code">([^<]+)<', response.text)
    assert number and code, response.text
    return number.group(1), code.group(1)


def test_a_citizen_sends_photos_with_the_form_and_status_only_counts_them(
        client: httpx.Client, services: Services) -> None:
    created = submit(client, [("IMG_0001.JPG", images.jpeg_with_metadata()), ("垃圾.png", images.png_with_metadata())])
    assert created.status_code == 201, created.text
    number, code = ids_of(created)
    with services.sessions() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        stored = session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)
                                 .order_by(Attachment.id)).all()
        assert [a.file_name for a in stored] == ["IMG_0001.JPG", "垃圾.png"]
        assert all(a.added_by == "citizen:web" and images.OWNER not in a.content for a in stored)
        actions = session.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id)).all()
        assert "attach" in actions
    view = client.get("/status", params={"number": number, "code": code})
    assert view.status_code == 200 and "已上传 2 张图片" in view.text
    assert "/attachments/" not in view.text and "<img" not in view.text and "IMG_0001" not in view.text
    api = client.get(f"/api/v1/tickets/{number}", params={"code": code}).json()
    assert api["photo_count"] == 2 and "IMG_0001" not in str(api)
    # The citizen has no way to the photo itself: the staff address asks for a login.
    assert client.get(f"/tickets/{number}/attachments/{stored[0].id}").status_code == 303


def test_status_counts_the_citizens_photos_not_staffs(client: httpx.Client, services: Services) -> None:
    created = submit(client, [("IMG_0001.JPG", images.jpeg_with_metadata())])
    number, code = ids_of(created)
    with services.sessions() as session:
        mine = session.scalars(select(Attachment).join(Ticket).where(Ticket.number == number)).one()
        session.add(Attachment(ticket_id=mine.ticket_id, added_at=mine.added_at, added_by="unit:housing",
                               file_name="办结.jpg", media_type=mine.media_type, size=mine.size,
                               sha256=mine.sha256, content=mine.content))   # a unit's 办结照片
        session.commit()
    assert "已上传 1 张图片" in client.get("/status", params={"number": number, "code": code}).text
    assert client.get(f"/api/v1/tickets/{number}", params={"code": code}).json()["photo_count"] == 1


def test_a_form_without_photos_files_as_before_and_shows_no_count(client: httpx.Client) -> None:
    created = client.post("/", data={"csrf_token": csrf(client, "/"), "form_id": "no-photos", **COMPLAINT})
    assert created.status_code == 201
    number, code = ids_of(created)
    view = client.get("/status", params={"number": number, "code": code})
    assert 'id="status-photos"' not in view.text


def test_a_file_that_is_not_an_image_files_nothing_and_the_form_comes_back(
        client: httpx.Client, services: Services) -> None:
    with services.sessions() as session:
        before = session.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1))
    refused = submit(client, [("photo.jpg", b"GIF89a not taken")])
    assert refused.status_code == 422
    assert "「photo.jpg」不是图片" in refused.text and "所选图片未保存，请重新选择。" in refused.text
    assert "井盖破损" in refused.text   # what was typed is kept
    too_many = submit(client, [(f"{i}.png", images.PNG) for i in range(10)])
    assert too_many.status_code == 422 and "图片太多" in too_many.text
    with services.sessions() as session:
        assert session.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1)) == before
        assert session.scalars(select(Attachment)).all() == []


def test_a_citizen_chooses_a_photo_in_the_browser_and_staff_see_it(new_context: Any, site: Any,
                                                                  tmp_path: Path) -> None:
    server, services = site
    photo = tmp_path / "井盖.jpg"
    photo.write_bytes(images.jpeg_with_metadata())
    page = new_context().new_page()
    page.goto(f"{server.url}/")
    page.fill("#complaint-form textarea[name=body]", COMPLAINT["body"])
    page.fill("#complaint-form input[name=phone]", COMPLAINT["phone"])
    page.set_input_files("#complaint-photos", [str(photo)])
    page.click("#complaint-form button[type=submit]")
    page.wait_for_selector("#query-code")
    number, code = page.inner_text("#ticket-number").strip(), page.inner_text("#query-code").strip()
    page.goto(f"{server.url}/status?number={number}&code={code}")
    assert "已上传 1 张图片" in page.inner_text("#status-photos")
    assert page.locator("img").count() == 0

    from tests.web.test_browser import login, wait_true
    staff = login(new_context(), server.url, "operator")
    staff.goto(f"{server.url}/tickets/{number}")
    image = staff.locator("#photo-list img")
    assert image.count() == 1
    image.scroll_into_view_if_needed()
    # The stored photo, stripped of its metadata, is still a JPEG chromium draws: 4 x 3 pixels
    # turned upright by the orientation (6: a quarter turn) that alone was kept, so 3 x 4.
    wait_true(staff, "document.querySelector('#photo-list img').complete")
    assert staff.evaluate("[document.querySelector('#photo-list img').naturalWidth,"
                          " document.querySelector('#photo-list img').naturalHeight]") == [3, 4]
    assert "市民上传" in staff.inner_text("#photo-list")
