"""The citizens' pages over HTTP: the form, the status lookup, the public board, its cache
and its live updates."""
from __future__ import annotations

import dataclasses
import json
import re
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from dispatch.limits import FORM_WINDOW, Limits
from dispatch.models import Ticket
from dispatch.rate_counters import Limit
from tests.web.pages_support import client_for, csrf, login
from tests.web.server import ServerThread
from web.app import create_app
from web.auth import CSRF_COOKIE
from web.config import Settings, parse_networks
from web.services import Services

COMPLAINT = {"type": "complaint", "title": "小区垃圾无人清运", "body": "我叫张三丰，电话13812345678，小区门口垃圾三天没人清运。",
             "phone": "13812345678", "name": "张三丰", "location": "沁园街道"}


def submit(client: TestClient, **fields: str) -> httpx.Response:
    data = {"csrf_token": csrf(client, "/"), "form_id": fields.pop("form_id", str(time.monotonic_ns())),
            **COMPLAINT, **fields}
    return client.post("/", data=data)


def ids_of(response: httpx.Response) -> tuple[str, str]:
    number = re.search(r'id="ticket-number">([^<]+)<', response.text)
    code = re.search(r'id="query-code">([^<]+)<', response.text)
    assert number and code, response.text
    return number.group(1), code.group(1)


