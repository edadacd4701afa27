"""The staff API as a unit's own system and the hotline's staff use it: bearer tokens, the
whole closed loop over JSON, merges with their texts, disputes, and every refusal."""
from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Iterator

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from dispatch import api_tokens, outbox
from dispatch.models import Notice, OutboxMessage, StaffUser, Ticket, TicketEvent, Unit
from dispatch.clock import utcnow
from dispatch.units import import_units
from dispatch.vocabulary import Role
from web.app import create_app
from web.config import Settings
from web.openapi import SPEC
from web.services import Services

PASSWORD = "correct horse battery"
ACCOUNTS = {"op": (Role.OPERATOR, None), "boss": (Role.SUPERVISOR, None),
            "housing": (Role.UNIT_STAFF, "housing"), "urban": (Role.UNIT_STAFF, "urban-management"),
            "school": (Role.UNIT_STAFF, "education")}


@functools.cache
def password_hash() -> str:
    """Hashed once per run: argon2 is slow on purpose, and five accounts per test add up."""
    from argon2 import PasswordHasher

    return PasswordHasher().hash(PASSWORD)


def seeded_services(database_url: str, accounts: dict[str, tuple[Role, str | None]]) -> Iterator[Services]:
    """Services over the demo city's units with these accounts (username: role, unit code)."""
    services = Services.build(Settings(database_url=database_url))
    outbox.install(services.sessions)  # texts are written to sms_outbox (no worker sends them here)

    def seed(session: Session) -> None:
        import_units(session, services.city)
        units = {u.code: u.id for u in session.scalars(select(Unit))}
        for username, (role, unit) in accounts.items():
            session.add(StaffUser(username=username, display_name=f"{username} 某某", password_hash=password_hash(),
                                  role=role.value, unit_id=units[unit] if unit else None, active=True,
                                  created_at=utcnow()))

    services.run_sync(seed)
    yield services
    services.close()


@pytest.fixture
def services(database_url: str, sessions: sessionmaker[Session]) -> Iterator[Services]:
    yield from seeded_services(database_url, ACCOUNTS)


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services.settings, services)) as client:
        yield client


def token_for(services: Services, username: str, *, hours: float | None = 1) -> str:
    """A token made in the database, as `hotline tokens create` makes one."""
    def make(session: Session) -> str:
        user = session.scalars(select(StaffUser).where(StaffUser.username == username)).one()
        return api_tokens.create(session, user, "test", lifetime=dt.timedelta(hours=hours) if hours else None)[1]

    return services.run_sync(make)


class Staff:
    """A client holding one user's bearer token."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **params: object):  # type: ignore[no-untyped-def]
        return self.client.get(f"/api/v1/staff{path}", params=params, headers=self.headers)

    def act(self, number: str, action: str, expect: int = 200, **body: object) -> dict:
        response = self.client.post(f"/api/v1/staff/tickets/{number}/{action}", json=body, headers=self.headers)
        assert response.status_code == expect, response.text
        return response.json()


@pytest.fixture
def staff(client: TestClient, services: Services):  # type: ignore[no-untyped-def]
    return {name: Staff(client, token_for(services, name)) for name in ACCOUNTS}


def file(client: TestClient, body: str = "人民路路灯坏了一个星期，晚上很黑。", phone: str = "13812345678") -> str:
    response = client.post("/api/v1/tickets", json={"body": body, "phone": phone})
    assert response.status_code == 201, response.text
    return response.json()["number"]


def texts(services: Services, number: str) -> list[str]:
    def read(session: Session) -> list[str]:
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == number))
        return list(session.scalars(select(OutboxMessage.kind).where(OutboxMessage.ticket_id == ticket_id)
                                    .order_by(OutboxMessage.id)))

    return services.run_sync(read)


def test_token_login_works_and_a_wrong_password_is_401(client: TestClient) -> None:
    response = client.post("/api/v1/auth/token", json={"username": "housing", "password": PASSWORD})
    assert response.status_code == 200, response.text
    issued = response.json()
    expires = dt.datetime.fromisoformat(issued["expires_at"])
    assert dt.timedelta(hours=11) < expires - dt.datetime.now(dt.timezone.utc) <= dt.timedelta(hours=12)
    listed = client.get("/api/v1/staff/tickets", headers={"Authorization": f"Bearer {issued['token']}"})
    assert listed.status_code == 200 and listed.json()["total"] == 0
    wrong = client.post("/api/v1/auth/token", json={"username": "housing", "password": "nope-nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "unauthorized"
    assert "用户名或密码错误" in wrong.json()["message"]
    missing = client.post("/api/v1/auth/token", json={"username": "housing"})
    assert missing.status_code == 422 and missing.json()["field"] == "password"


API_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")   # README: "Times in each interface"


def test_every_time_the_api_gives_is_utc_to_the_second_with_z(client: TestClient, staff: dict[str, Staff]) -> None:
    """A ticket filed now (its times hold microseconds) reads like a demo's: one format."""
    issued = client.post("/api/v1/auth/token", json={"username": "housing", "password": PASSWORD}).json()
    filed = client.post("/api/v1/tickets", json={"body": "人民路路灯坏了一个星期，晚上很黑。", "phone": "13812345678"}).json()
    number = filed["number"]
    staff["op"].act(number, "transfer", unit="housing", note="请核实")
    detail = staff["housing"].get(f"/tickets/{number}").json()
    (notice,) = staff["housing"].get("/notices").json()["notices"]
    listed = staff["housing"].get("/tickets").json()["tickets"][0]
    public = client.get(f"/api/v1/tickets/{number}", params={"code": filed["query_code"]}).json()
    times = [issued["expires_at"], filed["received_at"], filed["deadline"], detail["received_at"],
             detail["deadline"], notice["created_at"], listed["received_at"], public["received_at"],
             *(e["at"] for e in detail["events"]), *(e["at"] for e in public["timeline"])]
    assert all(API_TIME.match(t) for t in times), times
    assert detail["deadline"].endswith("T15:59:59Z")   # 23:59:59 China time


