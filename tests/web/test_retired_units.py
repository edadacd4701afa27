"""A unit retired by the administrator, as the pages show it afterwards: its open work handed to a
successor (承接单位) first, its name still beside its old tickets, the catalogue entries that
named it marked, and its staff's accounts still editable."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import httpx
from sqlalchemy import select
from starlette.testclient import TestClient

from dispatch import catalogue, lifecycle
from dispatch.actors import Actor
from dispatch.models import StaffUser, Ticket, Unit
from dispatch.units import unit_by_code
from dispatch.unit_succession import open_work
from dispatch.vocabulary import Role
from tests.dispatch.helpers import new_ticket
from tests.web.pages_support import csrf, login
from tests.web.server import ServerThread
from web.app import create_app
from web.services import Services

OPERATOR = Actor("operator-wang", role=Role.OPERATOR)


def post(client: TestClient, path: str, page: str, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf(client, page), **fields})


def unit(services: Services, code: str) -> Unit:
    return services.run_sync(lambda s: unit_by_code(s, code))


def transferred_to(services: Services, code: str, body: str) -> str:
    """A new ticket, transferred to the unit: its number."""
    def make(session) -> str:  # type: ignore[no-untyped-def]
        ticket = new_ticket(session, body=body)
        lifecycle.transfer(session, ticket, unit_by_code(session, code), OPERATOR)
        return ticket.number
    return services.run_sync(make)


def retire(client: TestClient, services: Services, code: str, **fields: str):  # type: ignore[no-untyped-def]
    shown = unit(services, code)
    parent = services.run_sync(lambda s: s.get(Unit, shown.parent_id).code if shown.parent_id else "")
    page = f"/admin/units/{shown.id}"
    return post(client, page, page, name=shown.name, kind=shown.kind, parent=parent, **fields)


def test_retiring_a_unit_with_open_tickets_asks_for_a_successor_and_hands_them_over(
        client: TestClient, services: Services) -> None:
    number = transferred_to(services, "ecology-environment", "河道里有人倾倒垃圾，水发臭。")
    ecology = unit(services, "ecology-environment")
    work = services.run_sync(lambda s: open_work(s, ecology.id))
    assert work.tickets >= 1 and work.entries >= 1
    login(client, "admin")
    page = client.get(f"/admin/units/{ecology.id}").text
    warned = re.search(r'id="open-work">(.*?)</p>', page, re.S)
    assert warned and f"<strong>{work.tickets}</strong> 件未办完的工单" in warned.group(1)
    assert f"<strong>{work.entries}</strong> 条默认由本单位承办" in warned.group(1) and 'name="successor"' in page
    refused = retire(client, services, "ecology-environment")
    assert refused.status_code == 422 and f"还有 {work.tickets} 件未办完的工单" in refused.text
    assert "请选择承接单位" in refused.text
    assert unit(services, "ecology-environment").active

    handed = retire(client, services, "ecology-environment", successor="housing", reason="机构改革，职责并入住建局")
    assert handed.status_code == 303 and "done=handed_over" in handed.headers["location"]
    assert not unit(services, "ecology-environment").active
    ticket = services.run_sync(lambda s: s.scalar(select(Ticket).where(Ticket.number == number)))
    assert ticket.unit_id == unit(services, "housing").id
    assert services.run_sync(lambda s: open_work(s, ecology.id)) == type(work)(0, 0, 0)
    # The successor's staff can act on it, and the ticket's log says why it came.
    login(client, "housing")
    shown = client.get(f"/tickets/{number}").text
    assert "移交承接单位" in shown and "机构改革，职责并入住建局" in shown
    assert 'action="/tickets/' + number + '/accept"' in shown


def resolved_by(services: Services, code: str, body: str) -> str:
    """A new ticket the unit accepted and resolved (its transfer stays the unit's when the unit
    retires; the ticket goes to a successor, stays with a unit retired without one)."""
    def make(session) -> str:  # type: ignore[no-untyped-def]
        ticket = new_ticket(session, body=body)
        lifecycle.transfer(session, ticket, unit_by_code(session, code), OPERATOR)
        staff = Actor(f"staff-{code}", role=Role.UNIT_STAFF, unit_id=ticket.unit_id)
        lifecycle.accept(session, ticket, staff)
        lifecycle.resolve(session, ticket, staff, "已处理。")
        return ticket.number
    return services.run_sync(make)


def test_a_retired_units_name_stays_beside_its_tickets_in_search_and_its_file(client: TestClient,
                                                                              services: Services) -> None:
    # A unit with no open work may retire without a successor: its finished tickets keep its name.
    spare = services.run_sync(lambda s: next(
        (u.code, u.name) for u in s.scalars(select(Unit).where(Unit.active, Unit.code != "water").order_by(Unit.id))
        if not open_work(s, u.id).blocks_retiring))
    kept = resolved_by(services, spare[0], "燃气表漏气，已经修好了吗？")
    number = resolved_by(services, "gas", "燃气表又漏气了，已经修好了吗？")
    login(client, "admin")
    assert retire(client, services, spare[0]).status_code == 303
    assert retire(client, services, "gas", successor="water", reason="燃气公司并入水务公司").status_code == 303
    login(client, "supervisor")
    page = client.get("/search", params={"q": kept}).text
    row = re.search(rf'<tr><td><a href="/tickets/{kept}">.*?</tr>', page, re.S)
    assert row and spare[1] in row.group(0) and "已停用" in row.group(0)
    assert '<option value="gas">' not in page          # new searches offer active units
    exported = client.get("/search.csv", params={"q": kept}).text
    line = next(line for line in exported.splitlines() if line.startswith(kept))
    assert spare[1] in line
    # With a successor (机构改革), the successor answers for the retired unit's finished tickets.
    page = client.get("/search", params={"q": number}).text
    row = re.search(rf'<tr><td><a href="/tickets/{number}">.*?</tr>', page, re.S)
    assert row and unit(services, "water").name in row.group(0) and "已停用" not in row.group(0)
    from dispatch import staff
    from dispatch.demo import DEMO_PASSWORD
    services.run_sync(lambda s: staff.create_user(s, "water-li", DEMO_PASSWORD, Role.UNIT_STAFF, unit_code="water"))
    login(client, "water-li")
    shown = client.get(f"/tickets/{number}")
    assert shown.status_code == 200 and "燃气公司并入水务公司" in shown.text
    assert not any(u["code"] == "gas" for u in client.get("/api/v1/units").json())
    every = {u["code"]: u for u in client.get("/api/v1/units", params={"all": "1"}).json()}
    assert every["gas"]["active"] is False and every["gas"]["name"] == "济源市燃气公司" and every["water"]["active"]


def test_the_catalogue_marks_entries_of_a_retired_unit_and_asks_for_another(client: TestClient,
                                                                            services: Services) -> None:
    entry = services.run_sync(lambda s: next(e for e in catalogue.current_entries(s) if e.unit_code == "gas"))
    login(client, "admin")
    assert retire(client, services, "gas").status_code == 303     # no open work: no successor asked
    login(client, "supervisor")
    page = client.get("/supervisor/catalogue").text
    row = re.search(rf'<tr id="entry-{entry.code}">.*?</tr>', page, re.S)
    assert row and "济源市燃气公司" in row.group(0) and "已停用" in row.group(0)
    form = client.get("/supervisor/catalogue", params={"code": entry.code}).text
    assert 'id="unit-retired"' in form and "「济源市燃气公司」已停用" in form
    assert re.search(r'<option value="gas" selected>济源市燃气公司（已停用，须改选）</option>', form)
    saved = client.post(f"/supervisor/catalogue/{entry.code}", data={
        "csrf_token": csrf(client, "/supervisor/catalogue"), "unit": "gas", "terms": "、".join(entry.terms)})
    assert saved.status_code == 422 and "「济源市燃气公司」已停用，不再承办新工单" in saved.text
    listed = client.get("/api/v1/catalogue", params={"q": entry.level3}).json()["entries"]
    assert any(e["code"] == entry.code and e["unit_active"] is False for e in listed)
    services_listed = client.get("/open311/v2/services.json").json()
    described = next(s for s in services_listed if s["service_code"] == entry.code)["description"]
    assert "燃气公司" not in described and "12345热线派往有关单位" in described

    # Naming a successor now (the unit stays retired) moves the entry there.
    login(client, "admin")
    assert retire(client, services, "gas", successor="water", reason="燃气公司并入水务公司").status_code == 303
    moved = services.run_sync(lambda s: next(e for e in catalogue.current_entries(s) if e.code == entry.code))
    assert moved.unit_code == "water" and moved.unit_active


def test_an_account_of_a_retired_unit_shows_its_unit_and_can_still_be_edited(client: TestClient,
                                                                             services: Services) -> None:
    login(client, "admin")
    assert retire(client, services, "ecology-environment", successor="housing", reason="机构改革").status_code == 303
    account = services.run_sync(lambda s: s.scalar(select(StaffUser.id).where(StaffUser.username == "ecology")))
    page = client.get(f"/admin/users/{account}").text
    assert re.search(r'<option value="ecology-environment" selected>[^<]*生态环境局（已停用）</option>', page)
    assert 'id="unit-retired"' in page
    saved = post(client, f"/admin/users/{account}", f"/admin/users/{account}", display_name="生态环境局 刘洋（留守）",
                 role="unit_staff", unit="ecology-environment", phone_extension="")
    assert saved.status_code == 303, saved.text
    # Its staff are told, on their own inbox, that the unit is retired.
    login(client, "ecology")
    inbox = client.get("/unit").text
    assert 'id="unit-retired"' in inbox and "已停用" in inbox
    # Nobody new joins a retired unit.
    login(client, "admin")
    joined = post(client, "/admin/users", "/admin/users", username="newcomer", display_name="新人", role="unit_staff",
                  unit="ecology-environment", password="correct horse battery")
    assert joined.status_code == 422


def hotline(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command line in a process of its own, as an administrator runs it beside the server."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    environ["HOTLINE_DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=cwd, env=environ, capture_output=True,
                          text=True, timeout=120, check=False)


def soon(read: Callable[[], Any], wanted: Callable[[Any], bool], seconds: float = 15) -> Any:
    """What `read` gives once `wanted` holds, asked again until then; the last answer after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        answer = read()
        if wanted(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def test_a_unit_retired_from_the_command_line_reaches_a_running_servers_router_and_pages(
        services: Services, tmp_path: Path) -> None:
    entry = services.run_sync(lambda s: next(e for e in catalogue.current_entries(s) if e.unit_code == "gas"))
    with ServerThread(create_app(services.settings, services)) as server, \
            httpx.Client(base_url=server.url, timeout=30) as browser:
        def listed() -> dict[str, Any]:
            found = browser.get("/api/v1/catalogue", params={"q": entry.level3}).json()
            return {"version": found["version"], **next(e for e in found["entries"] if e["code"] == entry.code)}

        def offered() -> list[str]:   # the units the pages offer, as this server keeps them
            return services.run_sync(lambda s: [u.code for u in services.units.active(s)])

        assert listed()["unit_active"] is True and "gas" in offered()
        retired = hotline(services.settings.database_url, tmp_path, "units", "retire", "gas")
        assert retired.returncode == 0, retired.stderr
        # Nobody told the server: it finds out by itself, well before the pages' 30 s.
        started = time.monotonic()
        assert soon(listed, lambda e: e["unit_active"] is False)["unit_active"] is False
        assert "gas" not in offered() and time.monotonic() - started < 15
        handed = hotline(services.settings.database_url, tmp_path, "units", "retire", "gas", "--successor", "water",
                         "--reason", "燃气公司并入水务公司")
        assert handed.returncode == 0, handed.stderr
        moved = soon(listed, lambda e: e["unit"] == "water")
        assert (moved["unit"], moved["unit_active"], moved["version"]) == ("water", True, 2)
        proposal = services.router.route(f"我想反映一下{entry.terms[0]}的问题，请尽快处理。")
        assert proposal.entry is not None and proposal.entry["unit_code"] == "water"


def test_a_citizen_unsatisfied_with_a_retired_units_reply_is_sent_to_the_operators_not_to_it(
        client: TestClient, services: Services) -> None:
    """The unit resolved the ticket, then was retired with no successor while the ticket
    waited for 回访 (it held nothing open). The citizen rates 不满意 on the status page: the
    ticket does not go back to the retired unit but waits for an operator, the reason in its
    log, and the operator sends it to a unit that exists."""
    from dispatch import queries
    from tests.web.pages_support import act, token_in

    spare = services.run_sync(lambda s: next(
        u.code for u in s.scalars(select(Unit).where(Unit.active, Unit.code != "housing").order_by(Unit.id))
        if not open_work(s, u.id).blocks_retiring))
    number = resolved_by(services, spare, "小区门口的路灯修过了还是不亮。")
    login(client, "admin")
    assert retire(client, services, spare).status_code == 303
    retired = unit(services, spare)
    assert not retired.active

    client.cookies.clear()
    code = services.run_sync(lambda s: s.scalar(select(Ticket.query_code).where(Ticket.number == number)))
    page = client.get("/status", params={"number": number, "code": code}).text
    rated = client.post("/status/rate", data={"csrf_token": token_in(page), "number": number, "code": code,
                                               "rating": "unsatisfied", "note": "路灯还是不亮"})
    assert rated.status_code == 303
    ticket = services.run_sync(lambda s: s.scalar(select(Ticket).where(Ticket.number == number)))
    assert (ticket.state, ticket.unit_id, ticket.rating) == ("returned", None, "unsatisfied")
    assert number in {t.number for t in services.run_sync(lambda s: queries.dispatch_queue(s).tickets)}

    login(client, "operator")
    shown = client.get(f"/tickets/{number}").text
    record = shown[shown.index('id="audit-log"'):]
    assert "转人工分派" in record and f"原承办单位「{retired.name}」已停用且未指定承接单位" in record
    act(client, number, "transfer", unit_code="housing")
    ticket = services.run_sync(lambda s: s.scalar(select(Ticket).where(Ticket.number == number)))
    assert (ticket.state, ticket.unit_id) == ("transferred", unit(services, "housing").id)
