"""An Open311 request posted as multipart/form-data in a charset other than UTF-8, as another
city's system sends GBK: each text part is read in the charset declared for it (its own
Content-Type, else the form's `_charset_` field, else the request's charset parameter, else
UTF-8), and a part not valid in its charset is refused with a 400 in Chinese, never stored as
mojibake or with replacement characters. Real bytes over a real HTTP server."""
from __future__ import annotations

import http.client
import json
from typing import Any, Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch import open311_keys
from dispatch.models import Ticket
from dispatch.open311_services import current_services
from dispatch.public import ticket_by_number
from dispatch.units import City
from tests.web.server import ServerThread
from web.app import create_app
from web.config import Settings

BOUNDARY = "----hotline-boundary-7MA4YWxkTrZu0gW"


@pytest.fixture
def server(database_url: str, units: City) -> Iterator[ServerThread]:
    with ServerThread(create_app(Settings(database_url=database_url))) as running:
        yield running


@pytest.fixture
def form(sessions: sessionmaker[Session], units: City) -> dict[str, str]:
    with sessions.begin() as session:
        _, key = open311_keys.create(session, "外市热线平台")
        code = next(s.code for s in current_services(session, units) if s.group == "城乡建设")
    return {"api_key": key, "service_code": code}


def multipart(parts: list[tuple[str, bytes, str | None]]) -> bytes:
    """Parts (name, its bytes, its own Content-Type or None) as a browser or a client writes them."""
    body = b""
    for name, value, content_type in parts:
        body += f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n".encode("ascii")
        if content_type:
            body += f"Content-Type: {content_type}\r\n".encode("ascii")
        body += b"\r\n" + value + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode("ascii")


def post(server: ServerThread, body: bytes, charset: str | None = None) -> tuple[int, Any]:
    content_type = f"multipart/form-data; boundary={BOUNDARY}" + (f"; charset={charset}" if charset else "")
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("POST", "/open311/v2/requests.json", body=body,
                           headers={"Content-Type": content_type, "Content-Length": str(len(body))})
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read().decode("utf-8"))
    finally:
        connection.close()


def texts(form: dict[str, str], description: str, address: str) -> list[tuple[str, str]]:
    return [*form.items(), ("description", description), ("address_string", address),
            ("first_name", "三丰"), ("last_name", "张")]


def stored(sessions: sessionmaker[Session], number: str) -> tuple[str, str | None, str | None]:
    with sessions() as session:
        ticket = ticket_by_number(session, number)
        assert ticket is not None
        return ticket.body, ticket.location, ticket.name


@pytest.mark.parametrize("declared_by", ["_charset_", "part", "request"])
def test_a_multipart_form_in_gbk_is_read_in_gbk(server: ServerThread, form: dict[str, str], declared_by: str,
                                                sessions: sessionmaker[Session]) -> None:
    description, address = f"金水路井盖丢了，很危险（{declared_by}）。", "郑州市金水区金水路12号院"
    own_type = "text/plain; charset=GBK" if declared_by == "part" else None
    parts = [(name, value.encode("gbk"), own_type) for name, value in texts(form, description, address)]
    if declared_by == "_charset_":
        parts.insert(0, ("_charset_", b"GBK", None))
    status, answer = post(server, multipart(parts), charset="gbk" if declared_by == "request" else None)
    assert status == 201, answer
    assert stored(sessions, answer[0]["service_request_id"]) == (description, address, "张三丰")


def test_a_part_keeps_its_own_charset_beside_the_form_s(server: ServerThread, form: dict[str, str],
                                                        sessions: sessionmaker[Session]) -> None:
    """The form says GBK; one part says it is UTF-8: each is read in its own."""
    description, address = "天坛路路灯坏了一排，晚上很黑。", "济源市天坛街道天坛路"
    parts = [(name, value.encode("gbk"), None) for name, value in texts(form, description, "")[:-3]]
    parts += [("address_string", address.encode("utf-8"), "text/plain; charset=utf-8"),
              ("_charset_", b"gbk", None)]
    status, answer = post(server, multipart(parts))
    assert status == 201, answer
    assert stored(sessions, answer[0]["service_request_id"])[:2] == (description, address)


@pytest.mark.parametrize("charset, own_type, words", [
    (None, None, "不是有效的 utf-8 编码"),                   # GBK sent as if UTF-8
    ("klingon", None, "不支持字符集「klingon」"),
    (None, "text/plain; charset=klingon", "不支持字符集「klingon」"),
])
def test_gbk_not_declared_as_such_is_refused_and_nothing_stored(server: ServerThread, form: dict[str, str],
                                                                sessions: sessionmaker[Session], charset: str | None,
                                                                own_type: str | None, words: str) -> None:
    parts = [(name, value.encode("gbk"), own_type)
             for name, value in texts(form, "人民路下水道堵了，污水漫到路上。", "郑州市人民路")]
    status, answer = post(server, multipart(parts), charset=charset)
    assert status == 400 and words in answer[0]["description"], answer
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_a_part_not_valid_in_its_declared_charset_is_refused(server: ServerThread, form: dict[str, str],
                                                             sessions: sessionmaker[Session]) -> None:
    parts = [(name, value.encode("gbk"), None) for name, value in texts(form, "人民路下水道堵了。", "郑州市人民路")]
    parts.append(("attribute[request_type]", b"\x81\x20", None))   # a GBK lead byte with no trail
    status, answer = post(server, multipart(parts), charset="gbk")
    assert status == 400 and "不是有效的 gbk 编码" in answer[0]["description"], answer
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_a_utf8_multipart_form_and_its_limits_are_as_before(server: ServerThread, form: dict[str, str],
                                                            sessions: sessionmaker[Session]) -> None:
    description, address = "文化路公交站牌被撞倒了。", "郑州市文化路"
    parts = [(name, value.encode("utf-8"), None) for name, value in texts(form, description, address)]
    status, answer = post(server, multipart(parts))
    assert status == 201, answer
    assert stored(sessions, answer[0]["service_request_id"])[:2] == (description, address)
    with_file = multipart(parts).replace(b'name="description"', b'name="description"; filename="a.txt"')
    assert post(server, with_file)[0] == 400
    too_many = multipart(parts + [(f"x{i}", b"1", None) for i in range(60)])
    status, answer = post(server, too_many)
    assert status == 400 and "表单字段过多" in answer[0]["description"], answer
    with sessions() as session:
        assert "\ufffd" not in "".join(session.scalars(select(Ticket.body)))
