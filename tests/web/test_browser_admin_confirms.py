"""The administrator's Open311 page and the reply templates' pages in Debian's chromium: a key
just issued wraps inside its card at phone width; revoking a key and deleting a template ask
first (confirm.js), and a cancel keeps it."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dispatch import reply_templates
from dispatch.actors import Actor
from dispatch.models import Open311Client, ReplyTemplate
from dispatch.vocabulary import Role
from tests.web.test_browser import PHONE, Dialogs, login, new_context, playwright_browser, site  # noqa: F401 (fixtures)


def issue_key(page: Any, base: str, name: str) -> None:
    page.goto(f"{base}/admin/open311")
    page.fill("#make-open311-form input[name=name]", name)
    page.click("#make-open311-form button[type=submit]")
    page.wait_for_selector("#key-value")


def test_an_issued_open311_key_wraps_at_phone_width(new_context: Any, site: Any) -> None:
    server, _services = site
    page = login(new_context(), server.url, "admin")
    page.set_viewport_size(PHONE)
    issue_key(page, server.url, "随手拍小程序")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_revoking_an_open311_key_asks_first_and_a_cancel_keeps_it(new_context: Any, site: Any) -> None:
    server, services = site
    page = login(new_context(), server.url, "admin")
    issue_key(page, server.url, "随手拍小程序")

    def revoked() -> bool:
        with services.sessions() as session:
            return session.scalars(select(Open311Client.revoked_at)).one() is not None

    page.goto(f"{server.url}/admin/open311")
    dialogs = Dialogs(page)
    page.click(".revoke-open311-form button")
    page.wait_for_timeout(300)
    assert dialogs.asked and "确定撤销接入方「随手拍小程序」的密钥吗" in dialogs.asked[0]
    assert not revoked()
    dialogs.accept = True
    page.click(".revoke-open311-form button")
    page.wait_for_url("**done=open311_revoked")
    assert revoked() and page.locator(".revoke-open311-form").count() == 0


def templates(services: Any) -> list[str]:
    with services.sessions() as session:
        return list(session.scalars(select(ReplyTemplate.title).order_by(ReplyTemplate.id)))


def test_deleting_a_reply_template_asks_first_and_a_cancel_keeps_it(new_context: Any, site: Any) -> None:
    server, services = site
    services.run_sync(lambda s: reply_templates.create(s, Actor(label="admin", role=Role.ADMIN),
                                                        {"title": "感谢来电", "text": "感谢您对我们工作的支持。"}))
    unit_page = login(new_context(), server.url, "ecology")
    unit_page.goto(f"{server.url}/unit/templates")
    unit_page.fill("#add-template-form input[name=title]", "工地已停工")
    unit_page.fill("#add-template-form textarea[name=text]", "经现场核查，工地已停止夜间施工。")
    unit_page.click("#add-template-form button")
    unit_page.wait_for_selector("#done")
    admin_page = login(new_context(), server.url, "admin")
    admin_page.goto(f"{server.url}/admin/templates")
    for page, title in ((unit_page, "工地已停工"), (admin_page, "感谢来电")):
        dialogs = Dialogs(page)
        form = page.locator(".delete-template-form").first
        form.locator("button").click()
        page.wait_for_timeout(300)
        assert dialogs.asked and f"确定删除常用语「{title}」吗" in dialogs.asked[0]
        assert title in templates(services)
        dialogs.accept = True
        form.locator("button").click()
        page.wait_for_selector("#done")
        assert title not in templates(services)
