"""Reply templates (常用语) in Debian's chromium: a unit adds one on its page, picks it above
the ticket's reply box, the words land where the cursor was, and the reply is saved; with
scripts off, 插入 fills the box all the same."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dispatch import reply_templates
from dispatch.actors import Actor
from dispatch.clock import local_date, utcnow
from dispatch.models import ReplyTemplate, Ticket
from dispatch.vocabulary import Role
from tests.web.test_browser import DESKTOP, Dialogs, Shots, login, new_context, playwright_browser, site  # noqa: F401 (fixtures)

NOISE = "工地夜间施工噪音扰民"   # in progress with ecology-environment (demo account "ecology")


def noise_of(services: Any) -> Ticket:
    with services.sessions() as session:
        return session.scalars(select(Ticket).where(Ticket.title == NOISE)).one()


def test_a_unit_picks_its_template_above_the_reply_box_and_the_reply_is_saved(new_context: Any, site: Any) -> None:
    server, services = site
    noise = noise_of(services)
    services.run_sync(lambda s: reply_templates.create(s, Actor(label="admin", role=Role.ADMIN),
                                                        {"title": "感谢来电", "text": "感谢您对我们工作的支持。"}))
    page = login(new_context(), server.url, "ecology")
    page.goto(f"{server.url}/unit/templates")
    page.fill("#add-template-form input[name=title]", "工地已停工")
    page.fill("#add-template-form textarea[name=text]", "经现场核查，工地已停止夜间施工（工单{编号}）。")
    page.click("#add-template-form button")
    page.wait_for_selector("#done")
    assert "工地已停工" in page.inner_text("#own-templates") and "感谢来电" in page.inner_text("#city-templates")
    Shots()(page, "unit-reply-templates")

    page.goto(f"{server.url}/tickets/{noise.number}")
    assert page.locator("#resolve-templates button").is_hidden()   # the script inserts on choosing
    page.fill("#resolve-text", "您好，")
    page.select_option("#resolve-templates select", label="工地已停工")
    reply = f"您好，经现场核查，工地已停止夜间施工（工单{noise.number}）。"
    assert page.input_value("#resolve-text") == reply
    assert page.input_value("#resolve-templates select") == ""   # ready to pick again
    page.select_option("#resolve-templates select", label="感谢来电")   # at the cursor: after the first
    reply += "感谢您对我们工作的支持。"
    assert page.input_value("#resolve-text") == reply
    page.locator("#resolve-templates").scroll_into_view_if_needed()
    Shots()(page, "ticket-reply-templates", phone=False)

    Dialogs(page).accept = True
    page.click("#resolve-form button")
    page.wait_for_selector("#done")
    resolved = noise_of(services)
    assert resolved.state == "resolved" and resolved.reply == reply


def test_without_scripts_the_insert_button_fills_the_reply_box(playwright_browser: Any, site: Any) -> None:
    server, services = site
    noise = noise_of(services)
    services.run_sync(lambda s: reply_templates.create(s, Actor(label="admin", role=Role.ADMIN),
                                                        {"title": "办结日期", "text": "已于{日期}办结。"}))
    context = playwright_browser.new_context(viewport=DESKTOP, locale="zh-CN", java_script_enabled=False)
    try:
        page = login(context, server.url, "ecology")
        page.goto(f"{server.url}/tickets/{noise.number}")
        page.select_option("#resolve-templates select", label="办结日期")
        page.click("#resolve-templates button")
        page.wait_for_load_state()
        today = local_date(utcnow())
        assert page.input_value("#resolve-text") == f"已于{today.year}年{today.month}月{today.day}日办结。"
        assert "reply_for=resolve" in page.url
    finally:
        context.close()
    with services.sessions() as session:
        assert session.scalar(select(ReplyTemplate.text)) == "已于{日期}办结。"   # kept as written
