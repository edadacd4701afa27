"""Open311 GeoReport v2 as a civic app speaks it: list the services, file a request with a
key, read requests back (masked, confidential ones left out), and the spec's errors, in JSON
and XML. The field names are the spec's own (wiki.open311.org/GeoReport_v2)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterator
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from dispatch import catalogue, lifecycle, open311_keys
from dispatch.actors import Actor
from dispatch.clock import utcnow
from dispatch.limits import Limits
from dispatch.models import CatalogueEntry, Open311Submission, Ticket
from dispatch.open311 import iso
from dispatch.open311_services import current_services
from dispatch.public import ticket_by_number
from dispatch.units import City, unit_by_code
from dispatch.vocabulary import Role
from tests.conftest import unit_staff
from web.app import create_app
from web.cli import main
from web.config import Settings

BASE = "/open311/v2"
# The fields of a service request in the spec's GET requests, in its order.
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
BODY = "我叫张三丰，电话13812345678，小区门口道路塌陷一个大坑，三天没人处理。"


@pytest.fixture
def client(database_url: str, units: City) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield client


@pytest.fixture
def api_key(sessions: sessionmaker[Session]) -> str:
    with sessions.begin() as session:
        _, raw = open311_keys.create(session, "随手拍小程序")
    return raw


def service(client: TestClient, group: str = "城乡建设") -> dict[str, Any]:
    """As a client finds it in the service list: the first of a group (a catalogue level 1)."""
    return next(s for s in client.get(f"{BASE}/services.json").json() if s["group"] == group)


def service_code(client: TestClient, group: str = "城乡建设") -> str:
    return str(service(client, group)["service_code"])


def file(client: TestClient, key: str, city: City, fmt: str = "json", **fields: str):  # type: ignore[no-untyped-def]
    data = {"api_key": key, "service_code": service_code(client), "description": BODY,
            "address_string": "济源市沁园街道天坛路 12 号", "first_name": "三丰", "last_name": "张",
            "phone": "13812345678", "email": "zhang@example.cn", "account_id": "app-user-7", **fields}
    return client.post(f"{BASE}/requests.{fmt}", data=data)


def xml(response) -> ElementTree.Element:  # type: ignore[no-untyped-def]
    assert response.headers["content-type"].startswith("text/xml")
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ElementTree.fromstring(response.content)


def test_services_are_the_catalogue_entries_in_json_and_xml(client: TestClient, units: City,
                                                             session: Session) -> None:
    listed = client.get(f"{BASE}/services.json")
    assert listed.status_code == 200 and listed.headers["content-type"] == "application/json; charset=utf-8"
    services = listed.json()
    entries = catalogue.current_entries(session)
    session.rollback()  # SQLite: the read's transaction would hold the write lock the app needs
    assert len(entries) == 517
    # One service per dispatch catalogue entry: its code, its level-3 name, level 1 as the group.
    assert [(s["service_code"], s["service_name"], s["group"]) for s in services] == [
        (e.code, e.level3, e.level1) for e in entries]
    assert all(list(s) == SERVICE_FIELDS for s in services)
    gas = next(s for s in services if s["service_name"] == "燃气供应")
    assert gas["metadata"] is True and gas["type"] == "realtime" and "燃气" in gas["description"]
    local = next(e for e in entries if e.local)
    assert "乡镇" in next(s["description"] for s in services if s["service_code"] == local.code)
    root = xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services" and [e.tag for e in root] == ["service"] * len(services)
    assert [e.findtext("service_code") for e in root] == [s["service_code"] for s in services]
    assert root[0].findtext("metadata") == "true"


def test_without_a_catalogue_the_services_are_the_city_categories_with_stable_codes(session: Session,
                                                                                   units: City) -> None:
    services = current_services(session, units)  # no app started: no catalogue seeded
    assert {s.name for s in services} == set(units.categories) | set(units.local_categories)
    # Codes come from the names: the same list in any order gives the same codes.
    reordered = City(code=units.code, name=units.name, units=units.units,
                     categories=dict(reversed(list(units.categories.items()))),
                     local_categories=units.local_categories, gazetteer=units.gazetteer)
    assert {s.code: s.name for s in current_services(session, reordered)} == {s.code: s.name for s in services}


def test_a_service_definition_lists_its_attributes(client: TestClient, units: City) -> None:
    code = service_code(client)
    definition = client.get(f"{BASE}/services/{code}.json").json()
    assert definition["service_code"] == code
    by_code = {a["code"]: a for a in definition["attributes"]}
    assert set(by_code) == {"request_type", "confidential"}
    assert {v["key"] for v in by_code["request_type"]["values"]} >= {"complaint", "consultation", "report"}
    assert all(a["variable"] is True and a["datatype"] == "singlevaluelist" for a in definition["attributes"])
    root = xml(client.get(f"{BASE}/services/{code}.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == code
    values = root.findall("attributes/attribute/values/value")
    assert values and all(v.findtext("key") and v.findtext("name") for v in values)
    assert client.get(f"{BASE}/services/nope.json").status_code == 404


def test_a_civic_app_files_a_request_through_the_one_intake(client: TestClient, api_key: str, units: City,
                                                             sessions: sessionmaker[Session]) -> None:
    chosen = service(client)
    answer = file(client, api_key, units, lat="35.0904", long="112.6024", media_url="https://img.example.cn/1.jpg")
    assert answer.status_code == 201, answer.text
    [receipt] = answer.json()
    assert list(receipt) == ["service_request_id", "service_notice", "account_id"]
    assert receipt["account_id"] == "app-user-7" and receipt["service_request_id"] in receipt["service_notice"]
    with sessions() as session:
        ticket = ticket_by_number(session, receipt["service_request_id"])
        assert (ticket.channel, ticket.category, ticket.state) == ("open311", "城乡建设", "received")
        assert ticket.catalogue_entry_id is not None
        assert session.get(CatalogueEntry, ticket.catalogue_entry_id).code == chosen["service_code"]
        assert ticket.name == "张三丰" and ticket.phone == "+8613812345678"
        assert ticket.location == "济源市沁园街道天坛路 12 号（35.090400,112.602400）"
        kept = session.scalar(select(Open311Submission).where(Open311Submission.ticket_id == ticket.id))
        assert kept is not None and kept.email == "zhang@example.cn" and kept.lat == pytest.approx(35.0904)
        deadline = ticket.deadline
    assert deadline is not None

    [read] = client.get(f"{BASE}/requests/{receipt['service_request_id']}.json").json()
    assert list(read) == REQUEST_FIELDS
    assert read["status"] == "open" and read["status_notes"] == "已受理"
    assert read["service_name"] == chosen["service_name"] and read["service_code"] == chosen["service_code"]
    # Masked as on the public pages: no name, no number.
    assert "13812345678" not in str(read) and "张三丰" not in str(read)
    assert "138****5678" in read["description"] and "张**" in read["description"]
    assert read["requested_datetime"].endswith("+08:00")
    assert dt.datetime.fromisoformat(read["expected_datetime"]) == deadline
    assert read["lat"] == pytest.approx(35.0904) and read["media_url"] == "https://img.example.cn/1.jpg"


def test_the_point_a_client_sends_reads_back_as_written_not_masked_as_a_number(
        client: TestClient, api_key: str, units: City) -> None:
    """The README's example: lat 35.0904, long 112.6024 after the address, in JSON, in XML and on
    the citizen's status page; the citizen's own numbers are masked as ever."""
    answer = file(client, api_key, units, lat="35.0904", long="112.6024",
                  address_string="济源市天坛街道天坛路")
    [receipt] = answer.json()
    number, code = receipt["service_request_id"], receipt["service_notice"].split("查询码 ")[1][:6]
    written = "济源市天坛街道天坛路（35.090400,112.602400）"
    [read] = client.get(f"{BASE}/requests/{number}.json").json()
    assert read["address"] == written
    assert xml(client.get(f"{BASE}/requests/{number}.xml")).findtext("request/address") == written
    status = client.get("/status", params={"number": number, "code": code})
    assert status.status_code == 200 and written in status.text and "13812345678" not in status.text


@pytest.mark.parametrize("address, lat, long, written", [
    ("金水路12号院3", "34.123456", "113.123456", "金水路12号院3（34.123456,113.123456）"),
    ("3号楼2单元1801", "34.7466", "113.6253", "3号楼2单元1801（34.746600,113.625300）"),
])
def test_the_point_stays_whole_after_an_address_ending_in_a_digit(client: TestClient, api_key: str, units: City,
                                                                   address: str, lat: str, long: str,
                                                                   written: str) -> None:
    """A house or room number right before the point the system writes does not make the
    point a number: the point reads back whole, the address before it masked on its own."""
    answer = file(client, api_key, units, lat=lat, long=long, address_string=f"张三丰家13812345678 {address}")
    [receipt] = answer.json()
    number, code = receipt["service_request_id"], receipt["service_notice"].split("查询码 ")[1][:6]
    shown = "张**家138****5678 " + written
    [read] = client.get(f"{BASE}/requests/{number}.json").json()
    assert read["address"] == shown
    assert xml(client.get(f"{BASE}/requests/{number}.xml")).findtext("request/address") == shown
    status = client.get("/status", params={"number": number, "code": code})
    assert status.status_code == 200 and shown in status.text and "13812345678" not in status.text


def test_a_form_in_gbk_is_read_in_gbk_and_one_not_in_its_charset_is_refused(client: TestClient, api_key: str,
                                                                              units: City,
                                                                              sessions: sessionmaker[Session]) -> None:
    fields = {"api_key": api_key, "service_code": service_code(client), "description": "天坛路井盖丢了，很危险。",
              "address_string": "济源市天坛街道天坛路", "first_name": "三丰", "last_name": "张"}
    gbk = urlencode(fields, encoding="gbk")
    filed = client.post(f"{BASE}/requests.json", content=gbk,
                        headers={"Content-Type": "application/x-www-form-urlencoded; charset=gbk"})
    assert filed.status_code == 201, filed.text
    with sessions() as session:
        ticket = ticket_by_number(session, filed.json()[0]["service_request_id"])
        assert (ticket.body, ticket.location, ticket.name) == ("天坛路井盖丢了，很危险。", "济源市天坛街道天坛路", "张三丰")
    # GBK sent as if UTF-8 (no charset), or a charset no one knows: refused, nothing stored.
    for content_type, words in (("application/x-www-form-urlencoded", "不是有效的 utf-8 编码"),
                                ("application/x-www-form-urlencoded; charset=klingon", "不支持字符集「klingon」")):
        refused = client.post(f"{BASE}/requests.json", content=gbk, headers={"Content-Type": content_type})
        assert refused.status_code == 400 and words in refused.json()[0]["description"], refused.text
    with sessions() as session:
        assert "\ufffd" not in "".join(session.scalars(select(Ticket.body)))
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_a_client_retrying_with_its_idempotency_key_gets_the_first_receipt(client: TestClient, api_key: str,
                                                                            units: City,
                                                                            sessions: sessionmaker[Session]) -> None:
    key = {"Idempotency-Key": "app-7-request-1"}
    data = {"api_key": api_key, "service_code": service_code(client), "description": BODY,
            "address_string": "济源市沁园街道天坛路 12 号"}
    first = client.post(f"{BASE}/requests.xml", data=data, headers=key)
    again = client.post(f"{BASE}/requests.xml", data=data, headers=key)
    assert first.status_code == again.status_code == 201 and again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    changed = client.post(f"{BASE}/requests.json", data={**data, "description": "另一件事"}, headers=key)
    assert changed.status_code == 400 and "Idempotency-Key" in changed.json()[0]["description"]
    # Another client's key of the same name is its own.
    with sessions.begin() as session:
        _, other = open311_keys.create(session, "另一个小程序")
    assert client.post(f"{BASE}/requests.json", data={**data, "api_key": other}, headers=key).status_code == 201


def test_xml_answers_parse_with_the_spec_element_names(client: TestClient, api_key: str, units: City) -> None:
    root = xml(file(client, api_key, units, "xml"))
    assert root.tag == "service_requests" and [e.tag for e in root[0]] == ["service_request_id", "service_notice",
                                                                           "account_id"]
    number = root.findtext("request/service_request_id")
    listed = xml(client.get(f"{BASE}/requests.xml"))
    assert [e.tag for e in listed] == ["request"] and [e.tag for e in listed[0]] == REQUEST_FIELDS
    assert listed.findtext("request/service_request_id") == number
    assert listed.findtext("request/status") == "open" and listed.findtext("request/agency_responsible") == ""
    one = xml(client.get(f"{BASE}/requests/{number}.xml"))
    assert one.findtext("request/service_request_id") == number


def test_control_characters_a_citizen_typed_do_not_break_the_xml_feed(client: TestClient, units: City) -> None:
    filed = client.post("/api/v1/tickets", json={"body": "x\u0001\u000b\u001f路灯坏了", "phone": "13812345678"})
    assert filed.status_code == 201, filed.text
    assert xml(client.get(f"{BASE}/requests.xml")).findtext("request/description") == "x路灯坏了"


def test_a_ticket_stored_with_control_characters_still_reads_as_xml(client: TestClient, units: City,
                                                                    sessions: sessionmaker[Session]) -> None:
    number = client.post("/api/v1/tickets", json={"body": "路灯坏了", "phone": "13812345678"}).json()["number"]
    with sessions.begin() as session:  # as intake kept it before it dropped them
        ticket_by_number(session, number).body = "x\u0001\u000b\u001f路灯坏了\t\n已一周\ufffe"
    listed = xml(client.get(f"{BASE}/requests.xml"))
    assert listed.findtext("request/description") == "x路灯坏了\t\n已一周"


def test_a_resolved_ticket_reads_closed_with_the_reply_and_its_unit(client: TestClient, api_key: str,
                                                                    units: City,
                                                                    sessions: sessionmaker[Session]) -> None:
    resolved = file(client, api_key, units).json()[0]["service_request_id"]
    still_open = file(client, api_key, units, description="天坛路路灯不亮。", phone="13900000001").json()[0]
    with sessions.begin() as session:
        ticket = ticket_by_number(session, resolved)
        lifecycle.transfer(session, ticket, unit_by_code(session, "housing"),
                           Actor(label="operator-wang", role=Role.OPERATOR))
        staff = unit_staff(session, "housing")
        lifecycle.accept(session, ticket, staff)
        resolved_at = utcnow() + dt.timedelta(hours=2)
        lifecycle.resolve(session, ticket, staff, "已回填道路，张三丰先生可拨打13812345678回访。", now=resolved_at)
        unit_name = unit_by_code(session, "housing").name
    [read] = client.get(f"{BASE}/requests/{resolved}.json").json()
    assert read["status"] == "closed" and read["agency_responsible"] == unit_name
    assert read["status_notes"].startswith("已办结：已回填道路") and "13812345678" not in read["status_notes"]
    assert read["updated_datetime"] == iso(resolved_at)  # the last event's time
    closed = client.get(f"{BASE}/requests.json", params={"status": "closed"}).json()
    opened = client.get(f"{BASE}/requests.json", params={"status": "open"}).json()
    assert [r["service_request_id"] for r in closed] == [resolved]
    assert [r["service_request_id"] for r in opened] == [still_open["service_request_id"]]
    both = client.get(f"{BASE}/requests.json", params={"status": "open,closed"}).json()
    assert len(both) == 2
    by_ids = client.get(f"{BASE}/requests.json", params={"service_request_id": f"{resolved},nope"}).json()
    assert [r["service_request_id"] for r in by_ids] == [resolved]
    other_code = service_code(client, "交通运输")
    assert client.get(f"{BASE}/requests.json", params={"service_code": other_code}).json() == []
    assert len(client.get(f"{BASE}/requests.json", params={"service_code": service_code(client)}).json()) == 2


def test_a_citizens_name_card_email_and_spoken_mobile_are_masked_in_open311_and_on_the_board(
        client: TestClient, units: City, sessions: sessionmaker[Session]) -> None:
    """As a probe found them: filed through the API with a name carrying a word of address,
    answered, then read where anyone can."""
    filed = client.post("/api/v1/tickets", json={
        "name": "张三先生", "phone": "13812345678", "title": "退款未到账",
        "body": "我是张 三，退款请打到卡号6222 0212 3456 7890 123，邮箱zhangwei@example.com，电话一三九零三九一零零零八。"})
    assert filed.status_code == 201, filed.text
    number = filed.json()["number"]
    with sessions.begin() as session:
        ticket = ticket_by_number(session, number)
        lifecycle.transfer(session, ticket, unit_by_code(session, "housing"),
                           Actor(label="operator-wang", role=Role.OPERATOR))
        staff = unit_staff(session, "housing")
        lifecycle.accept(session, ticket, staff)
        lifecycle.resolve(session, ticket, staff, "已联系张三，款项已退至6222021234567890123，回执已发zhangwei@example.com。")
    [read] = client.get(f"{BASE}/requests/{number}.json").json()
    board = client.get("/board").text
    for published in (read["description"] + read["status_notes"], board):
        for secret in ("张 三", "张三", "6222 0212", "6222021234567890123", "zhangwei", "一三九零三九一"):
            assert secret not in published, secret
    assert "张*" in read["description"] and "6222***********0123" in read["description"]
    assert "z***@example.com" in read["description"] and "139****0008" in read["description"]
    assert "6222***********0123" in read["status_notes"] and "6222***********0123" in board


def test_requests_are_found_by_date_and_the_default_is_the_last_90_days(client: TestClient, api_key: str,
                                                                      units: City,
                                                                      sessions: sessionmaker[Session]) -> None:
    number = file(client, api_key, units).json()[0]["service_request_id"]
    with sessions.begin() as session:
        old = Ticket(number="20200101-0001", query_code="123456", channel="web", request_type="complaint",
                     urgency="normal", title="旧工单", body="旧工单内容", state="received",
                     received_at=utcnow() - dt.timedelta(days=200), transfer_count=0, accepted_transfer_count=0,
                     return_count=0)
        session.add(old)
    assert [r["service_request_id"] for r in client.get(f"{BASE}/requests.json").json()] == [number]
    since = (utcnow() - dt.timedelta(days=210)).isoformat()
    until = (utcnow() - dt.timedelta(days=190)).isoformat()
    found = client.get(f"{BASE}/requests.json", params={"start_date": since, "end_date": until}).json()
    assert [r["service_request_id"] for r in found] == ["20200101-0001"]
    # An explicit id is read whatever its date.
    assert client.get(f"{BASE}/requests/20200101-0001.json").status_code == 200


def test_a_date_alone_as_end_date_takes_that_whole_china_day_in(client: TestClient, api_key: str,
                                                                 units: City) -> None:
    number = file(client, api_key, units).json()[0]["service_request_id"]
    today = utcnow().astimezone(dt.timezone(dt.timedelta(hours=8))).date().isoformat()
    found = client.get(f"{BASE}/requests.json", params={"start_date": today, "end_date": today}).json()
    assert [r["service_request_id"] for r in found] == [number]


def test_an_offset_whose_plus_became_a_space_is_refused_with_the_hint_to_encode_it(client: TestClient) -> None:
    refused = client.get(f"{BASE}/requests.json?start_date=2026-12-07T00:00:00+08:00")
    assert refused.status_code == 400 and "%2B" in refused.json()[0]["description"]
    assert client.get(f"{BASE}/requests.json?start_date=2026-12-07T00:00:00%2B08:00").status_code == 200


def test_status_notes_use_the_citizens_words_not_the_hotlines(client: TestClient, api_key: str, units: City,
                                                               sessions: sessionmaker[Session]) -> None:
    number = file(client, api_key, units).json()[0]["service_request_id"]
    with sessions.begin() as session:
        ticket = ticket_by_number(session, number)
        lifecycle.transfer(session, ticket, unit_by_code(session, "housing"),
                           Actor(label="operator-wang", role=Role.OPERATOR))
    assert client.get(f"{BASE}/requests/{number}.json").json()[0]["status_notes"] == "已交承办单位办理"
    with sessions.begin() as session:
        lifecycle.return_ticket(session, ticket_by_number(session, number), unit_staff(session, "housing"),
                                "不属于本单位")
    assert client.get(f"{BASE}/requests/{number}.json").json()[0]["status_notes"] == "正在重新安排承办单位"


def test_confidential_and_invalid_tickets_are_left_out(client: TestClient, api_key: str, units: City,
                                                       sessions: sessionmaker[Session]) -> None:
    secret = file(client, api_key, units, **{"attribute[confidential]": "true"}).json()[0]["service_request_id"]
    prank = file(client, api_key, units, description="测试测试", phone="13900000002").json()[0]
    public = file(client, api_key, units, description="路灯不亮", phone="13900000003",
                  **{"attribute[request_type]": "report"}).json()[0]["service_request_id"]
    with sessions.begin() as session:
        assert ticket_by_number(session, secret).confidential is True
        assert ticket_by_number(session, public).request_type == "report"
        lifecycle.invalidate(session, ticket_by_number(session, prank["service_request_id"]),
                             Actor(label="operator-wang", role=Role.OPERATOR), "测试")
    listed = [r["service_request_id"] for r in client.get(f"{BASE}/requests.json").json()]
    assert listed == [public]
    for hidden in (secret, prank["service_request_id"]):
        missing = client.get(f"{BASE}/requests/{hidden}.json")
        assert missing.status_code == 404 and missing.json()[0]["code"] == 404


def test_the_same_citizen_repeating_joins_the_open_ticket(client: TestClient, api_key: str, units: City) -> None:
    first = file(client, api_key, units).json()[0]
    again = file(client, api_key, units).json()[0]
    assert again["service_request_id"] == first["service_request_id"] and "并入" in again["service_notice"]


@pytest.mark.parametrize("change, status", [
    ({"api_key": ""}, 403),
    ({"api_key": "not-a-key"}, 403),
    ({"service_code": ""}, 400),
    ({"service_code": "c00000000"}, 404),
    ({"address_string": ""}, 400),
    ({"address_string": "", "lat": "35.1"}, 400),
    ({"lat": "north", "long": "112.6"}, 400),
    ({"lat": "95", "long": "112.6"}, 400),
    ({"description": ""}, 400),
    ({"phone": "12"}, 400),
    ({"attribute[request_type]": "rant"}, 400),
    ({"jurisdiction_id": "sfgov.org"}, 404),
])
def test_a_refused_request_gets_the_spec_errors_in_chinese(client: TestClient, api_key: str, units: City,
                                                           change: dict[str, str], status: int) -> None:
    refused = file(client, api_key, units, **change)
    assert refused.status_code == status, refused.text
    [error] = refused.json()
    assert list(error) == ["code", "description"] and error["code"] == status
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["description"])
    root = xml(file(client, api_key, units, "xml", **change))
    assert root.tag == "errors" and root.findtext("error/code") == str(status)
    assert client.get(f"{BASE}/requests.json").json() == []


def test_a_revoked_key_is_refused(client: TestClient, api_key: str, units: City,
                                  sessions: sessionmaker[Session]) -> None:
    assert file(client, api_key, units).status_code == 201
    with sessions.begin() as session:
        [row] = open311_keys.all_clients(session)
        open311_keys.revoke(session, row.id)
    refused = file(client, api_key, units, description="另一件事", phone="13900000004")
    assert refused.status_code == 403 and refused.json()[0]["code"] == 403


@pytest.mark.parametrize("path, params, status", [
    ("/requests.json", {"status": "pending"}, 400),
    ("/requests.json", {"start_date": "yesterday"}, 400),
    ("/requests.json", {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, 400),
    ("/requests.json", {"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, 400),
    ("/requests.json", {"start_date": "0001-01-01"}, 400),
    ("/requests.json", {"start_date": "9999-12-31"}, 400),
    ("/requests.json", {"end_date": "9999-12-31T23:59:59-08:00"}, 400),
    ("/requests.xml", {"end_date": "0001-01-01T00:00:00+14:00"}, 400),
    ("/requests.json", {"start_date": "1999-12-31T23:59:59"}, 400),
    ("/requests.json", {"jurisdiction_id": "sfgov.org"}, 404),
    ("/requests.csv", {}, 404),
    ("/requests/20260101-0001.json", {}, 404),
    ("/services/c00000000.xml", {}, 404),
    ("/nothing-here.json", {}, 404),
])
def test_bad_reads_get_the_spec_errors(client: TestClient, path: str, params: dict[str, str], status: int) -> None:
    refused = client.get(BASE + path, params=params)
    assert refused.status_code == status
    body = xml(refused)[0].findtext("code") if path.endswith(".xml") else refused.json()[0]["code"]
    assert str(body) == str(status)


def test_a_date_near_year_1_or_9999_is_refused_like_on_the_other_pages(client: TestClient) -> None:
    refused = client.get(f"{BASE}/requests.json", params={"start_date": "9999-12-31"})
    assert refused.status_code == 400
    assert "开始时间须在 2000-01-01 至 2099-12-31 之间" in refused.json()[0]["description"]


def test_a_client_key_is_limited_per_minute(database_url: str, units: City, api_key: str,
        minute_to_spare: None) -> None:
    settings = Settings(database_url=database_url, limits=Limits.build(open311_intake_per_minute=2))
    with TestClient(create_app(settings)) as client:
        for n in range(2):
            assert file(client, api_key, units, description=f"第{n}件事", phone="13900000005").status_code == 201
        refused = file(client, api_key, units, description="第三件事", phone="13900000005")
        assert refused.status_code == 429 and refused.json()[0]["code"] == 429
        assert int(refused.headers["retry-after"]) > 0


def test_request_lists_are_limited_per_address(database_url: str, units: City,
        minute_to_spare: None) -> None:
    """A list masks up to a thousand texts and needs no key: an address gets a few a minute."""
    settings = Settings(database_url=database_url, limits=Limits.build(open311_lists_per_minute=2))
    with TestClient(create_app(settings)) as client:
        for _ in range(2):
            assert client.get(f"{BASE}/requests.json").status_code == 200
        refused = client.get(f"{BASE}/requests.xml")
        assert refused.status_code == 429 and xml(refused)[0].findtext("code") == "429"
        assert int(refused.headers["retry-after"]) > 0
        assert client.get(f"{BASE}/services.json").status_code == 200  # the catalogue is not limited


def test_discovery_names_the_endpoint_and_its_formats(client: TestClient) -> None:
    found = client.get(f"{BASE}/discovery.json").json()
    [endpoint] = found["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2") and set(endpoint["formats"]) == {"text/xml", "application/json"}
    assert {"changeset", "contact", "key_service"} <= set(found)
    root = xml(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery" and [f.text for f in root.findall("endpoints/endpoint/formats/format")] == [
        "text/xml", "application/json"]


def test_keys_are_made_listed_and_revoked_from_the_command_line(database_url: str, units: City) -> None:
    runner = CliRunner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(main, list(args), env={"HOTLINE_DATABASE_URL": database_url}, catch_exceptions=False)

    made = run("open311", "keys", "create", "随手拍小程序")
    assert made.exit_code == 0, made.output
    key = made.stdout.splitlines()[0].strip()
    listed = run("open311", "keys", "list")
    assert "随手拍小程序" in listed.stdout and key not in listed.stdout
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        assert file(client, key, units).status_code == 201
        client_id = listed.stdout.splitlines()[1].split()[0]
        assert run("open311", "keys", "revoke", client_id).exit_code == 0
        assert file(client, key, units, description="又一件事", phone="13900000006").status_code == 403
    assert run("open311", "keys", "list").stdout.splitlines()[1].split()[-1] != "-"  # the revoked column
    assert run("open311", "keys", "revoke", "999").exit_code != 0


def test_the_operator_is_offered_the_service_the_citizen_chose(client: TestClient, api_key: str, units: City,
                                                               sessions: sessionmaker[Session]) -> None:
    from dispatch.staff import create_user
    from tests.web.pages_support import csrf

    # A service of another group than the words say (a road collapse, 城乡建设): the citizen's
    # choice, not what routing reads, is what the transfer form offers.
    chosen = next(s for s in client.get(f"{BASE}/services.json").json() if s["group"] != "城乡建设")
    answer = file(client, api_key, units, service_code=chosen["service_code"])
    assert answer.status_code == 201, answer.text
    number = answer.json()[0]["service_request_id"]
    with sessions.begin() as session:
        create_user(session, "op311", "口令-足够长-1234", Role.OPERATOR)
        entry = session.scalars(select(CatalogueEntry).where(CatalogueEntry.code == chosen["service_code"])).first()
        path = f"{entry.level1} / {entry.level2} / {entry.level3}"
    signed_in = client.post("/login", data={"csrf_token": csrf(client), "username": "op311",
                                            "password": "口令-足够长-1234"}, follow_redirects=False)
    assert signed_in.status_code == 303
    response = client.get(f"/tickets/{number}", follow_redirects=False)
    assert response.status_code == 200, (response.status_code, response.headers.get("location"))
    page = response.text
    assert f"市民在应用中选择的服务类别：<b>{path}</b>" in page
    assert f'value="{path}"' in page.split('id="category-input"')[1].split(">")[0]
