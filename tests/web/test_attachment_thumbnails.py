"""A ticket's photos as the ticket page lists them: small thumbnails made when stored (upright,
as the photo's orientation says), the full photo only when opened, both kept by the browser
(ETag, private max-age, 304 to If-None-Match) under the ticket's access rules; a confidential
ticket's citizen photos kept from units; the operator's 直接办结 takes photos as 办结 does.
Real server on loopback."""
from __future__ import annotations

import io
import logging
import random
import re
from typing import Iterator

import httpx
import pytest
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import select

from dispatch import attachments
from dispatch.actors import Actor
from dispatch.attachments import Upload
from dispatch.models import Attachment, Ticket, TicketEvent
from dispatch.thumbnails import THUMB_SIDE
from tests.dispatch.helpers import new_ticket
from tests.web.pages_support import login, ticket_titled
from tests.web.server import ServerThread
from tests.web.test_attachments import NOISE, photo_ids, send, token_for
from web.app import create_app
from web.cli import main
from web.services import Services


@pytest.fixture
def client(services: Services) -> Iterator[httpx.Client]:
    with ServerThread(create_app(services.settings, services)) as server, \
            httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as http:
        yield http


def big_photo(width: int = 2400, height: int = 1600, *, orientation: int | None = None) -> bytes:
    """A camera-sized JPEG of a few MB: noise does not compress."""
    rng = random.Random(7)
    picture = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    picture.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def test_the_page_lists_small_thumbnails_cached_by_the_browser_and_304_when_unchanged(
        client: httpx.Client, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "ecology")
    photo = big_photo()
    assert len(photo) > 2 * 1024 * 1024
    assert send(client, noise.number, "attach", [("现场.jpg", photo)]).status_code == 303
    page = client.get(f"/tickets/{noise.number}")
    [photo_id] = photo_ids(page.text)
    thumb_url = f"/tickets/{noise.number}/attachments/{photo_id}/thumbnail"
    assert f'<img src="{thumb_url}"' in page.text
    assert f'<img src="/tickets/{noise.number}/attachments/{photo_id}"' not in page.text

    thumb = client.get(thumb_url)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert len(thumb.content) < 60 * 1024 < len(photo)   # the page's list costs kB, not MB
    drawn = Image.open(io.BytesIO(thumb.content))
    assert max(drawn.size) == THUMB_SIDE and drawn.size == (THUMB_SIDE, THUMB_SIDE * 2 // 3)
    assert thumb.headers["cache-control"] == "private, max-age=3600"   # not public, not no-store
    assert "Cookie" in thumb.headers["vary"]
    tag = thumb.headers["etag"]
    again = client.get(thumb_url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    assert again.headers["cache-control"] == "private, max-age=3600"

    full = client.get(f"/tickets/{noise.number}/attachments/{photo_id}")
    assert full.status_code == 200 and len(full.content) > 2 * 1024 * 1024 and full.headers["etag"] != tag
    assert client.get(f"/tickets/{noise.number}/attachments/{photo_id}",
                      headers={"If-None-Match": full.headers["etag"]}).status_code == 304

    # The staff API serves the same thumbnail, under the same rules.
    client.cookies.clear()
    unit = {"Authorization": f"Bearer {token_for(services, 'ecology')}"}
    api = client.get(f"/api/v1/staff/tickets/{noise.number}/attachments/{photo_id}/thumbnail", headers=unit)
    assert api.status_code == 200 and api.content == thumb.content and api.headers["etag"] == tag
    assert client.get(f"/api/v1/staff/tickets/{noise.number}/attachments/{photo_id}/thumbnail",
                      headers={**unit, "If-None-Match": tag}).status_code == 304
    # Another unit: 404, with or without the ETag it may have guessed.
    login(client, "housing")
    assert client.get(thumb_url).status_code == 404
    assert client.get(thumb_url, headers={"If-None-Match": tag}).status_code == 404


def test_a_thumbnail_is_drawn_upright_as_the_photos_orientation_says(client: httpx.Client,
                                                                      services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "ecology")
    # Taken with the phone held upright: stored 800x400 with orientation 6 (turn a quarter right).
    assert send(client, noise.number, "attach", [("竖拍.jpg", big_photo(800, 400, orientation=6))]).status_code == 303
    [photo_id] = photo_ids(client.get(f"/tickets/{noise.number}").text)
    thumb = client.get(f"/tickets/{noise.number}/attachments/{photo_id}/thumbnail")
    assert Image.open(io.BytesIO(thumb.content)).size == (THUMB_SIDE // 2, THUMB_SIDE)


def test_a_photo_stored_before_thumbnails_gets_one_when_asked(client: httpx.Client, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "ecology")
    assert send(client, noise.number, "attach", [("旧.jpg", big_photo(1000, 500))]).status_code == 303
    with services.sessions.begin() as session:
        stored = session.scalars(select(Attachment).where(Attachment.ticket_id == noise.id)).one()
        stored.thumbnail = None
        photo_id = stored.id
    thumb = client.get(f"/tickets/{noise.number}/attachments/{photo_id}/thumbnail")
    assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.content)).size == (THUMB_SIDE, THUMB_SIDE // 2)
    # Drawn once: stored at that first view, so the next request reads it.
    assert stored_thumbnail(services, photo_id) == thumb.content
    again = client.get(f"/tickets/{noise.number}/attachments/{photo_id}/thumbnail")
    assert again.status_code == 200 and again.content == thumb.content


def stored_thumbnail(services: Services, photo_id: int) -> bytes | None:
    with services.sessions() as session:
        return session.scalar(select(Attachment.thumbnail).where(Attachment.id == photo_id))


def test_the_command_draws_the_missing_thumbnails_batch_by_batch_and_passes_over_a_broken_photo(
        services: Services, database_url: str) -> None:
    noise = ticket_titled(services, NOISE)
    with services.sessions.begin() as session:
        ticket = session.get_one(Ticket, noise.id)
        old = attachments.add(session, ticket, Actor.citizen("web"),
                              [Upload(f"旧{i}.jpg", big_photo(400 + i, 200)) for i in range(3)], services.attachment_limits)
        for photo in old:
            photo.thumbnail = None
        old[1].content = b"\xff\xd8\xff\xe0 cut short"   # a photo damaged in storage
        ids = [photo.id for photo in old]
    env = {"HOTLINE_DATABASE_URL": database_url}
    runner = CliRunner()
    counted = runner.invoke(main, ["attachments", "thumbnails", "--dry-run"], env=env, catch_exceptions=False)
    total = int(counted.output.split()[0])
    assert total >= 3 and all(stored_thumbnail(services, i) is None for i in ids)
    ran = runner.invoke(main, ["attachments", "thumbnails", "--batch", "2"], env=env, catch_exceptions=False)
    assert f"drawn 1/{total}, 1 unreadable" in ran.output or f"drawn 2/{total}" in ran.output, ran.output
    assert f"drew {total - 1} thumbnails; 1 photos could not be drawn" in ran.output, ran.output
    first, broken, last = (stored_thumbnail(services, i) for i in ids)
    assert broken is None and first and last
    assert Image.open(io.BytesIO(last)).size == (THUMB_SIDE, THUMB_SIDE * 200 // 402)
    # Run again: only the broken one is left, and it is passed over again.
    again = runner.invoke(main, ["attachments", "thumbnails"], env=env, catch_exceptions=False)
    assert again.output.startswith("1 photos without a thumbnail") and "drew 0 thumbnails" in again.output


def test_a_damaged_photo_stored_before_thumbnails_answers_404_in_chinese_not_500(
        client: httpx.Client, services: Services, caplog: pytest.LogCaptureFixture) -> None:
    """A photo stored before thumbnails were, damaged in storage since: its thumbnail cannot be
    drawn. The page's <img> gets a few Chinese words (404), the staff API its JSON error, the
    log one warning per request naming the photo; the photo itself can still be downloaded."""
    noise = ticket_titled(services, NOISE)
    login(client, "ecology")
    assert send(client, noise.number, "attach", [("旧现场.jpg", big_photo(600, 400))]).status_code == 303
    with services.sessions.begin() as session:
        stored = session.scalars(select(Attachment).where(Attachment.ticket_id == noise.id)).one()
        stored.thumbnail = None
        stored.content = b"\xff\xd8\xff\xe0 cut short"
        photo_id = stored.id
    address = f"/tickets/{noise.number}/attachments/{photo_id}/thumbnail"
    with caplog.at_level(logging.WARNING, logger="web.pages.attachments"):
        thumb = client.get(address)
    assert thumb.status_code == 404 and thumb.headers["content-type"].startswith("text/plain")
    assert thumb.text == "「旧现场.jpg」无法生成缩略图（图片可能已损坏），请打开原图查看。"
    warned = [r for r in caplog.records if getattr(r, "event", None) == "thumbnail_unreadable"]
    assert len(warned) == 1 and warned[0].levelno == logging.WARNING
    assert warned[0].attachment_id == photo_id and warned[0].ticket == noise.number  # type: ignore[attr-defined]
    assert stored_thumbnail(services, photo_id) is None   # nothing stored: asked again, still 404
    assert client.get(address).status_code == 404
    assert client.get(f"/tickets/{noise.number}/attachments/{photo_id}").status_code == 200

    token = token_for(services, "ecology")
    api = client.get(f"/api/v1/staff/tickets/{noise.number}/attachments/{photo_id}/thumbnail",
                     headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 404 and api.json()["reason"] == "thumbnail_unreadable"
    assert api.json()["message"] == thumb.text


def test_units_do_not_see_a_confidential_tickets_citizen_photos(client: httpx.Client, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    with services.sessions.begin() as session:
        ticket = session.get_one(Ticket, noise.id)
        ticket.confidential = True
        [citizens] = attachments.add(session, ticket, Actor.citizen("web"), [Upload("我家门口.jpg", big_photo(200, 100))],
                                     services.attachment_limits)
        citizens_id = citizens.id
    login(client, "ecology")   # the unit handling it
    page = client.get(f"/tickets/{noise.number}")
    assert page.status_code == 200 and citizens_id not in photo_ids(page.text) and "我家门口.jpg" not in page.text
    assert "另有 1 张图片（市民提供的现场照片）因工单保密不向承办单位显示" in page.text   # told, not shown
    for path in (f"/tickets/{noise.number}/attachments/{citizens_id}",
                 f"/tickets/{noise.number}/attachments/{citizens_id}/thumbnail"):
        assert client.get(path).status_code == 404
    # Its own 办结照片 it sees as before.
    assert send(client, noise.number, "attach", [("处理后.jpg", big_photo(200, 100))]).status_code == 303
    [own] = photo_ids(client.get(f"/tickets/{noise.number}").text)
    client.cookies.clear()
    unit = {"Authorization": f"Bearer {token_for(services, 'ecology')}"}
    detail = client.get(f"/api/v1/staff/tickets/{noise.number}", headers=unit).json()
    assert [a["id"] for a in detail["attachments"]] == [own]
    assert client.get(f"/api/v1/staff/tickets/{noise.number}/attachments/{citizens_id}", headers=unit).status_code == 404
    # The centre sees them all.
    login(client, "operator")
    page = client.get(f"/tickets/{noise.number}").text
    assert photo_ids(page) == [citizens_id, own] and 'id="photos-withheld"' not in page
    assert client.get(f"/tickets/{noise.number}/attachments/{citizens_id}").status_code == 200


def test_the_operators_direct_answer_takes_photos_as_a_units_resolve_does(client: httpx.Client,
                                                                            services: Services) -> None:
    with services.sessions.begin() as session:
        number = new_ticket(session, body="咨询公积金提取需要哪些材料，附上材料清单照片。").number
    login(client, "operator")
    page = client.get(f"/tickets/{number}")
    form = re.search(r'<form[^>]*id="answer-form"[^>]*>(.*?)</form>', page.text, re.S)
    assert form and 'enctype="multipart/form-data"' in form.group(0) and 'name="photos"' in form.group(1)
    done = send(client, number, "answer", [("材料清单.png", big_photo(300, 200))],
                text="携带身份证和购房合同到公积金中心办理。")
    assert done.status_code == 303 and "done=answer" in done.headers["location"], done.text
    with services.sessions() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        assert ticket.state == "answered"
        [stored] = session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)).all()
        assert stored.file_name == "材料清单.png" and stored.added_by != "citizen:web"
        actions = session.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id)
                                  .order_by(TicketEvent.id)).all()
        assert actions[-2:] == ["attach", "answer"]
    # A refused file keeps the answer from being given, as for 办结.
    with services.sessions.begin() as session:
        other = new_ticket(session, body="咨询居住证办理需要哪些材料，谢谢。").number
    refused = send(client, other, "answer", [("清单.jpg", b"<html>not a photo</html>")], text="请携带身份证办理。")
    assert refused.status_code == 303 and "kept=" in refused.headers["location"]
    with services.sessions() as session:
        assert session.scalars(select(Ticket.state).where(Ticket.number == other)).one() != "answered"