def test_the_home_page_form_carries_a_csrf_token_in_a_httponly_cookie(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and 'name="csrf_token"' in page.text and "诉求内容" in page.text
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(CSRF_COOKIE) and "HttpOnly" in cookie and "SameSite=lax" in cookie


@pytest.mark.parametrize("units, example", [
    ([{"code": "gov", "name": "清溪市人民政府", "kind": "other"},
      {"code": "qx", "name": "清溪镇", "kind": "township", "parent": "gov"}], "如：清溪镇 某某路与某某街交叉口"),
    ([{"code": "gov", "name": "清溪市人民政府", "kind": "other"}], "如：某某街道 某某路与某某街交叉口"),
])
def test_the_form_gives_an_example_place_of_the_configured_city(database_url: str, sessions: sessionmaker[Session],
                                                                tmp_path: Path, units: list[dict], example: str) -> None:  # type: ignore[type-arg]
    city = tmp_path / "qingxi.json"
    city.write_text(json.dumps({"city": {"code": "qx", "name": "清溪"}, "units": units}, ensure_ascii=False),
                    encoding="utf-8")
    services = Services.build(Settings(database_url=database_url, city_file=city, train_on_start=False))
    try:
        for client in client_for(services):
            page = client.get("/").text
            assert f'name="location" maxlength="300" value="" placeholder="{example}"' in page
            assert "沁园" not in page and "济水" not in page
    finally:
        services.close()


def test_the_form_tells_the_citizen_what_is_published_and_what_confidential_keeps_off(client: TestClient) -> None:
    page = client.get("/").text
    notice = page[page.index('name="body"'):page.index('name="phone"')]  # beside the description
    for words in ("诉求内容、事发地点和办理进度会在本网站的公开页面和开放数据接口上公开",
                  "电话号码和身份证号会隐去", "请不要写他人的姓名"):
        assert words in notice
    box = page[page.index('name="confidential"'):page.index('type="submit"')]
    assert "承办单位看不到我的姓名、电话、填写的地点和上传的照片" in box and "诉求内容和地点不在公开页面上公开" in box
    # What the form says is what happens: the words go out as written, phone numbers hidden;
    # a confidential ticket is not there at all.
    told = submit(client, body="邻居王建國家装修噪音太大，我的电话13812345670。", location="沁园街道某小区", form_id="open")
    kept = submit(client, body="邻居李某某家装修噪音太大。", confidential="on", form_id="kept")
    public = client.get(f"/open311/v2/requests/{ids_of(told)[0]}.json").json()[0]
    assert "邻居王建國" in public["description"] and "13812345670" not in public["description"]
    assert public["address"] == "沁园街道某小区"
    assert client.get(f"/open311/v2/requests/{ids_of(kept)[0]}.json").status_code == 404


def test_a_citizen_files_a_complaint_and_looks_it_up_masked(client: TestClient) -> None:
    created = submit(client)
    assert created.status_code == 201 and "您的诉求已受理" in created.text
    number, code = ids_of(created)
    view = client.get("/status", params={"number": number, "code": code})
    assert view.status_code == 200
    assert "138****5678" in view.text and "张**" in view.text
    assert "13812345678" not in view.text and "张三丰" not in view.text
    assert "已受理" in view.text and "受理" in view.text


def test_the_status_page_tells_the_steps_in_the_citizens_words(client: TestClient,
                                                                 sessions: sessionmaker[Session]) -> None:
    from sqlalchemy import select

    from dispatch import lifecycle
    from dispatch.actors import Actor
    from dispatch.models import Unit
    from dispatch.public import ticket_by_number
    from dispatch.vocabulary import Role

    number, code = ids_of(submit(client))
    assert submit(client, form_id="again").status_code == 200  # the same again: 您再次反映了此事
    with sessions.begin() as session:
        unit = session.scalars(select(Unit).order_by(Unit.id)).first()
        lifecycle.transfer(session, ticket_by_number(session, number), unit,
                           Actor(label="operator", role=Role.OPERATOR))
    page = client.get("/status", params={"number": number, "code": code}).text
    state = page[page.index('id="status-state"'):page.index("</p>", page.index('id="status-state"'))]
    assert "已交承办单位办理" in state
    steps = page[page.index('class="timeline"'):]
    for words in ("受理", "您再次反映了此事", "交承办单位办理"):
        assert words in steps, words
    for internal in ("转办", "重复诉求", "退单", "重新派单"):
        assert internal not in page, internal


def test_an_addition_texted_before_it_had_its_own_name_reads_as_one_everywhere(
        client: TestClient, services: Services) -> None:
    """Additions by text used to be stored as repeat_contact with data.addition; the audit log
    is append-only, so those rows stay as written and are read as 市民补充 wherever shown."""
    from dispatch import lifecycle
    from dispatch.inbox import SMS_ACTOR
    from dispatch.models import TicketEvent
    from dispatch.public import ticket_by_number
    from tests.web.pages_support import login

    number, code = ids_of(submit(client))
    with services.sessions.begin() as session:
        ticket = ticket_by_number(session, number)
        # What inbox.attach wrote before additions were their own action.
        lifecycle.record(session, ticket, "repeat_contact", SMS_ACTOR, note="补充：晚上十点后还在倒垃圾，电话13912345678",
                         data={"channel": "sms", "channel_ref": "SMold", "addition": True})
    page = client.get("/status", params={"number": number, "code": code}).text
    steps = page[page.index('class="timeline"'):]
    assert "市民补充" in steps and "晚上十点后还在倒垃圾" in steps and "139****5678" in steps
    assert "您再次反映了此事" not in steps and "13912345678" not in steps
    api = client.get(f"/api/v1/tickets/{number}", params={"code": code}).json()
    assert [e["action"] for e in api["timeline"]][-1] == "addition"
    login(client, "operator")
    staff = client.get(f"/tickets/{number}").text
    log = staff[staff.index('id="audit-log"'):]
    assert "市民补充" in log and "重复诉求" not in log
    # The row itself is as it was written.
    with services.sessions() as session:
        stored = session.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id)
                                 .order_by(TicketEvent.id.desc())).first()
    assert stored == "repeat_contact"


def test_the_status_form_keeps_the_query_code_out_of_every_address(client: TestClient) -> None:
    created = submit(client)
    number, code = ids_of(created)
    # The answer page's 查看进度 is a posted form, not a link with the code in it.
    assert f"code={code}" not in created.text and 'id="see-status"' in created.text
    posted = client.post("/status", data={"csrf_token": csrf(client, "/status"), "number": number, "code": code},
                         follow_redirects=False)
    assert posted.status_code == 303 and posted.headers["location"] == "/status"
    cookie = posted.headers["set-cookie"]
    assert "Path=/status" in cookie and "HttpOnly" in cookie and "Max-Age" not in cookie and "expires" not in cookie
    view = client.get("/status")
    assert view.status_code == 200 and 'id="status-view"' in view.text and "138****5678" in view.text
    # A forged cookie is no lookup; a wrong code is answered as before and the cookie is dropped.
    client.cookies.set("hotline_lookup", posted.cookies["hotline_lookup"][:-2] + "xx", path="/status")
    assert 'id="status-view"' not in client.get("/status").text
    client.cookies.clear()
    wrong = "000000" if code != "000000" else "111111"
    client.post("/status", data={"csrf_token": csrf(client, "/status"), "number": number, "code": wrong},
                follow_redirects=False)
    missed = client.get("/status")
    assert missed.status_code == 404 and "未找到该工单" in missed.text
    assert 'hotline_lookup=""' in missed.headers["set-cookie"]


