"""A supervisor's notices on the pages: the unit answered their 督办, a request waits; the
unread count in every page's header, the list at /supervisor/notices, marked read there;
only a supervisor's own and their role's."""
from __future__ import annotations

import re

from sqlalchemy import select
from starlette.testclient import TestClient

from dispatch.models import Notice, StaffUser
from tests.web.pages_support import act, login, ticket_titled, token_in
from web.services import Services

NOISE = "工地夜间施工噪音扰民"   # in progress with ecology-environment
PAGE = {"accept": "text/html,application/xhtml+xml"}   # as a browser asks for a page


def nav_unread(page: str) -> str | None:
    """The header's unread count, or None when it is hidden."""
    found = re.search(r'<span class="tag danger count" id="nav-unread"( hidden)?>([^<]*)</span>', page)
    assert found, "no 通知 link in the header"
    return None if found.group(1) else found.group(2)


def test_the_supervisor_sees_the_unread_count_and_the_units_answer_to_their_escalation(
        client: TestClient, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "supervisor")
    assert nav_unread(client.get("/supervisor", headers=PAGE).text) is None
    assert act(client, noise.number, "escalate", text="请今天内反馈整改方案").status_code == 303
    assert nav_unread(client.get("/supervisor", headers=PAGE).text) is None   # nothing answered yet

    login(client, "ecology")
    assert act(client, noise.number, "progress", text="已约谈施工方，22点后停止夜间施工。").status_code == 303
    assert client.get("/supervisor/notices").status_code == 403          # a unit reads its own only
    assert "督办已反馈" not in client.get("/unit").text                   # and not the supervisor's

    login(client, "supervisor")
    dashboard = client.get("/supervisor", headers=PAGE).text
    assert nav_unread(dashboard) == "1"
    assert "22点后停止夜间施工" in dashboard       # the 督办已反馈 list stays as it was
    page = client.get("/supervisor/notices", headers=PAGE).text
    assert "1 条未读" in page and nav_unread(page) == "1"
    line = re.search(r'<li class="unread notice-escalation_answered">.*?</li>', page, re.S)
    assert line and noise.number in line.group(0) and "22点后停止夜间施工" in line.group(0)
    assert "督办已反馈" in line.group(0)
    with services.sessions() as session:
        (notice_id,) = session.scalars(select(Notice.id).where(Notice.kind == "escalation_answered"))

    refused = client.post("/supervisor/notices/read", data={"notice": str(notice_id)}, follow_redirects=False)
    assert refused.status_code == 403                                     # no CSRF token
    panel = client.post("/supervisor/notices/read", data={"csrf_token": token_in(page), "notice": str(notice_id)},
                        headers={"X-Notices-Panel": "1"})
    assert panel.status_code == 200 and 'class="notices"' in panel.text and "条未读" not in panel.text
    again = client.get("/supervisor/notices", headers=PAGE).text
    assert nav_unread(again) is None and '<li class="read notice-escalation_answered">' in again


def test_a_request_waiting_is_told_to_every_supervisor_and_the_decision_settles_it(
        client: TestClient, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "ecology")
    assert act(client, noise.number, "request_extension", days="2", text="需协调夜间执法").status_code == 303
    for who in ("supervisor", "admin"):
        login(client, who)
        page = client.get("/supervisor/notices", headers=PAGE).text
        assert nav_unread(page) == "1" and "延期申请待审批" in page and "需协调夜间执法" in page
    assert act(client, noise.number, "decide_extension", approve="1", text="同意").status_code == 303
    login(client, "supervisor")
    assert nav_unread(client.get("/supervisor/notices", headers=PAGE).text) is None


def test_a_waiting_requests_notice_and_the_ticket_link_to_where_it_is_decided(
        client: TestClient, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "ecology")
    assert act(client, noise.number, "request_extension", days="2", text="需协调夜间执法").status_code == 303
    login(client, "supervisor")
    page = client.get("/supervisor/notices", headers=PAGE).text
    line = re.search(r'<li class="unread notice-extension_request">.*?</li>', page, re.S)
    assert line and f'href="/tickets/{noise.number}"' in line.group(0)          # the ticket, still
    assert 'href="/supervisor#table-extensions"' in line.group(0)                # and where it is decided
    assert 'id="table-extensions"' in client.get("/supervisor", headers=PAGE).text
    ticket = client.get(f"/tickets/{noise.number}").text
    assert re.search(r'id="decide-extension-link" href="/supervisor#table-extensions"', ticket)
    login(client, "ecology")                                                     # the unit cannot decide
    assert "decide-extension-link" not in client.get(f"/tickets/{noise.number}").text


def test_the_notices_page_listens_for_news(client: TestClient) -> None:
    login(client, "supervisor")
    page = client.get("/supervisor/notices").text
    assert 'data-live="/supervisor/notices/events"' in page and "/static/staff_notices.js" in page
    assert 'class="notices"' in client.get("/supervisor/notices/panel").text
    login(client, "operator")
    assert client.get("/supervisor/notices").status_code == 403


def test_the_apis_notices_are_still_the_units_alone(client: TestClient) -> None:
    """GET /api/v1/staff/notices lists units' notices: its schema names none of the supervisors' kinds."""
    kinds = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["Notice"]["properties"]["kind"]["enum"]
    assert "escalation" in kinds and "escalation_answered" not in kinds and "extension_request" not in kinds