def test_failed_token_logins_are_rate_limited(client: TestClient, services: Services) -> None:
    from dispatch import limits

    rules = services.settings.limits
    for _ in range(rules.login_failures_per_user_address.limit - 1):  # earlier failures, counted as the page does
        services.run_sync(lambda s: limits.count_login_attempt(s, rules, "op", "testclient"))
    assert client.post("/api/v1/auth/token", json={"username": "op", "password": "guess-1234"}).status_code == 401
    blocked = client.post("/api/v1/auth/token", json={"username": "op", "password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert "秒后再试" in blocked.json()["message"]


def test_no_token_a_bad_token_and_a_revoked_one_are_401(client: TestClient, services: Services) -> None:
    bare = client.get("/api/v1/staff/tickets")
    assert bare.status_code == 401 and bare.headers["www-authenticate"].startswith("Bearer")
    assert bare.json()["error"] == "unauthorized" and "令牌" in bare.json()["message"]
    assert client.get("/api/v1/staff/tickets", headers={"Authorization": "Bearer made-up"}).status_code == 401
    token = client.post("/api/v1/auth/token", json={"username": "op", "password": PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/staff/tickets", headers=headers).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=headers).json() == {"revoked": True}
    revoked = client.get("/api/v1/staff/tickets", headers=headers)
    assert revoked.status_code == 401 and "www-authenticate" in revoked.headers
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 401


def test_an_expired_token_and_a_deactivated_user_are_401(client: TestClient, services: Services) -> None:
    def expired(session: Session) -> str:
        user = session.scalars(select(StaffUser).where(StaffUser.username == "op")).one()
        return api_tokens.create(session, user, "old", lifetime=dt.timedelta(hours=1),
                                 now=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2))[1]

    old = services.run_sync(expired)
    assert client.get("/api/v1/staff/tickets", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    token = token_for(services, "housing", hours=None)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/staff/tickets", headers=headers).status_code == 200

    def deactivate(session: Session) -> None:
        session.scalars(select(StaffUser).where(StaffUser.username == "housing")).one().active = False

    services.run_sync(deactivate)
    assert client.get("/api/v1/staff/tickets", headers=headers).status_code == 401


def test_the_session_cookie_does_not_open_the_staff_api(client: TestClient) -> None:
    from tests.web.pages_support import csrf

    response = client.post("/login", data={"csrf_token": csrf(client), "username": "op", "password": PASSWORD},
                           follow_redirects=False)
    assert response.status_code == 303 and client.cookies.get("hotline_session")
    assert client.get("/api/v1/staff/tickets").status_code == 401
    assert client.post(f"/api/v1/staff/tickets/{file(client)}/answer", json={"reply": "好"}).status_code == 401


def test_the_whole_loop_over_the_api(client: TestClient, staff: dict[str, Staff]) -> None:
    number = file(client)
    other = file(client, "文化路井盖缺失，很危险。", phone="13900001111")
    op, housing = staff["op"], staff["housing"]
    assert op.act(number, "transfer", unit="housing", note="请核实")["state"] == "transferred"
    seen = housing.get(f"/tickets/{number}").json()
    assert seen["allowed_actions"] == ["accept", "return"] and seen["unit_code"] == "housing"
    assert housing.act(number, "accept", expected_version=seen["version"])["state"] == "in_progress"
    assert housing.act(number, "resolve", reply="已更换路灯，经现场核实问题已解决")["state"] == "resolved"
    assert op.act(number, "follow_up", rating="unsatisfied", note="灯又坏了")["state"] == "reopened"
    assert housing.act(number, "accept")["state"] == "in_progress"
    assert housing.act(number, "resolve", reply="已更换整条线路，经现场核实问题已解决")["state"] == "resolved"
    closed = op.act(number, "follow_up", rating="satisfied")
    assert closed["state"] == "closed" and closed["state_label"] == "已关闭"
    op.act(other, "transfer", unit="housing")
    housing.act(other, "accept")
    housing.act(other, "resolve", reply="已补装井盖，经现场核实问题已解决")   # resolved, not yet followed up

    detail = op.get(f"/tickets/{number}").json()
    assert [e["action"] for e in detail["events"]] == ["receive", "transfer", "accept", "resolve", "reopen",
                                                      "accept", "resolve", "close"]
    assert detail["rating"] == "satisfied" and detail["rating_channel"] == "phone"
    stats = client.get("/api/v1/stats").json()["tickets"]
    assert stats["received"] == 2 and stats["resolved"] == 2
    assert stats["satisfaction_rate"] == 1.0          # one rated, satisfied in the end
    assert stats["follow_up_rate"] == 0.5             # one of the two resolved was followed up


def test_lists_are_scoped_to_what_the_user_may_see(client: TestClient, staff: dict[str, Staff]) -> None:
    ours, theirs, waiting = file(client), file(client, "学校门口交通拥堵"), file(client, "噪音扰民")
    staff["op"].act(ours, "transfer", unit="housing")
    staff["op"].act(theirs, "transfer", unit="education")
    everything = staff["op"].get("/tickets").json()
    assert everything["total"] == 3 and everything["pages"] == 1 and everything["page"] == 1
    mine = staff["housing"].get("/tickets").json()
    assert [t["number"] for t in mine["tickets"]] == [ours] and mine["tickets"][0]["unit_code"] == "housing"
    assert staff["op"].get("/tickets", state="received").json()["total"] == 1
    assert [t["number"] for t in staff["op"].get("/tickets", unit="education").json()["tickets"]] == [theirs]
    assert [t["number"] for t in staff["op"].get("/tickets", q="噪音").json()["tickets"]] == [waiting]
    assert staff["school"].get("/tickets", q="路灯").json()["total"] == 0
    for params, field in (({"state": "lost"}, "state"), ({"unit": "nowhere"}, "unit"), ({"page": "0"}, "page")):
        bad = staff["op"].get("/tickets", **params)
        assert bad.status_code == 422 and bad.json()["field"] == field


def test_a_unit_asking_for_another_units_ticket_gets_404_like_an_unknown_one(
        client: TestClient, staff: dict[str, Staff]) -> None:
    number = file(client)
    staff["op"].act(number, "transfer", unit="housing")
    theirs = staff["school"].get(f"/tickets/{number}")
    unknown = staff["school"].get("/tickets/20000101-0001")
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["message"] == unknown.json()["message"]
    assert staff["school"].act(number, "accept", expect=404)["error"] == "not_found"
    assert staff["school"].get(f"/tickets/{number}/similar").status_code == 404


def test_refusals_are_403_409_and_422(client: TestClient, staff: dict[str, Staff]) -> None:
    number = file(client)
    op, housing = staff["op"], staff["housing"]
    stale = op.get(f"/tickets/{number}").json()["version"]
    for unit in (123, ["housing"]):   # a unit code is text: said so, not "choose a unit"
        wrong = op.act(number, "transfer", 422, unit=unit)
        assert wrong["field"] == "unit" and "应为文字" in wrong["message"], wrong
    assert "请选择承办单位" in op.act(number, "transfer", 422, unit=" ")["message"]
    op.act(number, "transfer", unit="housing")
    assert housing.act(number, "transfer", 403, unit="education")["error"] == "permission_denied"
    assert op.act(number, "answer", 409, reply="好")["error"] == "illegal_transition"
    moved = housing.act(number, "accept", 409, expected_version=stale)
    assert moved["error"] == "conflict" and "修改" in moved["message"]
    assert housing.act(number, "return", 422)["field"] == "reason"
    assert housing.act(number, "accept", 422, expected_version="x")["field"] == "expected_version"
    housing.act(number, "accept")
    short = housing.act(number, "resolve", 422, reply="  好  ")   # HOTLINE_REPLY_MIN_CHARS, 2 by default
    assert short["field"] == "reply" and short["reason"] == "reply_too_short", short
    assert "至少需要 2 个字" in short["message"] and "只有 1 个字" in short["message"]
    assert housing.act(number, "request_extension", 422, days=99, reason="太忙")["field"] == "days"
    assert op.act(number, "follow_up", 409, rating="satisfied")["state"] == "in_progress"
    assert op.act(number, "teleport", 404)["error"] == "not_found"
    bad_json = client.post(f"/api/v1/staff/tickets/{number}/resolve", content=b"{not json",
                           headers=housing.headers)
    assert bad_json.status_code == 422


def test_a_negative_number_of_days_is_out_of_range_not_a_non_integer(client: TestClient, staff: dict[str, Staff]) -> None:
    number = file(client)
    staff["op"].act(number, "transfer", unit="housing")
    housing = staff["housing"]
    housing.act(number, "accept")
    # -3 is an integer, as JSON or as text: out of the allowed range, said with the range.
    for days in (-3, "-3", "-2147483649"):
        refused = housing.act(number, "request_extension", 422, days=days, reason="需协调")
        assert (refused["field"], refused["reason"]) == ("days", "out_of_range"), refused
        assert "应在 1 到 15 之间" in refused["message"]
    for days in ("2.5", "三", "-", "--3"):   # still not integers
        assert housing.act(number, "request_extension", 422, days=days, reason="需协调")["reason"] == "not_integer"
    housing.act(number, "request_extension", days="+3", reason="需协调")


def test_resolve_takes_its_documented_reply_and_the_pages_text_field_where_it_is_absent(
        client: TestClient, staff: dict[str, Staff]) -> None:
    """The ticket page's one text box is "text"; the API documents "reply" for resolve, and
    takes "text" for it only when "reply" is absent: the named field wins."""
    number = file(client)
    staff["op"].act(number, "transfer", unit="housing")
    housing = staff["housing"]
    housing.act(number, "accept")
    done = housing.act(number, "resolve", reply="路灯已修复，经现场复查亮灯正常。", text="另一段")
    assert done["state"] == "resolved" and done["part"] is None
    events = housing.get(f"/tickets/{number}").json()["events"]
    assert events[-1]["note"] == "路灯已修复，经现场复查亮灯正常。"
    other = file(client)
    staff["op"].act(other, "transfer", unit="housing")
    housing.act(other, "accept")
    assert housing.act(other, "resolve", text="路灯已修复，经现场复查亮灯正常。")["state"] == "resolved"


def test_one_extension_request_asks_for_at_most_fifteen_working_days(client: TestClient,
                                                                      staff: dict[str, Staff]) -> None:
    number = file(client)
    staff["op"].act(number, "transfer", unit="housing")
    housing = staff["housing"]
    housing.act(number, "accept")
    refused = housing.act(number, "request_extension", 422, days=16, reason="需协调多个部门")
    assert (refused["field"], refused["reason"]) == ("days", "out_of_range")
    assert "应在 1 到 15 之间" in refused["message"]
    assert housing.get(f"/tickets/{number}").json()["pending_extension"] is None
    housing.act(number, "request_extension", days=15, reason="需协调多个部门")
    assert housing.get(f"/tickets/{number}").json()["pending_extension"]["days"] == 15


def test_the_extension_ceiling_is_a_setting(database_url: str, sessions: sessionmaker[Session]) -> None:
    settings = Settings.from_env({"HOTLINE_DATABASE_URL": database_url, "HOTLINE_EXTENSION_MAX_WORKING_DAYS": "20"})
    assert settings.extension_max_working_days == 20
    assert Settings.from_env({"HOTLINE_DATABASE_URL": database_url}).extension_max_working_days == 15
    with pytest.raises(ValueError, match="HOTLINE_EXTENSION_MAX_WORKING_DAYS"):
        Settings.from_env({"HOTLINE_EXTENSION_MAX_WORKING_DAYS": "0"})
    services = Services.build(Settings(database_url=database_url, extension_max_working_days=20))
    try:
        assert services.action_context().deadlines.extension_max_working_days == 20
    finally:
        services.close()


def test_merge_tells_both_citizens(client: TestClient, services: Services, staff: dict[str, Staff]) -> None:
    main = file(client, "人民路路灯坏了一个星期，晚上很黑。", phone="13812345678")
    duplicate = file(client, "人民路的路灯坏了好几天了，晚上很黑。", phone="13900002222")
    op, housing = staff["op"], staff["housing"]
    similar = op.get(f"/tickets/{duplicate}/similar").json()["similar"]
    assert similar and similar[0]["number"] == main and 0 < similar[0]["score"] <= 1
    assert op.act(duplicate, "merge", into=main)["state"] == "merged"
    detail = op.get(f"/tickets/{main}").json()
    assert detail["raised_by"] == 2 and detail["duplicates"] == [duplicate]
    assert op.get(f"/tickets/{duplicate}").json()["merged_into"] == main
    op.act(main, "transfer", unit="housing")
    housing.act(main, "accept")
    housing.act(main, "resolve", reply="已更换路灯，经现场核实问题已解决")
    assert texts(services, duplicate) == ["received", "merged", "main_resolved"]
    assert texts(services, main) == ["received", "transferred", "resolved"]

    def body(session: Session) -> str:
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == duplicate))
        return session.scalars(select(OutboxMessage.body).where(OutboxMessage.ticket_id == ticket_id,
                                                                OutboxMessage.kind == "main_resolved")).one()

    assert "1满意" in services.run_sync(body)


def test_a_dispute_upheld_goes_back_to_dispatch_and_on_to_another_unit(
        client: TestClient, staff: dict[str, Staff]) -> None:
    number = file(client)
    op, boss, housing = staff["op"], staff["boss"], staff["housing"]
    op.act(number, "transfer", unit="housing")
    housing.act(number, "accept")
    housing.act(number, "dispute", reason="路灯归城管局管理")
    detail = boss.get(f"/tickets/{number}").json()
    assert detail["open_dispute"]["reason"] == "路灯归城管局管理" and "decide_dispute" in detail["allowed_actions"]
    assert housing.act(number, "decide_dispute", 403, approve=True, reason="我同意我自己")["error"] == \
        "permission_denied"
    assert boss.act(number, "decide_dispute", approve=True, reason="同意改派")["state"] == "returned"
    assert op.act(number, "transfer", unit="urban-management")["unit_code"] == "urban-management"
    assert staff["urban"].act(number, "accept")["state"] == "in_progress"
    # The unit that asked hears the decision in its notices.
    told = [n for n in housing.get("/notices").json()["notices"] if n["kind"] == "dispute"]
    assert len(told) == 1 and "改派申请已同意" in told[0]["text"] and "同意改派" in told[0]["text"]


def test_a_dispute_refused_stays_with_the_unit(client: TestClient, staff: dict[str, Staff]) -> None:
    number = file(client)
    op, boss, housing = staff["op"], staff["boss"], staff["housing"]
    op.act(number, "transfer", unit="housing")
    housing.act(number, "accept")
    housing.act(number, "dispute", reason="不归我们")
    assert boss.act(number, "decide_dispute", approve=False, reason="小区路灯属住建职责")["state"] == "in_progress"
    detail = housing.get(f"/tickets/{number}").json()
    assert detail["open_dispute"] is None and detail["unit_code"] == "housing"
    assert detail["events"][-1]["action"] == "refuse_dispute"
    assert detail["events"][-1]["note"] == "小区路灯属住建职责"
    told = [n for n in housing.get("/notices").json()["notices"] if n["kind"] == "dispute"]
    assert len(told) == 1 and "改派申请未同意，请继续办理" in told[0]["text"]


def test_extension_handover_invalid_and_flag_over_the_api(client: TestClient, staff: dict[str, Staff]) -> None:
    number, prank, fire = file(client), file(client, "哈哈哈测试", phone="13700001234"), file(client, "楼下着火了")
    op, boss, housing = staff["op"], staff["boss"], staff["housing"]
    op.act(number, "transfer", unit="housing")
    housing.act(number, "accept")
    housing.act(number, "request_extension", days=3, reason="需要协调供电公司")
    assert housing.get(f"/tickets/{number}").json()["pending_extension"]["days"] == 3
    boss.act(number, "decide_extension", approve=True, reason="同意")
    assert housing.get(f"/tickets/{number}").json()["pending_extension"] is None
    assert op.act(prank, "invalidate", reason="恶意骚扰", flag_number=True)["state"] == "invalid"
    flag = op.get(f"/tickets/{prank}").json()["phone_flag"]
    assert (flag["reason"], flag["flagged_by"], flag["flagged_by_name"]) == ("恶意骚扰", "op", "op 某某")
    assert op.act(fire, "handover", to="119", note="已转消防")["state"] == "handed_over"
    assert op.act(fire, "handover", 409, to="119")["error"] == "illegal_transition"


def test_confidential_tickets_hide_the_citizen_from_the_unit(client: TestClient, staff: dict[str, Staff]) -> None:
    response = client.post("/api/v1/tickets", json={"body": "我叫李四，举报邻居违建。", "name": "李四",
                                                    "phone": "13812340000", "confidential": True, "type": "report"})
    number = response.json()["number"]
    staff["op"].act(number, "transfer", unit="housing")
    seen = staff["housing"].get(f"/tickets/{number}").json()
    assert seen["phone"] == "（保密）" and "李四" not in seen["body"] and seen["phone_flag"] is None
    assert "李四" in staff["op"].get(f"/tickets/{number}").json()["body"]


def test_units_are_public(client: TestClient) -> None:
    units = client.get("/api/v1/units").json()
    housing = next(u for u in units if u["code"] == "housing")
    assert housing["name"].endswith("住房和城乡建设局") and housing["kind"] == "department"
    assert any(u["parent"] for u in units)


def test_the_least_reply_length_is_a_setting_the_actions_get(services: Services) -> None:
    assert Settings.from_env({}).reply_min_chars == 2
    assert Settings.from_env({"HOTLINE_REPLY_MIN_CHARS": "20"}).reply_min_chars == 20
    with pytest.raises(ValueError, match="HOTLINE_REPLY_MIN_CHARS"):
        Settings.from_env({"HOTLINE_REPLY_MIN_CHARS": "ten"})
    assert services.action_context().reply_min_chars == services.settings.reply_min_chars == 2


def _many_tickets(services: Services, count: int, *, received: dt.datetime, prefix: str = "20200101") -> None:
    """`count` tickets received a minute apart, each with its one event at receipt."""
    def add(session: Session) -> None:
        rows = [{"number": f"{prefix}-{i:04d}", "query_code": "123456", "channel": "web", "request_type": "complaint",
                 "urgency": "normal", "title": f"工单{i}", "body": "路灯坏了", "state": "received",
                 "received_at": received + dt.timedelta(minutes=i), "transfer_count": 0,
                 "accepted_transfer_count": 0, "return_count": 0, "confidential": False, "version": 1,
                 "follow_up_attempts": 0} for i in range(1, count + 1)]
        session.execute(insert(Ticket), rows)
        ids = dict(session.execute(select(Ticket.number, Ticket.id).where(Ticket.number.like(f"{prefix}-%"))).all())
        session.execute(insert(TicketEvent), [
            {"ticket_id": ids[row["number"]], "at": row["received_at"], "actor": "system", "action": "receive",
             "to_state": "received"} for row in rows])

    services.run_sync(add)


def _every_page(staff: Staff, path: str, key: str, **params: object) -> tuple[list[str], list[dict]]:
    """What a client gets following next_page from the first page to the end."""
    seen, answers, page = [], [], 1
    while page is not None:
        answer = staff.get(path, page=page, **params).json()
        answers.append(answer)
        seen += [row["number"] if key == "tickets" else row["id"] for row in answer[key]]
        assert len(answers) < 100, "next_page never ends"
        page = answer["next_page"]
    return seen, answers


def test_a_client_pages_through_every_ticket_past_the_count_by_next_page(client: TestClient, services: Services,
                                                                        staff: dict[str, Staff]) -> None:
    _many_tickets(services, 1060, received=utcnow() - dt.timedelta(days=30))
    seen, answers = _every_page(staff["op"], "/tickets", "tickets")
    assert len(seen) == len(set(seen)) == 1060
    assert len(answers) == 22 and [a["page"] for a in answers] == list(range(1, 23))
    assert all(a["total"] == 1000 and a["more"] and a["pages"] == 20 for a in answers)
    assert answers[20]["next_page"] == 22 and len(answers[21]["tickets"]) == 10 and answers[21]["next_page"] is None
    past = staff["op"].get("/tickets", page=23).json()
    assert past["tickets"] == [] and past["next_page"] is None
    # A search by words pages on past the count the same way.
    by_words, answers = _every_page(staff["op"], "/tickets", "tickets", q="路灯")
    assert sorted(by_words) == sorted(seen) and len(answers) == 22 and answers[-1]["next_page"] is None


def test_a_list_that_fills_its_last_page_has_no_next_page(client: TestClient, services: Services,
                                                          staff: dict[str, Staff]) -> None:
    _many_tickets(services, 100, received=utcnow() - dt.timedelta(days=30))
    first, last = (staff["op"].get("/tickets", page=page).json() for page in (1, 2))
    notices = staff["housing"].get("/notices").json()
    schemas = SPEC["components"]["schemas"]
    # The description names every field a list answers, as the answer has them.
    assert set(first) == set(schemas["TicketPage"]["properties"]) == set(schemas["TicketPage"]["required"])
    assert set(notices) == set(schemas["NoticePage"]["properties"]) == set(schemas["NoticePage"]["required"])
    assert "updated_since" in [p["name"] for p in SPEC["paths"]["/api/v1/staff/tickets"]["get"]["parameters"]]
    assert (first["next_page"], first["pages"], first["total"], first["more"]) == (2, 2, 100, False)
    assert len(last["tickets"]) == 50 and last["next_page"] is None


def test_notices_are_counted_to_1000_and_paged_past_it_by_next_page(client: TestClient, services: Services,
                                                                    staff: dict[str, Staff]) -> None:
    def add(session: Session) -> None:
        unit = session.scalar(select(Unit.id).where(Unit.code == "housing"))
        session.execute(insert(Notice), [{"unit_id": unit, "kind": "digest", "key": f"digest-{i}", "text": f"第{i}条",
                                          "created_at": utcnow()} for i in range(1, 1031)])

    services.run_sync(add)
    for params in ({}, {"unread": "1"}):
        seen, answers = _every_page(staff["housing"], "/notices", "notices", **params)
        assert len(seen) == len(set(seen)) == 1030 and len(answers) == 21
        assert all(a["total"] == 1000 and a["more"] and a["pages"] == 20 for a in answers)
        assert answers[-1]["next_page"] is None and len(answers[-1]["notices"]) == 30


def test_updated_since_lists_the_tickets_changed_since_for_a_sync(client: TestClient, services: Services,
                                                                   staff: dict[str, Staff]) -> None:
    _many_tickets(services, 3, received=utcnow() - dt.timedelta(days=30))
    fresh = file(client)
    since = (utcnow() - dt.timedelta(hours=1)).astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat()
    changed = staff["op"].get("/tickets", updated_since=since).json()
    assert [t["number"] for t in changed["tickets"]] == [fresh] and changed["next_page"] is None
    # One old ticket changed now: it is listed too, still newest received first.
    staff["op"].act("20200101-0002", "transfer", unit="housing")
    assert [t["number"] for t in staff["op"].get("/tickets", updated_since=since).json()["tickets"]] == \
        [fresh, "20200101-0002"]
    # The moment itself counts: an event at it is "at or after".
    at = staff["op"].get("/tickets/20200101-0003").json()["events"][0]["at"]
    assert "20200101-0003" in [t["number"] for t in staff["op"].get("/tickets", updated_since=at).json()["tickets"]]
    for bad, reason in (("yesterday", "ISO 8601"), ("2026-12-07T08:00:00 08:00", "%2B")):
        refused = staff["op"].get("/tickets", updated_since=bad)
        assert refused.status_code == 422 and refused.json()["field"] == "updated_since" and reason in refused.text
    words = staff["op"].get("/tickets", updated_since=since, q="路灯")
    assert words.status_code == 422 and "（q）" in words.text


def _every_cursor(staff: Staff, path: str, key: str, between=lambda n: None,  # type: ignore[no-untyped-def]
                  cursor: str | None = None, **params: object):
    """What a client gets following next_cursor from the first page (or `cursor`) to the end;
    `between(n)` runs after the n-th page (rows added while a client pages)."""
    seen, answers = [], []
    while True:
        answer = staff.get(path, **params, **({"cursor": cursor} if cursor else {})).json()
        answers.append(answer)
        seen += [row["number"] if key == "tickets" else row["id"] for row in answer[key]]
        assert len(answers) < 100, "next_cursor never ends"
        cursor = answer["next_cursor"]
        if cursor is None:
            return seen, answers
        between(len(answers))


def test_a_client_pages_by_cursor_and_tickets_filed_meanwhile_skip_or_repeat_none(
        client: TestClient, services: Services, staff: dict[str, Staff]) -> None:
    # Two tickets at each moment: the order's tie on received_at is settled by id.
    received = utcnow() - dt.timedelta(days=30)
    _many_tickets(services, 70, received=received, prefix="20200101")
    _many_tickets(services, 70, received=received, prefix="20200102")
    old = {f"{prefix}-{i:04d}" for prefix in ("20200101", "20200102") for i in range(1, 71)}
    filed: list[str] = []

    def file_more(n: int) -> None:   # a ticket filed between two pages
        filed.append(file(client, body=f"第{n}次：人民路路灯坏了一个星期，晚上很黑。", phone=f"1381234{n:04d}"))

    by_page, _ = _every_page(staff["op"], "/tickets", "tickets")
    seen, answers = _every_cursor(staff["op"], "/tickets", "tickets", between=file_more)
    assert len(seen) == len(set(seen)) and old <= set(seen) and len(answers) == 3 and len(filed) == 2
    assert not set(filed) & set(seen[50:])   # filed after the first page: newer than its cursor
    assert seen[:50] == by_page[:50] and [t for t in seen if t in old] == [t for t in by_page if t in old]
    assert all(a["next_page"] is None and a["page"] is None and a["total"] is None for a in answers[1:])
    assert answers[0]["page"] == 1 and answers[0]["total"] == 140 and answers[0]["next_cursor"]
    # With filters and words the same: a unit's list and a search by words.
    words, _ = _every_cursor(staff["op"], "/tickets", "tickets", q="路灯", state="received")
    assert old <= set(words) and len(words) == len(set(words))
    # A page asked by number gives its cursor too: a client may switch.
    second = staff["op"].get("/tickets", page=2).json()
    rest, _ = _every_cursor(staff["op"], "/tickets", "tickets", cursor=second["next_cursor"])
    assert rest and len(rest) == len(set(rest)) and not set(rest) & {t["number"] for t in second["tickets"]}
    for bad in ("nonsense", "bjoxMjM", "dDoxMjM"):   # not base64, a notices cursor, a cursor cut short
        refused = staff["op"].get("/tickets", cursor=bad)
        assert refused.status_code == 422 and refused.json()["field"] == "cursor" and "next_cursor" in refused.text


def test_notices_page_by_cursor_with_notices_added_meanwhile(client: TestClient, services: Services,
                                                             staff: dict[str, Staff]) -> None:
    def add(count: int, start: int) -> None:
        def work(session: Session) -> None:
            unit = session.scalar(select(Unit.id).where(Unit.code == "housing"))
            session.execute(insert(Notice), [{"unit_id": unit, "kind": "digest", "key": f"digest-{i}",
                                              "text": f"第{i}条", "created_at": utcnow()}
                                             for i in range(start, start + count)])
        services.run_sync(work)

    add(120, 1)
    first = {row["id"] for row in staff["housing"].get("/notices", page=1).json()["notices"]}
    seen, answers = _every_cursor(staff["housing"], "/notices", "notices", between=lambda n: add(5, 1000 + 10 * n))
    assert len(seen) == len(set(seen)) == 120 and len(answers) == 3 and set(seen[:50]) == first
    assert seen == sorted(seen, reverse=True) and answers[-1]["next_page"] is None
    assert staff["housing"].get("/notices", cursor=answers[0]["next_cursor"], unread="1").json()["notices"]
    refused = staff["housing"].get("/notices", cursor="dDoxOjE")   # a tickets cursor
    assert refused.status_code == 422 and refused.json()["field"] == "cursor"


def test_an_operator_corrects_a_ticket_over_the_api_until_it_goes_to_a_unit(
        client: TestClient, staff: dict[str, Staff]) -> None:
    number = file(client)
    op, housing = staff["op"], staff["housing"]
    assert "correct" in op.get(f"/tickets/{number}").json()["allowed_actions"]
    assert housing.act(number, "correct", 403, type="complaint")["error"] == "permission_denied"
    assert op.act(number, "correct", 422, type="grumble")["field"] == "type"
    nothing = op.act(number, "correct", 422, type="complaint", body="人民路路灯坏了一个星期，晚上很黑。")
    assert nothing["field"] == "changes" and "没有修改任何受理信息" in nothing["message"]
    assert op.act(number, "correct", type="咨询", location="人民路与文化路口")["state"] == "received"
    corrected = op.get(f"/tickets/{number}").json()
    assert (corrected["type"], corrected["location"], corrected["state"]) == (
        "consultation", "人民路与文化路口", "received")
    (event,) = [e for e in corrected["events"] if e["action"] == "correct"]
    assert {c["field"]: (c["old"], c["new"]) for c in event["changes"]} == {
        "type": ("complaint", "consultation"), "location": (None, "人民路与文化路口")}
    op.act(number, "transfer", unit="housing")
    assert "correct" not in op.get(f"/tickets/{number}").json()["allowed_actions"]
    assert op.act(number, "correct", 409, type="praise")["error"] == "illegal_transition"
    # Returned by the unit: back at dispatch, and the request may be corrected again.
    housing.act(number, "return", reason="不属于本单位")
    op.act(number, "correct", type="help")
    assert op.get(f"/tickets/{number}").json()["type"] == "help"


def test_a_unit_reads_the_corrections_of_a_confidential_ticket_without_the_citizen(
        client: TestClient, staff: dict[str, Staff]) -> None:
    response = client.post("/api/v1/tickets", json={"body": "我叫李四，举报邻居违建。", "name": "李四",
                                                    "phone": "13812340000", "confidential": True, "type": "report"})
    number = response.json()["number"]
    op, housing = staff["op"], staff["housing"]
    op.act(number, "correct", phone="13812349999", location="文化路8号院",
           body="我叫李四，举报邻居在楼顶违建。")
    op.act(number, "transfer", unit="housing")
    seen = housing.client.get(f"/api/v1/staff/tickets/{number}", headers=housing.headers)
    (event,) = [e for e in seen.json()["events"] if e["action"] == "correct"]
    changes = {c["field"]: (c["old"], c["new"]) for c in event["changes"]}
    assert changes["phone"] == ("（保密）", "（保密）") and changes["location"] == (None, "（保密）")
    assert "李四" not in changes["body"][1] and "楼顶违建" in changes["body"][1]
    assert "1381234" not in seen.text and "文化路8号院" not in seen.text and "李四" not in seen.text
    (own,) = [e for e in op.get(f"/tickets/{number}").json()["events"] if e["action"] == "correct"]
    assert {c["field"]: c["new"] for c in own["changes"]}["phone"] == "+8613812349999"


def test_a_repeat_in_other_words_is_proposed_in_the_detail_and_merged_only_when_asked(
        client: TestClient, staff: dict) -> None:  # type: ignore[type-arg]
    first = file(client, "沁园街道锦绣苑小区5号楼楼下的烧烤店每天晚上油烟很大，熏得窗户都不敢开，请环保部门来查一查。")
    again = file(client, "锦绣苑小区5号楼下面那家烧烤店晚上又冒油烟了，家里窗户根本开不了，上次反映过还没人来查。")
    other = file(client, "锦绣苑小区5号楼下面那家烧烤店晚上又冒油烟了，家里窗户根本开不了。", phone="13912345678")
    detail = staff["op"].get(f"/tickets/{again}").json()
    assert [p["number"] for p in detail["repeat_of"]] == [first] and detail["state"] == "received"
    assert staff["op"].get(f"/tickets/{other}").json()["repeat_of"] == []   # another number
    assert staff["op"].get(f"/tickets/{first}").json()["repeat_of"] == []   # nothing before it
    staff["op"].act(again, "merge", into=first)
    assert staff["op"].get(f"/tickets/{again}").json()["repeat_of"] == []
    assert staff["op"].get(f"/tickets/{first}").json()["duplicates"] == [again]