def test_a_status_form_from_an_old_page_comes_back_filled_in(client: TestClient) -> None:
    number, code = ids_of(submit(client))
    old = client.post("/status", data={"csrf_token": "from-a-closed-browser", "number": number, "code": code},
                      follow_redirects=False)
    assert old.status_code == 403 and "页面已过期" in old.text and f'value="{number}"' in old.text


def test_a_wrong_code_reads_exactly_like_an_unknown_number(client: TestClient) -> None:
    number, code = ids_of(submit(client))
    wrong = client.get("/status", params={"number": number, "code": "000000" if code != "000000" else "111111"})
    unknown = client.get("/status", params={"number": "20000101-9999", "code": code})
    assert wrong.status_code == unknown.status_code == 404
    message = lambda r: re.search(r'role="alert">([^<]+)<', r.text).group(1)  # noqa: E731
    assert message(wrong) == message(unknown)


def test_failed_lookups_are_rate_limited_in_the_database(client: TestClient, services: Services) -> None:
    number, code = ids_of(submit(client))
    wrong = "000000" if code != "000000" else "111111"
    statuses = [client.get("/status", params={"number": number, "code": wrong}).status_code for _ in range(30)]
    assert statuses[:10] == [404] * 10 and statuses[10:] == [429] * 20
    refused = client.get("/status", params={"number": number, "code": code})
    assert refused.status_code == 429 and "查询失败次数过多" in refused.text and refused.headers["retry-after"]
    # Counted in the database: another app on the same database (another process) refuses too.
    other = Services.build(services.settings)
    try:
        with TestClient(create_app(other.settings, other)) as elsewhere:
            assert elsewhere.get("/status", params={"number": number, "code": code}).status_code == 429
    finally:
        other.close()


def test_a_strangers_wrong_codes_do_not_lock_the_citizen_out(services: Services) -> None:
    """One address guessing at a ticket uses up only its own share of that ticket (20 an hour;
    the address's own limit raised here so that the share is what stops it). The stranger and
    the citizen reach the site through the same proxy."""
    services.settings = dataclasses.replace(services.settings, trusted_proxies=parse_networks("127.0.0.1"),
                                            limits=Limits.build(lookup_failures_per_address=100))
    with services.sessions() as session:
        number, code = session.execute(select(Ticket.number, Ticket.query_code).limit(1)).one()
    wrong = "000000" if code != "000000" else "111111"
    stranger, citizen = {"x-forwarded-for": "198.51.100.7"}, {"x-forwarded-for": "203.0.113.5"}
    with TestClient(create_app(services.settings, services), client=("127.0.0.1", 50000)) as proxy:
        statuses = [proxy.get("/status", headers=stranger, params={"number": number, "code": wrong}).status_code
                    for _ in range(25)]
        assert statuses == [404] * 20 + [429] * 5
        refused = proxy.get("/status", headers=stranger, params={"number": number, "code": code})
        assert refused.status_code == 429 and "查询失败次数过多" in refused.text
        assert proxy.get("/status", headers=citizen, params={"number": number, "code": code}).status_code == 200
    # Counted in the database: another process refuses the stranger too, and lets the citizen in.
    other = Services.build(services.settings)
    try:
        with TestClient(create_app(other.settings, other), client=("127.0.0.1", 50000)) as proxy:
            assert proxy.get("/status", headers=stranger, params={"number": number, "code": code}).status_code == 429
            assert proxy.get(f"/api/v1/tickets/{number}", headers=citizen, params={"code": code}).status_code == 200
    finally:
        other.close()


