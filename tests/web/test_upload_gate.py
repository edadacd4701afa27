"""The citizen's form with photos (a body of up to ~46 MB, from anyone) is refused before its body
is read when the address has used its share of forms, or is still sending another such body;
and the server reads only a few such bodies at once. Real server on loopback, raw sockets: the
client sends the head and a little of the body, and the answer comes without the rest."""
from __future__ import annotations

import socket
import time
from typing import Iterator

import pytest

from dispatch import rate_counters
from dispatch.clock import utcnow
from tests.web.server import ServerThread
from tests.web.test_body_limit import _head, _response
from web.app import create_app
from web.services import Services
from web.upload_gate import Refusal, UploadGate

BOUNDARY = "----hotline-test"
PHOTO_FORM = [f"Content-Type: multipart/form-data; boundary={BOUNDARY}", "Content-Length: 40000000"]
# The start of a form with a photo, far short of the 40 MB announced.
FIRST_BYTES = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"a.jpg\"\r\n"
               "Content-Type: image/jpeg\r\n\r\n").encode() + b"\xff\xd8\xff" + b"\0" * 65536


@pytest.fixture
def server(services: Services) -> Iterator[ServerThread]:
    with ServerThread(create_app(services.settings, services)) as running:
        yield running


def test_an_address_past_its_share_gets_429_before_sending_its_photos(server: ServerThread,
                                                                       services: Services) -> None:
    share = services.settings.limits.web_form_per_address
    with services.sessions.begin() as session:
        rate_counters.hit(session, share, "127.0.0.1", utcnow(), hits=share.limit)
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(_head("/", *PHOTO_FORM) + FIRST_BYTES)   # and not the other 39.9 MB
        status, body = _response(sock, timeout=5)
    assert status == 429
    assert "秒后再试" in body.decode()


def test_one_address_sends_one_form_with_photos_at_a_time(server: ServerThread) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as first:
        first.sendall(_head("/", *PHOTO_FORM) + FIRST_BYTES)   # still being sent
        time.sleep(0.5)
        with socket.create_connection(("127.0.0.1", server.port)) as second:
            second.sendall(_head("/", *PHOTO_FORM) + FIRST_BYTES)
            status, body = _response(second, timeout=5)
    assert status == 429
    assert "还在上传" in body.decode()


def test_the_gate_holds_one_body_per_address_and_a_few_in_all() -> None:
    gate = UploadGate(at_once=2, per_address=1)
    with gate.admit("10.0.0.1") as a, gate.admit("2001:db8::1") as b:
        assert a is None and b is None
        with gate.admit("2001:db8::2") as same_network:   # an IPv6 client counted by its /64
            assert same_network is Refusal.ADDRESS_BUSY
        with gate.admit("10.0.0.3") as third:
            assert third is Refusal.SERVER_BUSY
    with gate.admit("10.0.0.1") as again:   # places given back when the forms are done
        assert again is None
    assert not gate.reading


def test_a_photo_form_posted_without_a_session_is_not_read_past_the_addresss_kept_forms(
        server: ServerThread, services: Services) -> None:
    """A staff photo form (上传图片, 办结) takes the same large bodies and anyone can post one: the
    login page's keeping of typed words reads it only within the address's share of kept forms."""
    share = services.settings.limits.kept_forms_per_address
    with services.sessions.begin() as session:
        rate_counters.hit(session, share, "127.0.0.1", utcnow(), hits=share.limit)
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(_head("/tickets/20261201-0001/attach", *PHOTO_FORM, "Sec-Fetch-Site: same-origin") + FIRST_BYTES)
        status, body = _response(sock, timeout=5)
    assert status == 401 and "登录" in body.decode()


def test_one_address_sends_one_photo_form_without_a_session_at_a_time(server: ServerThread) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as first:
        first.sendall(_head("/", *PHOTO_FORM) + FIRST_BYTES)   # the citizen's form, still being sent
        time.sleep(0.5)
        with socket.create_connection(("127.0.0.1", server.port)) as second:
            second.sendall(_head("/tickets/20261201-0001/resolve", *PHOTO_FORM, "Sec-Fetch-Site: same-origin")
                           + FIRST_BYTES)
            status, _ = _response(second, timeout=5)
    assert status == 401
