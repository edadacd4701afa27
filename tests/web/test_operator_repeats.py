"""A repeat call in other words at the operator console, through a real server: while the
request is typed, the caller's open ticket it may repeat is proposed (可能与 … 重复); 受理 still
files a new ticket, and 受理并并入 files it and merges it into that ticket in one step."""
from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import select

from dispatch.demo import DEMO_PASSWORD
from dispatch.models import Ticket
from dispatch.states import State
from tests.web.pages_support import token_in
from tests.web.server import ServerThread
from web.app import create_app
from web.pages.labels import TICKET_DONE_ZH
from web.services import Services

CALLER = "13803910123"
SMOKE = "沁园街道锦绣苑小区5号楼楼下的烧烤店每天晚上油烟很大，熏得窗户都不敢开，请环保部门来查一查。"
SMOKE_AGAIN = "锦绣苑小区5号楼下面那家烧烤店晚上又冒油烟了，家里窗户根本开不了，上次反映过还没人来查。"
RESIDENCE_PERMIT = "请问办理居住证需要带哪些材料？在哪里办理？"


def _login(http: httpx.Client) -> str:
    token = token_in(http.get("/login").text)
    response = http.post("/login", data={"csrf_token": token, "username": "operator", "password": DEMO_PASSWORD})
    assert response.status_code == 303, response.text
    return token_in(http.get("/operator").text)


def _draft(http: httpx.Client, token: str, body: str, phone: str = CALLER) -> list[dict[str, Any]]:
    response = http.post("/operator/draft", data={"csrf_token": token, "body": body, "phone": phone})
    assert response.status_code == 200, response.text
    return response.json()["repeat_of"]  # type: ignore[no-any-return]


def _file(http: httpx.Client, token: str, form_id: str, body: str, **fields: str) -> httpx.Response:
    return http.post("/operator/tickets", data={
        "csrf_token": token, "form_id": form_id, "type": "complaint", "urgency": "normal", "phone": CALLER,
        "body": body, **fields})


def _number(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"].split("/")[2].split("?")[0]


def _state(services: Services, number: str) -> tuple[str, int | None]:
    with services.sessions() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        return ticket.state, ticket.merged_into_id


def _newest(services: Services) -> Ticket:
    with services.sessions() as session:
        ticket = session.scalars(select(Ticket).order_by(Ticket.id.desc()).limit(1)).one()
        session.expunge(ticket)
        return ticket


def test_the_console_proposes_the_callers_open_ticket_and_merges_only_on_the_operators_click(
        services: Services) -> None:
    with ServerThread(create_app(services.settings, services)) as server, \
            httpx.Client(base_url=server.url, timeout=60) as http:
        token = _login(http)
        first = _number(_file(http, token, "repeat-1", SMOKE))
        assert 'name="merge_into"' in http.get("/operator").text   # where the console puts the click

        # The same caller, a week later, in other words (and the number spelled otherwise).
        proposed = _draft(http, token, SMOKE_AGAIN, phone="138 0391 0123")
        assert [p["number"] for p in proposed] == [first]
        assert proposed[0]["words"] == f"可能与 {first} 重复"
        assert proposed[0]["merge"] == f"受理并并入 {first}"
        # Another matter of the same caller, and the same words from another number: nothing.
        assert _draft(http, token, RESIDENCE_PERMIT) == []
        assert _draft(http, token, SMOKE_AGAIN, phone="13903910456") == []

        # 受理 alone files a new ticket: a proposal never merges by itself.
        plain = _number(_file(http, token, "repeat-2", SMOKE_AGAIN))
        assert plain != first and _state(services, plain) == (State.RECEIVED.value, None)
        # Its page proposes the caller's open ticket again, with the page's own 合并 form.
        page = http.get(f"/tickets/{plain}").text
        assert f'可能与 <a href="/tickets/{first}">{first}</a> 重复' in page
        assert f'data-into="{first}">并入此工单' in page
        assert "可能与" not in http.get(f"/tickets/{first}").text

        # 受理并并入: filed, then merged into the caller's open ticket, whose page says so.
        response = _file(http, token, "repeat-3", SMOKE_AGAIN + "麻烦快点。", merge_into=first)
        assert _number(response) == first and "done=filed_merged" in response.headers["location"]
        merged = _newest(services)
        main_state, _ = _state(services, first)
        assert merged.state == State.MERGED.value and merged.merged_into_id is not None
        assert main_state == State.RECEIVED.value
        page = http.get(response.headers["location"]).text
        assert TICKET_DONE_ZH["filed_merged"] in page and merged.number in page
        # The same caller again is one citizen: 多人反映 counts people, the tickets beside them.
        assert re.search(r'id="reported-by"><b>1</b> 人反映（共 2 件）：', page), page[page.index('id="reported-by"'):][:200]

        # Into a ticket that is not this caller's open one: refused, the words kept, nothing filed.
        refused = _file(http, token, "repeat-4", RESIDENCE_PERMIT, merge_into=first, phone="13903910456")
        assert refused.status_code == 422, refused.text
        assert f"工单「{first}」不是该来电号码的在办工单" in refused.text and RESIDENCE_PERMIT in refused.text
        assert _newest(services).number == merged.number
