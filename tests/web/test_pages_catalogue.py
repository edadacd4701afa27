"""The dispatch catalogue over HTTP: the tree and the level-3 search, a transfer under a
category (page and staff API), the supervisor's page (edit = new version, CSRF, roles),
and the figures per level in /api/v1/stats."""
from __future__ import annotations

import re

from sqlalchemy import func, select
from starlette.testclient import TestClient

from dispatch import api_tokens, catalogue
from dispatch.models import CatalogueEntry, CatalogueVersion, StaffUser, Ticket
from tests.web.pages_support import act, csrf, login, refusal, ticket_titled, token_in
from web.services import Services

WATER = "城乡建设/城市建设和市政管理/自来水供应"
UNASSIGNED = "建议增加公交班次"  # a demo sample left at intake (received)


def test_the_catalogue_lists_its_tree_and_finds_level_3_entries_as_one_types(client: TestClient) -> None:
    tree = client.get("/api/v1/catalogue")
    assert tree.status_code == 200
    body = tree.json()
    assert body["entries"] == 517 and body["version"] == 1 and len(body["tree"]) == 15
    city_building = next(l1 for l1 in body["tree"] if l1["name"] == "城乡建设")
    municipal = next(l2 for l2 in city_building["children"] if l2["name"] == "城市建设和市政管理")
    water = next(e for e in municipal["entries"] if e["level3"] == "自来水供应")
    assert (water["unit"], water["unit_name"], water["local"]) == ("water-supply", "济源市供水公司", False)

    found = client.get("/api/v1/catalogue", params={"q": "自来水"}).json()["entries"]
    assert found[0]["path"].replace(" ", "") == WATER
    by_term = client.get("/api/v1/catalogue", params={"q": "宅基地"}).json()["entries"]
    assert any(e["level3"] == "宅基地纠纷" and e["local"] for e in by_term)
    assert client.get("/api/v1/catalogue", params={"q": "没有这种东西"}).json()["entries"] == []


def test_an_operator_transfers_under_a_category_and_the_ticket_keeps_it(client: TestClient,
                                                                        services: Services) -> None:
    number = ticket_titled(services, UNASSIGNED).number
    login(client, "operator")
    page = client.get(f"/tickets/{number}")
    assert 'data-catalogue-search' in page.text and "/static/catalogue.js" in page.text
    unknown = refusal(client, number, "transfer", category="城乡建设/没有/这一类", unit_code="")
    assert "派单目录中没有" in unknown and 'value="城乡建设/没有/这一类"' in unknown   # kept as typed
    # No unit picked: the entry's own unit.
    done = act(client, number, "transfer", category="城乡建设 / 城市建设和市政管理 / 公共汽车", unit_code="")
    assert done.status_code == 303  # type: ignore[attr-defined]
    with services.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        entry = session.get(CatalogueEntry, ticket.catalogue_entry_id)
        assert entry is not None and entry.level3 == "公共汽车" and ticket.category == "城乡建设"
        assert ticket.unit_id == entry.unit_id
    shown = client.get(f"/tickets/{number}").text
    assert "城乡建设 / 城市建设和市政管理 / 公共汽车" in shown


