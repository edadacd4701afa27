"""The knowledge base in Debian's chromium: while the operator types the caller's question the
best article appears beside the classifier's suggestions, and one click answers the ticket
from it (直接办结, cited in the reply and the event); a citizen typing on the web form is
offered a public answer and says it solved the problem (a deflection)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from dispatch.models import KbArticle, KbDeflection, Ticket, TicketEvent
from tests.web.test_browser import Shots, login, new_context, playwright_browser, site  # noqa: F401 (fixtures)

QUESTION = "来电人说社保卡丢了，问怎么补办"
ARTICLE = "社会保障卡丢失怎么补办"


def test_the_console_suggests_an_article_and_one_click_answers_the_ticket_from_it(new_context: Any, site: Any) -> None:
    server, services = site
    page = login(new_context(), server.url, "operator")
    page.goto(f"{server.url}/operator")
    page.fill("#intake-phone", "13803910099")
    page.fill("#intake-form textarea[name=body]", QUESTION)

    first = page.locator("#kb-articles li.kb-article").first
    first.wait_for(timeout=5_000)
    assert ARTICLE in first.inner_text()
    assert first.locator("mark").count() >= 1          # the matching words are highlighted
    Shots()(page, "operator-kb", phone=False)
    first.locator("button.kb-answer").click()
    page.wait_for_url("**/tickets/*")

    with services.sessions() as session:
        article = session.scalars(select(KbArticle).where(KbArticle.title == ARTICLE)).one()
        ticket = session.scalars(select(Ticket).where(Ticket.body == QUESTION)).one()
        event = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                          TicketEvent.action == "answer")).one()
    assert ticket.state == "answered"
    assert (ticket.reply or "").startswith(f"《{ARTICLE}》\n") and "KB-" not in (ticket.reply or "")
    assert event.data == {"article_id": article.id, "article_version": article.published_version}
    assert ticket.number in page.url and ARTICLE in page.content()
    # The page's 答复 keeps the article's lines, the title on its own.
    assert page.inner_text("#ticket-reply").startswith(f"《{ARTICLE}》\n")


def test_the_web_form_offers_an_answer_and_the_citizen_says_it_solved_the_problem(new_context: Any,
                                                                                  site: Any) -> None:
    server, services = site
    page = new_context().new_page()
    page.goto(f"{server.url}/")
    page.fill("#complaint-form textarea[name=body]", "家里暖气一点都不热，怎么办")
    link = page.locator("#kb-suggest-list a").first
    link.wait_for(timeout=5_000)
    assert "暖气不热" in link.inner_text()
    page.goto(server.url + (link.get_attribute("href") or ""))
    page.click("#kb-solved")
    page.wait_for_selector("#deflected")
    with services.sessions() as session:
        assert session.scalar(select(func.count(KbDeflection.id))) == 1
        assert session.scalar(select(func.count(Ticket.id)).where(Ticket.body.like("%暖气%"))) == 0