def test_a_repeat_on_the_form_is_joined_without_showing_the_number_or_code(client: TestClient,
                                                                           services: Services) -> None:
    number, code = ids_of(submit(client))
    again = submit(client, body="我叫张三丰，电话13812345678，小区门口垃圾三天没人清运！")
    assert again.status_code == 200 and 'id="repeat-notice"' in again.text
    assert number not in again.text and code not in again.text and "短信" in again.text


def test_a_repeat_sent_again_is_still_only_told_it_was_joined(client: TestClient) -> None:
    """Whoever knows a citizen's phone and words gets a joined repeat; sending that same form
    again (a reload) must not answer with the first sender's number and query code."""
    number, code = ids_of(submit(client))
    for _ in range(2):
        again = submit(client, form_id="repeat-form", body="我叫张三丰，电话13812345678，小区门口垃圾三天没人清运！")
        assert again.status_code == 200 and 'id="repeat-notice"' in again.text
        assert number not in again.text and code not in again.text


def test_a_form_sent_again_gets_its_answer_past_the_address_limit(services: Services) -> None:
    rules = dataclasses.replace(services.settings.limits,
                                web_form_per_address=Limit("web_form_address", 1, FORM_WINDOW))
    settings = dataclasses.replace(services.settings, limits=rules)
    limited = Services.build(settings)
    try:
        with TestClient(create_app(settings, limited), follow_redirects=False) as client:
            first = submit(client, form_id="reloaded", body="第一件事：路灯不亮")
            assert first.status_code == 201
            assert submit(client, body="第二件事：井盖缺失").status_code == 429
            again = submit(client, form_id="reloaded", body="第一件事：路灯不亮")
            assert again.status_code == 200 and ids_of(again) == ids_of(first)
    finally:
        limited.close()


def test_repeats_of_an_open_request_count_toward_the_address_limit(services: Services) -> None:
    """Each repeat adds to the ticket's log and may text the phone on file, so a script
    repeating one request is held to the address's share like new ones."""
    rules = dataclasses.replace(services.settings.limits,
                                web_form_per_address=Limit("web_form_address", 3, FORM_WINDOW))
    settings = dataclasses.replace(services.settings, limits=rules)
    limited = Services.build(settings)
    try:
        with TestClient(create_app(settings, limited), follow_redirects=False) as client:
            assert submit(client).status_code == 201
            assert [submit(client).status_code for _ in range(3)] == [200, 200, 429]
    finally:
        limited.close()


def test_sending_the_same_form_twice_files_one_ticket(client: TestClient) -> None:
    first = submit(client, form_id="same-form")
    again = submit(client, form_id="same-form")
    assert first.status_code == 201 and again.status_code == 200
    assert ids_of(first) == ids_of(again)


def test_bad_input_is_explained_on_the_form_and_what_was_typed_stays(client: TestClient) -> None:
    response = submit(client, body="   ", title="我的标题")
    assert response.status_code == 422 and "诉求内容" in response.text and 'value="我的标题"' in response.text
    response = submit(client, phone="12345")
    assert response.status_code == 422 and "联系电话" in response.text


# How citizens write their number, and what is stored: the same for every channel.
PHONES_AS_TYPED = [("１３８０３９１０１０３", "+8613803910103"), ("86 13803910110", "+8613803910110"),
                   ("+86 138 0391 0110", "+8613803910110"), ("0086-138-0391-0110", "+8613803910110"),
                   ("＋８６ １３８ ０３９１ ０１１０", "+8613803910110"), ("138-0391-0112", "+8613803910112"),
                   ("0391-6612346", "+863916612346"), ("(0391)6612346", "+863916612346"),
                   ("（０３９１）６６１２３４６", "+863916612346")]
PHONE_HELP = "请填写11位手机号或带区号的固定电话，例如 13812345678 或 0391-6612345"


def test_the_form_takes_a_phone_as_citizens_write_it_and_stores_one_form(client: TestClient,
                                                                          sessions: sessionmaker[Session]) -> None:
    from dispatch.public import ticket_by_number
    for n, (typed, stored) in enumerate(PHONES_AS_TYPED):
        answer = submit(client, phone=typed, body=f"第{n}件：路灯不亮。", name="", form_id=f"phone-{n}")
        assert answer.status_code == 201, (typed, answer.text)
        with sessions() as session:
            assert ticket_by_number(session, ids_of(answer)[0]).phone == stored, typed
    refused = submit(client, phone="13803910114（微信同号）", form_id="remark")
    assert refused.status_code == 422 and PHONE_HELP in refused.text
    assert 'value="13803910114（微信同号）"' in refused.text  # kept to correct


