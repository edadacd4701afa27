"""The administrator's account page in Debian's chromium: 停用 asks first, and a cancel
leaves the account as it was."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dispatch.models import StaffUser
from tests.web.test_browser import Dialogs, login, new_context, playwright_browser, site  # noqa: F401 (fixtures)


def majun(services: Any) -> StaffUser:
    with services.sessions() as session:
        return session.scalars(select(StaffUser).where(StaffUser.username == "majun")).one()


def test_deactivating_an_account_asks_first_and_a_cancel_keeps_it(new_context: Any, site: Any) -> None:
    server, services = site
    page = login(new_context(), server.url, "admin")
    page.goto(f"{server.url}/admin/users/{majun(services).id}")
    dialogs = Dialogs(page)
    asked = dialogs.asked
    page.click("#deactivate-form button")
    page.wait_for_timeout(300)
    assert asked and "确定停用账号「majun」" in asked[0] and "分机号 7008 随之释放" in asked[0]
    assert majun(services).active and majun(services).phone_extension == "7008"
    dialogs.accept = True
    page.click("#deactivate-form button")
    page.wait_for_selector("#reactivate-form")
    assert not majun(services).active and majun(services).phone_extension is None