def test_a_supervisor_reads_their_own_notices_through_the_api_with_mine(client: TestClient, services: Services) -> None:
    from tests.web.test_api_staff import token_for

    noise = ticket_titled(services, NOISE)
    login(client, "supervisor")
    assert act(client, noise.number, "escalate", text="请今天内反馈整改方案").status_code == 303
    login(client, "ecology")
    assert act(client, noise.number, "progress", text="已约谈施工方，22点后停止夜间施工。").status_code == 303
    assert act(client, noise.number, "request_extension", days="2", text="需协调夜间执法").status_code == 303
    client.cookies.clear()

    def api(who: str, **params: str):  # type: ignore[no-untyped-def]
        return client.get("/api/v1/staff/notices", params=params,
                          headers={"Authorization": f"Bearer {token_for(services, who)}"})

    mine = api("supervisor", mine="1").json()
    assert [n["kind"] for n in mine["notices"]] == ["extension_request", "escalation_answered"]   # newest first
    assert all(n["ticket"] == noise.number and n["unit"] is None and n["read_at"] is None for n in mine["notices"])
    assert {k: mine[k] for k in ("page", "pages", "total", "more", "next_page", "next_cursor")} == \
        {"page": 1, "pages": 1, "total": 2, "more": False, "next_page": None, "next_cursor": None}
    # The admin reads the role's (the request), not the supervisor's own 督办已反馈.
    assert [n["kind"] for n in api("admin", mine="1").json()["notices"]] == ["extension_request"]
    # Without mine, the list is the units' as before: none of the supervisors' kinds.
    assert not {n["kind"] for n in api("supervisor").json()["notices"]} & {"extension_request", "escalation_answered"}
    assert api("ecology", mine="1").status_code == 403 and api("operator", mine="1").status_code == 403

    with services.sessions.begin() as session:   # more than a page: the cursor goes on from the last
        for i in range(60):
            session.add(Notice(staff_id=None, role="supervisor", kind="override_request", key=f"test:{i}",
                               text=f"先行办结申请 {i}", created_at=noise.received_at))
    first = api("supervisor", mine="1").json()
    assert len(first["notices"]) == 50 and first["total"] == 62 and first["next_page"] == 2 and first["next_cursor"]
    after = api("supervisor", mine="1", cursor=first["next_cursor"]).json()
    assert len(after["notices"]) == 12 and after["page"] is None and after["next_cursor"] is None
    assert after["notices"][-1]["kind"] == "escalation_answered"
    assert [n["kind"] for n in api("supervisor", mine="1", unread="1", page="2").json()["notices"]][-2:] == \
        ["extension_request", "escalation_answered"]


def test_a_done_requests_notice_is_tagged_as_handled_with_the_same_words_on_the_page_and_in_the_api(
        client: TestClient, services: Services) -> None:
    from tests.web.test_api_staff import token_for
    from web.pages.labels import NOTICE_SETTLED_HOW_ZH, NOTICE_SETTLED_ZH

    noise = ticket_titled(services, NOISE)
    login(client, "ecology")
    assert act(client, noise.number, "request_extension", days="2", text="需协调夜间执法").status_code == 303
    login(client, "supervisor")
    waiting = client.get("/supervisor/notices", headers=PAGE).text
    assert NOTICE_SETTLED_ZH not in waiting and "去审批" in waiting
    assert act(client, noise.number, "decide_extension", approve="1", text="同意").status_code == 303
    login(client, "ecology")
    assert act(client, noise.number, "dispute", text="噪音执法归城管").status_code == 303
    assert act(client, noise.number, "resolve", text="已约谈施工方，22点后停止夜间施工，已回访居民确认。").status_code == 303
    client.cookies.clear()

    with services.sessions() as session:
        decider = session.scalar(select(StaffUser.display_name).where(StaffUser.username == "supervisor"))
    mine = client.get("/api/v1/staff/notices", params={"mine": "1"},
                      headers={"Authorization": f"Bearer {token_for(services, 'admin')}"}).json()["notices"]
    settled = {n["kind"]: n["settled"] for n in mine}
    assert settled == {
        "dispute_request": {"how": "lapsed", "by": None, "label": NOTICE_SETTLED_ZH,
                            "detail": NOTICE_SETTLED_HOW_ZH["lapsed"]},
        "extension_request": {"how": "decided", "by": decider, "label": NOTICE_SETTLED_ZH,
                              "detail": f"{decider}已决定"}}
    login(client, "admin")
    page = client.get("/supervisor/notices", headers=PAGE).text
    for kind, done in settled.items():
        line = re.search(rf'<li class="read notice-{kind}">.*?</li>', page, re.S)
        assert line and done["label"] in line.group(0) and done["detail"] in line.group(0)
        assert "去审批" not in line.group(0)   # nothing left to decide


def test_every_page_of_a_supervisor_keeps_the_headers_count_live_from_the_notices_stream(
        client: TestClient, services: Services) -> None:
    noise = ticket_titled(services, NOISE)
    login(client, "supervisor")
    for path in ("/supervisor", f"/tickets/{noise.number}", "/search"):
        page = client.get(path, headers=PAGE).text
        assert 'data-live="/supervisor/notices/events" data-count="/supervisor/notices/unread"' in page, path
        assert '<script src="/static/nav_notices.js" defer></script>' in page, path
    assert client.get("/supervisor/notices/unread").json() == {"unread": ""}
    login(client, "ecology")
    assert act(client, noise.number, "request_extension", days="2", text="需协调夜间执法").status_code == 303
    assert "nav_notices.js" not in client.get(f"/tickets/{noise.number}", headers=PAGE).text   # no count for units
    assert client.get("/supervisor/notices/unread").status_code == 403
    login(client, "admin")
    counted = client.get("/supervisor/notices/unread")
    assert counted.json() == {"unread": "1"} and counted.headers["cache-control"] == "no-store"
