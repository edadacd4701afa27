"""A repeat call in other words at the console, in Debian's chromium: while the operator types,
可能与 … 重复 appears with the caller's open ticket, and its 受理并并入 files and merges at once."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.intake import IntakeRequest, intake
from dispatch.models import Ticket
from dispatch.vocabulary import Channel
from tests.web.test_browser import login, new_context, playwright_browser, site  # noqa: F401 (fixtures)
from web.pages.labels import TICKET_DONE_ZH

CALLER = "13803910081"
SMOKE = "沁园街道锦绣苑小区5号楼楼下的烧烤店每天晚上油烟很大，熏得窗户都不敢开，请环保部门来查一查。"
SMOKE_AGAIN = "锦绣苑小区5号楼下面那家烧烤店晚上又冒油烟了，家里窗户根本开不了，上次反映过还没人来查。"


def test_the_console_proposes_the_callers_open_ticket_and_merges_into_it_with_one_click(
        new_context: Any, site: Any) -> None:
    server, services = site

    def first_call(session: Session) -> str:
        request = IntakeRequest(channel=Channel.PHONE, body=SMOKE, phone=CALLER)
        return intake(session, request, services.rules).ticket.number

    first = services.run_sync(first_call)
    page = login(new_context(), server.url, "operator")
    page.goto(f"{server.url}/operator")
    page.fill("#intake-phone", CALLER)
    page.fill("#intake-form textarea[name=body]", SMOKE_AGAIN)
    page.wait_for_selector("#draft-repeats .repeat-merge")
    assert f"可能与 {first} 重复" in page.inner_text("#draft-repeats")
    button = page.query_selector("#draft-repeats .repeat-merge")
    assert button is not None and button.inner_text() == f"受理并并入 {first}"
    with page.expect_navigation():
        button.click()
    assert page.url.split("?")[0].endswith(f"/tickets/{first}")
    assert TICKET_DONE_ZH["filed_merged"] in page.inner_text("#done")
    with services.sessions() as session:
        main, merged = session.scalars(select(Ticket).where(Ticket.phone.is_not(None))
                                       .order_by(Ticket.id.desc()).limit(2)).all()[::-1]
        assert main.number == first and merged.body == SMOKE_AGAIN and merged.merged_into_id == main.id