def test_the_public_form_limit_holds_across_processes(services: Services) -> None:
    """Two apps with their own engines (as two processes would be) share one count per
    address, kept in the database: the third complaint is refused whichever serves it."""
    rules = dataclasses.replace(services.settings.limits,
                                web_form_per_address=Limit("web_form_address", 2, FORM_WINDOW))
    settings = dataclasses.replace(services.settings, limits=rules)
    first, second = Services.build(settings), Services.build(settings)
    try:
        with TestClient(create_app(settings, first), follow_redirects=False) as one, \
                TestClient(create_app(settings, second), follow_redirects=False) as other:
            assert submit(one, body="第一件事：路灯不亮").status_code == 201
            assert submit(other, body="第二件事：井盖缺失").status_code == 201
            for client in (one, other):
                limited = submit(client, body="第三件事：噪音扰民", title="噪音")
                assert limited.status_code == 429 and "过于频繁" in limited.text
                assert int(limited.headers["Retry-After"]) > 0
                assert "第三件事：噪音扰民" in limited.text  # what was typed stays in the form
    finally:
        first.close()
        second.close()


def _count(html: str, element_id: str) -> int:
    found = re.search(rf'id="{element_id}">(\d+)<', html)
    assert found, element_id
    return int(found.group(1))


def test_the_board_counts_and_rates_follow_a_new_complaint(client: TestClient) -> None:
    before = client.get("/board", params={"days": "7"}).text
    submit(client)
    after = client.get("/board", params={"days": "7"}).text
    for bucket, change in (("received", 1), ("pending", 1), ("in_progress", 0), ("resolved", 0)):
        assert _count(after, f"period-{bucket}") == _count(before, f"period-{bucket}") + change
        assert _count(after, f"today-{bucket}") == _count(before, f"today-{bucket}") + change
    assert "<svg" in after and "各承办单位办理情况" in after and "样本少" in after


def test_the_board_leaves_confidential_cases_and_personal_data_out(client: TestClient) -> None:
    board = client.get("/board").text
    assert "社保卡补办" in board  # the demo's answered consultation
    for phone in ("13803910001", "13803910004"):
        assert phone not in board


def test_the_board_says_in_plain_words_that_the_hotline_answered_a_case_itself(client: TestClient) -> None:
    board = client.get("/board").text
    case = board[board.index("社保卡补办"):].split("</li>")[0]  # the demo's answered consultation
    assert "由热线直接答复" in case and "直接办结" not in board


def test_the_board_names_its_unit_figures_in_plain_words_and_says_what_each_counts(client: TestClient) -> None:
    """转办 and 退单率 are the hotline's own names (DESIGN.md); a citizen reads plain words, each
    with what it counts, and the staff pages keep the hotline's names."""
    board = client.get("/board", params={"days": "30"}).text
    head = board[board.index('id="unit-table"'):].split("</thead>")[0]
    headers = re.findall(r'<th class="num" title="([^"]+)">([^<]+)</th>', head)
    assert [name for _, name in headers] == ["收到工单", "接收比例", "退回比例"], head
    assert all(meaning for meaning, _ in headers)
    legend = board[board.index('id="unit-table-legend"'):].split("</p>")[0]
    for meaning, name in headers:
        assert f"<b>{name}</b>：{meaning}" in legend
    rates = board[board.index('class="rates"'):].split("</ul>")[0]
    assert 'title="本时段受理的工单中，交给承办单位办理（至少一次）的比例">交承办单位比例 <b id="rate-transfer">' in rates
    for internal in ("转办", "退单", "签收"):
        assert internal not in board[board.index('id="board-panel"'):], internal
    login(client, "supervisor")
    staff = client.get("/supervisor").text
    assert "退单率" in staff and "成功转办率" in staff


