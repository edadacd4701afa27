"""The dispatch catalogue in a real browser: the operator finds a level-3 entry by typing and
transfers under it; a supervisor changes an entry on the catalogue page."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dispatch.models import CatalogueEntry, Ticket
from tests.web.test_browser import login, new_context, playwright_browser, site, wait_true  # noqa: F401 (fixtures)

WATER = "城乡建设 / 城市建设和市政管理 / 自来水供应"


def test_an_operator_finds_the_entry_by_typing_and_transfers_under_it(new_context: Any, site: Any) -> None:
    server, services = site
    with services.sessions() as session:
        number = session.scalar(select(Ticket.number).where(Ticket.title == "建议增加公交班次"))
    operator = login(new_context(), server.url, "operator")
    operator.goto(f"{server.url}/tickets/{number}")
    operator.fill("#category-input", "")
    operator.type("#category-input", "自来水", delay=50)
    wait_true(operator, 
        "() => [...document.querySelectorAll('#catalogue-options option')].some(o => o.value.includes('自来水供应'))")
    operator.fill("#category-input", WATER)
    operator.click("#transfer-form button[type=submit]")
    operator.wait_for_selector("#done")
    assert "自来水供应" in operator.inner_text("#ticket-entry")
    with services.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        entry = session.get(CatalogueEntry, ticket.catalogue_entry_id)
        assert entry is not None and entry.level3 == "自来水供应" and ticket.unit_id == entry.unit_id


def test_a_supervisor_changes_an_entry_on_the_catalogue_page(new_context: Any, site: Any) -> None:
    server, services = site
    supervisor = login(new_context(), server.url, "supervisor")
    supervisor.goto(f"{server.url}/supervisor/catalogue?q=自来水")
    supervisor.click("#entries a:has-text('修改')")
    supervisor.fill("#entry-form textarea[name=terms]", "停水、自来水、没水了")
    supervisor.select_option("#entry-form select[name=deadline_class]", "urgent")
    supervisor.click("#entry-form button[type=submit]")
    supervisor.wait_for_selector("#done")
    assert "没水了" in supervisor.inner_text("#entry-history")
    assert services.router.catalogue is not None and services.router.catalogue.version == 2
