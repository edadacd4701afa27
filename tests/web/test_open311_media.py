"""A civic app's photo with its Open311 request: the multipart `media` file goes through the
web form's photo checks (known by its bytes, metadata cut out, the size limit) onto the
ticket; `media_url` is kept as given and never fetched, shown to staff as a link to open
with care, and the public GET requests never points at the stored photo. Over a real HTTP
server."""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar, Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch import open311, open311_keys
from dispatch.actors import Actor
from dispatch.models import Attachment, Ticket, TicketEvent
from dispatch.open311_services import current_services
from dispatch.public import ticket_by_number
from dispatch.vocabulary import Role
from tests.images import GPS_LATITUDE, OWNER, PNG, jpeg_with_metadata
from tests.web.pages_support import login
from tests.web.server import ServerThread
from web.app import create_app
from web.services import Services

DESCRIPTION, ADDRESS = "济源市天坛路井盖丢了，很危险。", "济源市天坛街道天坛路"


@pytest.fixture
def server(services: Services) -> Iterator[ServerThread]:
    with ServerThread(create_app(services.settings, services)) as running:
        yield running


@pytest.fixture
def http(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as client:
        yield client


@pytest.fixture
def form(services: Services) -> dict[str, str]:
    with services.sessions.begin() as session:
        _, key = open311_keys.create(session, "城市服务App")
        code = next(s.code for s in current_services(session, services.city) if s.group == "城乡建设")
    return {"api_key": key, "service_code": code, "description": DESCRIPTION, "address_string": ADDRESS}


def file(http: httpx.Client, form: dict[str, str], files: list[tuple[str, tuple[str, bytes, str]]],
         headers: dict[str, str] | None = None) -> httpx.Response:
    return http.post("/open311/v2/requests.json", data=form, files=files, headers=headers or {})


def ticket_and_photos(sessions: sessionmaker[Session], number: str) -> tuple[Ticket, list[Attachment]]:
    with sessions() as session:
        ticket = ticket_by_number(session, number)
        assert ticket is not None
        photos = list(session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)))
        for photo in photos:
            _ = photo.content
        session.expunge_all()
        return ticket, photos


def test_a_request_s_media_file_becomes_the_ticket_s_photo_with_its_metadata_cut_out(
        http: httpx.Client, form: dict[str, str], services: Services) -> None:
    answer = file(http, form, [("media", ("井盖.jpg", jpeg_with_metadata(), "image/jpeg"))])
    assert answer.status_code == 201, answer.text
    number = answer.json()[0]["service_request_id"]
    ticket, [photo] = ticket_and_photos(services.sessions, number)
    assert (photo.added_by, photo.file_name, photo.media_type) == ("citizen:open311", "井盖.jpg", "image/jpeg")
    assert OWNER not in photo.content and GPS_LATITUDE not in photo.content
    with services.sessions() as session:
        event = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                          TicketEvent.action == "attach")).one()
        assert event.actor == "citizen:open311" and event.data["attachments"] == [photo.id]
    # The public read-back gives no address of the stored photo (photos are for staff only).
    [read] = http.get(f"/open311/v2/requests/{number}.json").json()
    assert read["media_url"] is None
    assert f"/attachments/{photo.id}" not in http.get(f"/open311/v2/requests/{number}.xml").text


def test_a_photo_larger_than_a_plain_form_is_taken_up_to_the_photo_limit(
        http: httpx.Client, form: dict[str, str], services: Services) -> None:
    big = jpeg_with_metadata() + b"\0" * (3 * 1024 * 1024)   # past the 2 MB of a form without photos
    answer = file(http, form, [("media", ("big.jpg", big, "image/jpeg"))])
    assert answer.status_code == 201, answer.text[:300]
    _, [photo] = ticket_and_photos(services.sessions, answer.json()[0]["service_request_id"])
    assert photo.size > 3 * 1024 * 1024


@pytest.mark.parametrize("content, words", [
    (b"%PDF-1.4 a document", "不是图片"),
    (PNG + b"\0" * (5 * 1024 * 1024), "太大"),
])
def test_a_media_file_the_checks_refuse_refuses_the_request_and_nothing_is_filed(
        http: httpx.Client, form: dict[str, str], services: Services, content: bytes, words: str) -> None:
    with services.sessions() as session:
        before = session.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1))
    answer = file(http, form, [("media", ("photo.png", content, "image/png"))])
    assert answer.status_code == 400 and words in answer.json()[0]["description"], answer.text[:300]
    with services.sessions() as session:
        assert session.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1)) == before


def test_only_one_media_file_and_no_other_file_part_is_taken(http: httpx.Client, form: dict[str, str]) -> None:
    two = [("media", ("a.png", PNG, "image/png")), ("media", ("b.png", PNG, "image/png"))]
    assert file(http, form, two).status_code == 400
    assert file(http, form, [("photo", ("a.png", PNG, "image/png"))]).status_code == 400


def test_a_retry_with_the_same_key_and_another_photo_is_another_body(http: httpx.Client,
                                                                     form: dict[str, str]) -> None:
    key = {"Idempotency-Key": "open311-photo-retry-1"}
    first = file(http, form, [("media", ("a.png", PNG, "image/png"))], key)
    assert first.status_code == 201
    again = file(http, form, [("media", ("a.png", PNG, "image/png"))], key)
    assert again.json() == first.json() and again.headers.get("idempotent-replayed") == "true"
    other = file(http, form, [("media", ("a.jpg", jpeg_with_metadata(), "image/jpeg"))], key)
    assert other.status_code == 400


class _Counting(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("content-type", "image/png")
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, *_: object) -> None:
        pass


def test_a_media_url_is_kept_as_given_never_fetched_and_shown_to_staff_who_may_see_the_citizen(
        http: httpx.Client, form: dict[str, str], services: Services) -> None:
    host = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    threading.Thread(target=host.serve_forever, daemon=True).start()
    try:
        link = f"http://127.0.0.1:{host.server_address[1]}/photos/manhole.png"
        answer = file(http, form | {"media_url": link}, [])
        assert answer.status_code == 201, answer.text
        number = answer.json()[0]["service_request_id"]
        [read] = http.get(f"/open311/v2/requests/{number}.json").json()
        assert read["media_url"] == link   # the citizen's own link, as the spec reads it back
        time.sleep(0.5)
        assert _Counting.hits == []        # the hotline never went there
        ticket, photos = ticket_and_photos(services.sessions, number)
        assert photos == []
    finally:
        host.shutdown()
        host.server_close()
    login(http, "operator")  # type: ignore[arg-type]
    page = http.get(f"/tickets/{number}").text
    assert 'id="media-links"' in page and link in page and "系统未下载" in page
    # Unit staff who may not learn who filed a 保密 ticket do not see the citizen's link either.
    with services.sessions.begin() as session:
        session.get_one(Ticket, ticket.id).confidential = True
    with services.sessions() as session:
        fresh = session.get_one(Ticket, ticket.id)
        operator = Actor("operator", user_id=1, role=Role.OPERATOR)
        assert open311.media_links(session, operator, fresh) == [link]
        unit = Actor("unit", user_id=2, role=Role.UNIT_STAFF, unit_id=fresh.unit_id or 1)
        assert open311.media_links(session, unit, fresh) == []