def test_the_board_masks_every_number_in_a_reply_and_the_status_page_keeps_the_call_back_numbers(
        client: TestClient) -> None:
    """A unit's reply is read by anyone on /board, by the citizen alone on /status (the code)."""
    from tests.web.pages_support import act, login

    number, code = ids_of(submit(client, title="小区门口路灯不亮", form_id="lights"))
    login(client, "operator")
    assert act(client, number, "transfer", unit_code="qinyuan").status_code == 303
    login(client, "qinyuan")
    assert act(client, number, "accept").status_code == 303
    reply = "张三丰您好，已致电13812345678。如仍不亮请拨打供电抢修0391-6633110或联系李工13912345670、+86 21 1234567。"
    assert act(client, number, "resolve", text=reply).status_code == 303
    client.cookies.clear()

    case = ""
    for _ in range(50):   # the board is rebuilt once the change is seen
        board = client.get("/board").text
        if "小区门口路灯不亮" in board:
            case = board[board.index("小区门口路灯不亮"):].split("</li>")[0]
            break
        time.sleep(0.1)
    assert "case-reply" in case, board
    for masked in ("0391-****3110", "139****5670", "021-****4567", "138****5678", "张**"):
        assert masked in case, (masked, case)
    for whole in ("6633110", "13912345670", "1234567", "13812345678", "张三丰"):
        assert whole not in case, (whole, case)

    page = client.get("/status", params={"number": number, "code": code}).text
    shown = page[page.index('id="status-reply"'):].split("</p>")[0]
    for whole in ("0391-6633110", "13912345670", "+86 21 1234567"):
        assert whole in shown, (whole, shown)
    # The citizen's own name and number stay masked there too.
    assert "138****5678" in shown and "13812345678" not in shown and "张三丰" not in shown


def test_the_board_is_sent_gzipped_to_a_client_that_accepts_it(client: TestClient) -> None:
    plain = client.get("/board", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.headers["vary"] == "Accept-Encoding"
    for accepted in ("gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.5", "*"):
        packed = client.get("/board", headers={"Accept-Encoding": accepted})
        assert packed.headers["content-encoding"] == "gzip", accepted
        assert packed.text == plain.text   # httpx unpacks it
        assert int(packed.headers["content-length"]) < len(plain.content) / 3, accepted
    for refused in ("gzip;q=0", "br", "identity, *;q=0"):
        assert "content-encoding" not in client.get("/board", headers={"Accept-Encoding": refused}).headers, refused
    panel = client.get("/board/panel", headers={"Accept-Encoding": "gzip"})
    assert panel.headers["content-encoding"] == "gzip" and "各承办单位办理情况" in panel.text


def test_the_board_refuses_a_nonsense_period(client: TestClient) -> None:
    assert client.get("/board", params={"days": "0"}).status_code == 422
    assert client.get("/board", params={"since": "2026-02-01", "until": "2026-01-01"}).status_code == 422
    assert client.get("/board", params={"since": "2020-01-01", "until": "2026-01-01"}).status_code == 422


def test_the_board_is_computed_once_per_change_not_per_request(client: TestClient, services: Services) -> None:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if "ticket_rollup" in statement:
            statements.append(statement)

    client.get("/board")
    event.listen(services.engine, "before_cursor_execute", count)
    try:
        for _ in range(20):
            assert client.get("/board").status_code == 200
            assert client.get("/board/panel").status_code == 200
        assert statements == []
        submit(client)
        client.get("/board")
        assert statements, "a change must refresh the board's figures"
    finally:
        event.remove(services.engine, "before_cursor_execute", count)


def test_the_board_pushes_an_update_when_a_ticket_changes_anywhere(services: Services) -> None:
    """A complaint through the JSON API (which does not tell the board) still reaches an open
    board by server-sent events: the watcher sees the new event in the database."""
    with ServerThread(create_app(services.settings, services)) as server:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            with http.stream("GET", "/board/events") as stream:
                lines = stream.iter_lines()
                assert next(line for line in lines if line.startswith("event:")) == "event: hello"
                created = http.post("/api/v1/tickets", json={"body": "济水大街路灯不亮", "phone": "13912340000"})
                assert created.status_code == 201
                started = time.monotonic()
                assert next(line for line in lines if line.startswith("event:")) == "event: board"
                assert time.monotonic() - started < 5