def test_the_staff_api_transfer_takes_a_category_code(client: TestClient, services: Services) -> None:
    number = ticket_titled(services, UNASSIGNED).number

    def token(session):  # type: ignore[no-untyped-def]
        user = session.scalar(select(StaffUser).where(StaffUser.username == "operator"))
        return api_tokens.create(session, user, "test", lifetime=None)[1]

    headers = {"Authorization": f"Bearer {services.run_sync(token)}"}
    code = services.run_sync(lambda s: catalogue.find_current(s, WATER).code)
    response = client.post(f"/api/v1/staff/tickets/{number}/transfer", json={"unit": "water-supply", "category": code},
                           headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["unit_code"] == "water-supply"
    with services.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert session.get_one(CatalogueEntry, ticket.catalogue_entry_id).code == code
    detail = client.get(f"/api/v1/staff/tickets/{number}", headers=headers).json()
    assert detail["catalogue_entry"] == {"code": code, "path": WATER, "version": 1, "current": True}
    wrong = client.post(f"/api/v1/staff/tickets/{number}/transfer", json={"unit": "housing", "category": "999999"},
                        headers=headers)
    assert wrong.status_code == 422 and wrong.json()["field"] == "category"


def test_a_supervisor_changes_an_entry_as_a_new_version_and_the_next_ticket_follows(
        client: TestClient, services: Services) -> None:
    login(client, "supervisor")
    code = services.run_sync(lambda s: catalogue.find_current(s, WATER).code)
    page = client.get("/supervisor/catalogue", params={"code": code})
    assert page.status_code == 200 and "济源市供水公司" in page.text and 'id="entry-form"' in page.text
    saved = client.post(f"/supervisor/catalogue/{code}", data={
        "csrf_token": token_in(page.text), "unit": "urban-management", "terms": "停水、自来水、没水",
        "deadline_class": "urgent", "note": "试行：停水先派城管"})
    assert saved.status_code == 303 and "done=saved" in saved.headers["location"]
    with services.sessions() as session:
        assert session.scalar(select(func.count(CatalogueVersion.id))) == 2
        current = catalogue.find_current(session, code)
        assert current.terms == ["停水", "自来水", "没水"] and current.deadline_class == "urgent"
    # The router took the new version at once: the API and the next proposal use it.
    assert client.get("/api/v1/catalogue").json()["version"] == 2
    proposal = services.router.route("我家从昨天开始没水了，自来水一直不来，请尽快处理。")
    assert proposal.entry is not None and proposal.entry["code"] == code
    listed = client.get("/supervisor/catalogue").text
    assert "试行：停水先派城管" in listed and re.search(r"版本 <span class=\"count\">2</span>", listed)
    bad = client.post(f"/supervisor/catalogue/{code}", data={
        "csrf_token": csrf(client, "/supervisor/catalogue"), "unit": "", "terms": "停水"})
    assert bad.status_code == 422 and "承办单位" in bad.text


def test_only_supervisors_edit_the_catalogue_and_every_post_needs_its_csrf_token(
        client: TestClient, services: Services) -> None:
    code = services.run_sync(lambda s: catalogue.find_current(s, WATER).code)
    login(client, "housing")
    assert client.get("/supervisor/catalogue").status_code == 403
    assert client.post(f"/supervisor/catalogue/{code}", data={
        "csrf_token": csrf(client, "/unit"), "unit": "housing", "terms": "停水"}).status_code == 403
    login(client, "operator")
    assert client.get("/supervisor/catalogue").status_code == 403
    login(client, "supervisor")
    forged = client.post(f"/supervisor/catalogue/{code}", data={"unit": "housing", "terms": "停水"})
    assert forged.status_code == 403
    with services.sessions() as session:
        assert session.scalar(select(func.count(CatalogueVersion.id))) == 1


def test_stats_read_per_catalogue_level(client: TestClient, services: Services) -> None:
    number = ticket_titled(services, UNASSIGNED).number
    login(client, "operator")
    act(client, number, "transfer", category=WATER, unit_code="water-supply")
    for level, name in [("1", "城乡建设"), ("3", "城乡建设 / 城市建设和市政管理 / 自来水供应")]:
        body = client.get("/api/v1/stats", params={"level": level}).json()
        groups = {g["name"]: g for g in body["catalogue"]["groups"]}
        assert body["catalogue"]["level"] == int(level) and groups[name]["received"] >= 1
        assert groups[name]["transfer_rate"] is not None
    assert "catalogue" not in client.get("/api/v1/stats").json()
    refused = client.get("/api/v1/stats", params={"level": "4"})
    assert refused.status_code == 422 and "1、2 或 3" in refused.text
    login(client, "supervisor")
    page = client.get("/supervisor/catalogue", params={"level": "3"})
    assert page.status_code == 200 and "自来水供应" in page.text.split('id="level-figures"')[1]
