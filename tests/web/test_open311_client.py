"""A GeoReport v2 client written by others (the `georeport` package on PyPI) reads our
endpoint over real HTTP, in JSON and in XML: what it parses is what the spec defines."""
from __future__ import annotations

from typing import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dispatch import open311_keys
from dispatch.open311_services import current_services
from dispatch.units import City
from tests.web.server import ServerThread
from web.app import create_app
from web.config import Settings

georeport = pytest.importorskip("georeport")
requests = pytest.importorskip("requests")


@pytest.fixture
def endpoint(database_url: str, units: City) -> Iterator[str]:
    with ServerThread(create_app(Settings(database_url=database_url))) as server:
        yield f"{server.url}/open311/v2"


@pytest.fixture
def filed(endpoint: str, units: City, sessions: sessionmaker[Session]) -> str:
    """One request filed as the spec's example does (form-encoded, contact fields, attributes);
    the package files none, so plain HTTP does."""
    with sessions.begin() as session:
        _, key = open311_keys.create(session, "georeport test")
        code = next(s.code for s in current_services(session, units) if s.group == "交通运输")
    answer = requests.post(f"{endpoint}/requests.json", timeout=10, data={
        "api_key": key, "jurisdiction_id": units.code, "service_code": code, "lat": "35.0904", "long": "112.6024",
        "address_string": "济源市济水大街与天坛路交叉口", "email": "li@example.cn", "device_id": "tt222111",
        "account_id": "123456", "first_name": "四", "last_name": "李", "phone": "13912345678",
        "description": "我是李四，济水大街公交站牌被撞倒了，电话13912345678。",
        "media_url": "https://img.example.cn/2.jpg", "attribute[request_type]": "report"})
    assert answer.status_code == 201, answer.text
    return answer.json()[0]["service_request_id"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_georeport_package_lists_services_and_definitions(endpoint: str, units: City, session: Session,
                                                              fmt: str) -> None:
    client = georeport.GeoReport(endpoint, jurisdiction=units.code, output_format=fmt)
    services = client.get_service_list()
    expected = {s.code: s.name for s in current_services(session, units)}
    session.rollback()  # SQLite: the read's transaction would hold the write lock the server needs
    assert {s["service_code"]: s["service_name"] for s in services} == expected
    code = services[0]["service_code"]
    definition = client.get_service_definition(code)
    assert definition["service_code"] == code
    attributes = definition["attributes"]
    # xmltodict gives {"attribute": [...]} for the XML, JSON gives the list itself.
    attributes = attributes["attribute"] if fmt == "xml" else attributes
    assert {a["code"] for a in attributes} == {"request_type", "confidential"}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_georeport_package_reads_requests_masked(endpoint: str, filed: str, units: City, fmt: str) -> None:
    client = georeport.GeoReport(endpoint, jurisdiction=units.code, output_format=fmt)
    listed = client.get_service_requests(status="open")
    # One request: xmltodict gives a dict, JSON a list of one.
    one = listed if fmt == "xml" else listed[0]
    assert one["service_request_id"] == filed and one["status"] == "open"
    groups = {s["service_code"]: (s["group"], s["service_name"]) for s in client.get_service_list()}
    assert groups[one["service_code"]] == ("交通运输", one["service_name"])  # the catalogue entry filed under
    assert "13912345678" not in str(one) and "李四" not in str(one) and "139****5678" in one["description"]
    assert float(one["lat"]) == pytest.approx(35.0904)
    read = client.get_service_request(filed)
    assert read["service_request_id"] == filed and read["requested_datetime"].endswith("+08:00")
    if fmt == "json":  # (the package cannot read an empty XML list: xmltodict makes it None)
        assert client.get_service_requests(status="closed") == []
