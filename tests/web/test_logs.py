"""Log lines keep secrets out: query codes, phone numbers, the database password."""
from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest
import uvicorn
from click.testing import CliRunner
from sqlalchemy import make_url
from sqlalchemy.orm import Session, sessionmaker

from dispatch.db import display_url
from web import logs
from web.app import create_app
from web.cli import main
from web.config import Settings

NAMES = ("", "uvicorn", "uvicorn.access", "uvicorn.error", "twilio", "twilio.http_client", "alembic")


def configured(log_format: str) -> Iterator[io.StringIO]:
    """The hotline's logging set up as `hotline serve` does, into a buffer; put back after."""
    saved = {name: (logging.getLogger(name).level, logging.getLogger(name).handlers[:],
                    logging.getLogger(name).propagate) for name in NAMES}
    buffer = io.StringIO()
    logs.configure("INFO", stream=buffer, log_format=log_format)
    yield buffer
    for name, (level, handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate = propagate


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    yield from configured("text")


@pytest.fixture
def json_output() -> Iterator[io.StringIO]:
    yield from configured("json")


def test_uvicorn_access_log_keeps_the_path_but_never_the_query(
        output: io.StringIO, database_url: str, sessions: sessionmaker[Session]) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(database_url=database_url)), lifespan="on",
                                           **logs.uvicorn_options("INFO")))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=lambda: loop.run_until_complete(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        made = httpx.post(f"http://127.0.0.1:{port}/api/v1/tickets",
                          json={"body": "小区门口路灯不亮已经一周了", "phone": "13812345678"}).json()
        httpx.get(f"http://127.0.0.1:{port}/api/v1/tickets/{made['number']}?code={made['query_code']}")
        httpx.get(f"http://127.0.0.1:{port}/status?number={made['number']}&code={made['query_code']}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
    text = output.getvalue()
    assert f'"GET /api/v1/tickets/{made["number"]} HTTP/1.1" 200' in text
    assert '"GET /status HTTP/1.1" 200' in text
    access = [line for line in text.splitlines() if "uvicorn.access" in line]
    assert len(access) == 3 and not any("?" in line or made["query_code"] in line for line in access)
    assert f"code={made['query_code']}" not in text and "13812345678" not in text


def test_phone_numbers_are_masked_in_messages_extras_and_tracebacks(output: io.StringIO) -> None:
    logging.getLogger("sms_gateway.conversation").warning(
        "sms throttled: too many messages from one number",
        extra={"event": "sms_throttled", "sender": "+8613812345678", "sid": "SM" + "a1" * 16})
    try:
        raise RuntimeError("originate to 13912345678 failed")
    except RuntimeError:
        logging.getLogger("callcenter.bridge").exception("ami.callback_failed item=%r",
                                                         {"caller": "13912345678", "intl": "+12025550143"})
    text = output.getvalue()
    assert "sms_throttled" in text and "ami.callback_failed" in text and "RuntimeError" in text
    for number in ("13812345678", "8613812345678", "13912345678", "12025550143"):
        assert number not in text
    assert "5678" in text and "0143" in text  # enough of each to tell them apart


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_providers_ids_stay_whole_in_log_lines_and_the_phone_beside_them_is_masked(log_format: str) -> None:
    """A Twilio SID, an Alibaba Cloud BizId and a request id are matched against the provider's
    records: their digits, however much they read like a number, are left as they are."""
    sid, biz_id, request_id = "SM9f3c13800138000ab17e2d4c5f60a1b2", "900619746936498440^0", "123e4567-e89b-12d3-a456-013800138000"
    logging_to = configured(log_format)
    output = next(logging_to)
    try:
        logging.getLogger("sms_gateway.sender").info(
            "sms.sent sid=%s biz_id=%s tel:+8613812345678 来电13912345678", sid, biz_id,
            extra={"event": "sms_sent", "request_id": request_id, "response": {"BizId": biz_id, "Code": "OK"},
                   "recipient": "+8613812345678", "detail": '{"to": "13912345678", "sid": "%s"}' % sid})
    finally:
        next(logging_to, None)
    text = output.getvalue()
    assert text.count(sid) == 2 and text.count(biz_id) == 2 and request_id in text, text
    for number in ("13812345678", "13912345678"):
        assert number not in text
    assert "138****5678" in text and "139****5678" in text


def test_twilio_client_request_lines_are_quiet(output: io.StringIO) -> None:
    client_log = logging.getLogger("twilio.http_client")
    client_log.info("GET Request: https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?To=%2B8613812345678")
    client_log.warning("Twilio says: %s", "https://api.twilio.com/x?To=%2B8613812345678")
    text = output.getvalue()
    assert "GET Request" not in text and "Twilio says" in text
    assert "13812345678" not in text


def test_the_database_password_is_never_printed(database_url: str) -> None:
    assert display_url("postgresql://hotline:s3cret@db.example/hotline") == "postgresql://hotline:***@db.example/hotline"
    url = database_url
    if make_url(url).get_backend_name() == "postgresql":
        url = make_url(url).set(password="s3cret-pw").render_as_string(hide_password=False)  # trust auth ignores it
    result = CliRunner().invoke(main, ["db", "upgrade"], env={"HOTLINE_DATABASE_URL": url}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output and "database at the newest schema" in result.output


def test_other_handlers_still_see_the_record_as_logged(output: io.StringIO, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="sms_gateway.conversation")
    logging.getLogger("sms_gateway.conversation").warning("sms throttled", extra={"sender": "+8613812345678"})
    assert caplog.records[-1].sender == "+8613812345678"
    assert "13812345678" not in output.getvalue()


def test_json_lines_from_a_real_server_name_their_event_and_hold_no_phone_number(tmp_path: Path) -> None:
    """`hotline serve` with HOTLINE_LOG_FORMAT=json, in a process of its own: every line of
    its stderr is one JSON object; a ticket filed with a phone number, and a path holding
    one, leave the number nowhere in the log."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update({"HOTLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.db'}", "HOTLINE_TRAIN_ON_START": "no",
                "HOTLINE_LOG_FORMAT": "json", "HOTLINE_LOG_LEVEL": "INFO"})
    stderr_path = tmp_path / "stderr.txt"
    with open(stderr_path, "wb") as stderr:
        server = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, stderr_path.read_text()
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        made = httpx.post(base + "/api/v1/tickets", json={"body": "小区门口路灯不亮已经一周了", "phone": "13812345678",
                                                          "name": "张三丰"}).json()
        httpx.get(f"{base}/api/v1/tickets/{made['number']}", params={"code": made["query_code"]})
        httpx.get(f"{base}/callback/13812345678")  # no such page: the number is in the access log's path
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    text = stderr_path.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert lines and all({"timestamp", "level", "logger", "event", "message"} <= set(line) for line in lines)
    assert all(line["event"] for line in lines)
    access = [line for line in lines if line["event"] == "http_request"]
    assert {(line["method"], line["path"], line["status"]) for line in access} >= {
        ("POST", "/api/v1/tickets", 201), ("GET", f"/api/v1/tickets/{made['number']}", 200),
        ("GET", "/callback/138****5678", 404)}
    assert "13812345678" not in text and made["query_code"] not in text and "张三丰" not in text


def test_extras_naming_a_phone_are_masked_and_those_naming_a_text_are_dropped(json_output: io.StringIO) -> None:
    logging.getLogger("sms_gateway.conversation").warning(
        "sms from %s", "+8613812345678",
        extra={"event": "sms_received", "sender": "+8613812345678", "caller": 13912345678,
               "body": "我家楼下路灯坏了", "title": "路灯", "ticket": "20261203001"})
    (line,) = [json.loads(text) for text in json_output.getvalue().splitlines()]
    assert line["event"] == "sms_received" and line["level"] == "WARNING"
    assert line["logger"] == "sms_gateway.conversation" and line["ticket"] == "20261203001"
    assert line["sender"] == "138****5678" and line["caller"] == "139****5678"
    assert line["body"] == line["title"] == "[redacted]" and "路灯" not in json_output.getvalue()
    assert line["message"] == "sms from 138****5678"


def test_a_bridge_line_without_an_event_extra_is_named_by_its_leading_word(json_output: io.StringIO) -> None:
    logging.getLogger("callcenter.bridge").info("ami.logged_in host=%s port=%d", "127.0.0.1", 5038)
    logging.getLogger("web.scheduler").warning("Application startup complete.")
    first, second = (json.loads(text) for text in json_output.getvalue().splitlines())
    assert first["event"] == "ami.logged_in" and second["event"] == "web.scheduler"


def test_the_log_format_setting_accepts_text_or_json_only() -> None:
    assert Settings.from_env({}).log_format == "text"
    assert Settings.from_env({"HOTLINE_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(ValueError, match="HOTLINE_LOG_FORMAT"):
        Settings.from_env({"HOTLINE_LOG_FORMAT": "xml"})


def test_a_stand_in_served_in_the_same_process_leaves_the_access_log_redacted(output: io.StringIO) -> None:
    """`hotline serve --demo` serves the SMS stand-in in a thread of its own process: starting
    it must not put uvicorn's own logging back over the hotline's."""
    from starlette.applications import Starlette

    from sms_gateway.simulator import ServerThread

    access = logging.getLogger("uvicorn.access")
    access.setLevel(logging.INFO)    # as the hotline's own server sets it (logs.uvicorn_options)
    stand_in = ServerThread().start(Starlette())
    try:
        assert (access.handlers, access.propagate, access.level) == ([], True, logging.INFO)
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:50120", "GET", "/status?number=20261207-0010&code=560598",
                    "1.1", 200)
    finally:
        stand_in.stop()
    text = output.getvalue()
    assert '"GET /status HTTP/1.1" 200' in text and "560598" not in text


FORGED = "x\n2026-12-07 09:00:00,000 INFO web.pages.login: login event=login username=admin"


def test_a_user_name_with_a_newline_cannot_forge_a_line_in_the_text_log(output: io.StringIO, client) -> None:
    from tests.web.pages_support import csrf

    response = client.post("/login", data={"csrf_token": csrf(client), "username": FORGED, "password": "guess-1234"})
    assert response.status_code == 401
    lines = output.getvalue().splitlines()
    assert all(line[:4].isdigit() for line in lines), lines   # every line is one record's
    (failed,) = [line for line in lines if "event=login_failed" in line]
    assert 'username="x\\n2026-12-07 09:00:00,000 INFO web.pages.login: login event=login username=admin"' in failed
    assert not any(line.startswith("2026-12-07 09:00:00,000") for line in lines)


def test_values_are_quoted_so_that_none_fakes_another_key(output: io.StringIO) -> None:
    logging.getLogger("web.test").warning("lookup of %s", "20261207-0001\r\n2026-12-07 fake line", extra={
        "event": "lookup_failed", "number": "1 client=10.0.0.9", "path": "/x\x1b[2J\u2028y", "empty": "",
        "quote": 'a"b\\', "plain": "20261207-0001", "chinese": "路灯"})
    (line,) = output.getvalue().splitlines()
    assert "lookup of 20261207-0001\\r\\n2026-12-07 fake line" in line
    assert ' number="1 client=10.0.0.9" ' in line and " client=" not in line.replace('"1 client=', "")
    assert ' path="/x\\x1b[2J\\u2028y" ' in line and ' empty="" ' in line and line.endswith(' quote="a\\"b\\\\"')
    assert " plain=20261207-0001" in line and " chinese=路灯" in line and " event=lookup_failed " in line


def test_json_lines_escape_every_line_break(json_output: io.StringIO) -> None:
    logging.getLogger("web.test").warning("a\u2028b\x85c", extra={"event": "x", "path": "/p\u2029\nq"})
    (text,) = json_output.getvalue().splitlines()   # str.splitlines breaks at U+2028, U+2029 and U+0085 too
    line = json.loads(text)
    assert line["message"] == "a\u2028b\x85c" and line["path"] == "/p\u2029\nq"


def test_an_exception_message_with_a_newline_cannot_forge_a_line_in_the_text_log(output: io.StringIO) -> None:
    try:
        raise ValueError("bad input" + FORGED[1:] + "\r2026-12-07 09:00:01,000 INFO x: y")
    except ValueError:
        logging.getLogger("web.test").exception("request failed", extra={"event": "request_failed", "path": "/x"})
    lines = output.getvalue().splitlines()
    records = [line for line in lines if not line.startswith(logs.CONTINUATION)]
    assert len(records) == 1 and len(lines) > 3, lines   # one record, its traceback under it
    assert records[0].endswith("request failed event=request_failed path=/x")
    assert lines[1] == logs.CONTINUATION + "Traceback (most recent call last):"
    # Still readable: the exception's own lines, each marked as part of the record above.
    assert logs.CONTINUATION + "ValueError: bad input" in lines
    assert logs.CONTINUATION + "2026-12-07 09:00:00,000 INFO web.pages.login: login event=login username=admin" \
        "\\r2026-12-07 09:00:01,000 INFO x: y" in lines
    assert not any(line.startswith("2026-12-07 09:00:0") for line in lines)
