"""Log lines keep secrets out: query codes, phone numbers, the database password."""
from __future__ import annotations

import asyncio
import io
import logging
import socket
import threading
import time
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


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    """The hotline's logging set up as `hotline serve` does, into a buffer; put back after."""
    saved = {name: (logging.getLogger(name).level, logging.getLogger(name).handlers[:],
                    logging.getLogger(name).propagate) for name in NAMES}
    buffer = io.StringIO()
    logs.configure("INFO", stream=buffer)
    yield buffer
    for name, (level, handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate = propagate


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
