"""A body past its limit is refused before it is held: a request announcing too many bytes
is answered 413 at once, without waiting for them, and one that keeps sending (chunked,
no length) is answered once it passes the limit instead of being read to its end. Real
server on loopback, raw sockets, so nothing is buffered on the client's side."""
from __future__ import annotations

import json
import logging
import select
import socket
import time
from typing import Iterator

import pytest

from sms_gateway.simulator import ServerThread as ProviderThread
from sms_gateway.simulator import TwilioSimulator
from tests.web.server import ServerThread
from web.app import create_app
from web.body_limit import MAX_REQUEST_BYTES
from web.config import Secret, Settings, SmsSettings

ACCOUNT = "AC" + "7" * 32


@pytest.fixture
def server(database_url: str) -> Iterator[ServerThread]:
    """The hotline with Twilio's SMS on (its stand-in on loopback), so the webhook is served."""
    twilio = ProviderThread()
    twilio.start(TwilioSimulator(ACCOUNT, "limit-token", url=twilio.url).app())
    settings = Settings(database_url=database_url, sms=SmsSettings(
        account_sid=ACCOUNT, auth_token=Secret("limit-token"), from_number="+12345550100",
        public_url="http://127.0.0.1", api_base=twilio.url))
    try:
        with ServerThread(create_app(settings)) as running:
            yield running
    finally:
        twilio.stop()


def _response(sock: socket.socket, timeout: float = 10) -> tuple[int, bytes]:
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return int(head.split(b" ")[1]), rest


def _head(path: str, *lines: str) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(line + "\r\n" for line in lines)
            + "\r\n").encode()


@pytest.mark.parametrize("path", ["/api/v1/tickets", "/sms/twilio", "/", "/login"])
def test_a_body_announced_past_the_limit_is_refused_without_waiting_for_it(server: ServerThread, path: str) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(_head(path, "Content-Type: application/x-www-form-urlencoded",
                           "Content-Length: 300000000"))   # and not one byte of it
        status, body = _response(sock)
    assert status == 413
    if path.startswith("/api/"):
        assert json.loads(body)["reason"] == "body_too_large"
    else:
        assert "请求超过" in body.decode()


def test_the_json_api_and_the_sms_webhook_keep_their_own_smaller_limits(server: ServerThread) -> None:
    for path, size, kind in [("/api/v1/tickets", 256 * 1024 + 1, "application/json"),
                             ("/sms/twilio", 64 * 1024 + 1, "application/x-www-form-urlencoded")]:
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(_head(path, f"Content-Type: {kind}", f"Content-Length: {size}"))
            status, _ = _response(sock)
        assert status == 413, path


def test_a_chunked_body_is_answered_once_past_the_limit_not_read_to_its_end(server: ServerThread) -> None:
    chunk = b"a" * 65536
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(_head("/api/v1/tickets", "Content-Type: application/json", "Transfer-Encoding: chunked"))
        try:
            while sent < 64 * MAX_REQUEST_BYTES:
                if select.select([sock], [], [], 0)[0]:
                    break                      # the server has answered
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass                               # ... and closed the connection
        status, _ = _response(sock)
    assert status == 413
    # the socket buffers on both sides hold a few megabytes at most; the whole would be 128 MB
    assert sent < 8 * MAX_REQUEST_BYTES, sent


def test_a_body_within_the_limit_reaches_its_route(server: ServerThread) -> None:
    body = json.dumps({"body": "济水大街路灯坏了一周，晚上很黑。", "phone": "13803910001"}).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(_head("/api/v1/tickets", "Content-Type: application/json", f"Content-Length: {len(body)}")
                     + body)
        status, answer = _response(sock)
    assert status == 201, answer


@pytest.mark.parametrize("path", ["/", "/login"])
def test_a_client_that_drops_mid_upload_is_one_info_line_not_an_unhandled_error(
        server: ServerThread, path: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    boundary = "----phone-lost-signal"
    part = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\n"
            + "小区门口井盖破损。" * 2_000).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(_head(path, f"Content-Type: multipart/form-data; boundary={boundary}",
                           "Content-Length: 1000000") + part)   # a twentieth of it, then gone
    deadline = time.monotonic() + 10
    while "client_disconnected" not in [getattr(r, "event", None) for r in caplog.records]:
        assert time.monotonic() < deadline, caplog.text
        time.sleep(0.05)
    [gone] = [r for r in caplog.records if getattr(r, "event", None) == "client_disconnected"]
    assert gone.levelno == logging.INFO and gone.path == path and gone.exc_info is None
    time.sleep(0.3)   # anything the server would log after it
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
