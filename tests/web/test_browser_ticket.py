"""The staff ticket page in Debian's chromium: the steps that cannot be taken back ask first
and keep what was typed when cancelled, and a change made elsewhere while the page is open
shows a banner whose refresh keeps what was typed."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dispatch import lifecycle
from dispatch.actors import Actor
from dispatch.models import Ticket, TicketEvent
from dispatch.vocabulary import Role
from tests.web.test_browser import Dialogs, Shots, login, new_context, playwright_browser, site  # noqa: F401 (fixtures)

NOISE = "工地夜间施工噪音扰民"   # in progress with ecology-environment (demo account "ecology")
WAGES = "农民工工资被拖欠"   # transferred to human-resources: out of the ecology account's sight


def escalate(services: Any, ticket_id: int, note: str) -> None:
    """A supervisor escalates, by the domain alone, as another process would."""
    services.run_sync(lambda s: lifecycle.escalate(s, s.get(Ticket, ticket_id),
                                                   Actor(label="supervisor", role=Role.SUPERVISOR), note))


def noise_of(services: Any) -> Ticket:
    with services.sessions() as session:
        return session.scalars(select(Ticket).where(Ticket.title == NOISE)).one()


def test_resolving_asks_first_and_a_cancel_keeps_the_reply(new_context: Any, site: Any) -> None:
    server, services = site
    noise = noise_of(services)
    page = login(new_context(), server.url, "ecology")
    page.goto(f"{server.url}/tickets/{noise.number}")
    dialogs = Dialogs(page)
    asked = dialogs.asked
    reply = "已责令施工方夜间停工，经复查已无噪音。"
    page.fill("#resolve-form textarea[name=text]", reply)
    page.click("#resolve-form button")
    page.wait_for_timeout(300)
    assert asked and "确认办结" in asked[0]
    assert page.input_value("#resolve-form textarea[name=text]") == reply   # cancelled: nothing lost
    assert page.locator("#done").count() == 0 and noise_of(services).state == "in_progress"
    # 改派申请 asks too.
    page.fill("#dispute-form input[name=text]", "噪音执法属城管局职责")
    page.click("#dispute-form button")
    page.wait_for_timeout(300)
    assert "确认提交改派申请" in asked[-1] and page.input_value("#dispute-form input[name=text]") == "噪音执法属城管局职责"
    assert noise_of(services).open_dispute_id is None
    dialogs.accept = True
    page.click("#resolve-form button")
    page.wait_for_selector("#done")
    assert "已办结" in page.inner_text("#ticket-state") and noise_of(services).state == "resolved"


def test_an_escalation_made_while_the_page_is_open_shows_a_banner_and_the_refresh_keeps_typed_words(
        new_context: Any, site: Any) -> None:
    server, services = site
    noise = noise_of(services)
    page = login(new_context(), server.url, "ecology")
    page.goto(f"{server.url}/tickets/{noise.number}")
    assert page.locator("#ticket-changed").is_hidden()
    page.fill("#resolve-form textarea[name=text]", "正在起草的答复")
    page.fill("#progress-form textarea[name=text]", "正在起草的进展")
    page.wait_for_timeout(500)   # the page's stream is open before the ticket moves
    escalate(services, noise.id, "请今天下班前反馈处理方案")
    page.wait_for_selector("#ticket-changed:not([hidden])", timeout=6_000)
    assert page.inner_text("#ticket-changed") == "此工单已有新动态，点此刷新"
    Shots()(page, "ticket-changed-banner", phone=False)
    page.click("#ticket-changed a")
    page.wait_for_selector("#escalation-to-answer")
    page.wait_for_load_state("domcontentloaded")
    assert "请今天下班前反馈处理方案" in page.inner_text("#escalation-to-answer")
    assert page.input_value("#resolve-form textarea[name=text]") == "正在起草的答复"
    assert page.input_value("#progress-form textarea[name=text]") == "正在起草的进展"
    assert page.locator("#ticket-changed").is_hidden()


def test_the_pages_own_step_does_not_raise_the_banner(new_context: Any, site: Any) -> None:
    server, services = site
    noise = noise_of(services)
    page = login(new_context(), server.url, "ecology")
    page.goto(f"{server.url}/tickets/{noise.number}")
    page.fill("#progress-form textarea[name=text]", "已约谈施工方")
    page.click("#progress-form button")
    page.wait_for_selector("#done")
    page.wait_for_timeout(2_500)   # the stream's hello and the change both checked by now
    assert page.locator("#ticket-changed").is_hidden()


def test_a_change_to_another_ticket_makes_the_page_ask_nothing(new_context: Any, site: Any) -> None:
    server, services = site
    noise = noise_of(services)
    with services.sessions() as session:
        other = session.scalars(select(Ticket).where(Ticket.title == WAGES)).one()
    page = login(new_context(), server.url, "ecology")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.url.endswith("/stamp") else None)
    page.goto(f"{server.url}/tickets/{noise.number}")
    page.wait_for_timeout(2_500)   # the stream's hello asked once
    first = len(asked)
    assert first == 1
    escalate(services, other.id, "请尽快处理")
    page.wait_for_timeout(3_000)   # the watcher sees it within a second
    assert len(asked) == first and page.locator("#ticket-changed").is_hidden()
    # Its own ticket's change still reaches it.
    escalate(services, noise.id, "请今天反馈")
    page.wait_for_selector("#ticket-changed:not([hidden])", timeout=6_000)
    assert len(asked) == first + 1


def test_a_ticket_out_of_sight_has_no_stream(new_context: Any, site: Any) -> None:
    server, services = site
    with services.sessions() as session:
        foreign = session.scalars(select(Ticket).where(Ticket.title == WAGES)).one()
    page = login(new_context(), server.url, "ecology")
    response = page.request.get(f"{server.url}/tickets/{foreign.number}/events")
    assert response.status == 404


def test_a_refused_form_comes_back_filled_in_and_a_reload_does_not_post_it_again(new_context: Any, site: Any) -> None:
    """The unit writes a progress note of spaces, ticked 向市民公开: refused, the page comes
    back by a redirect with the error, the words and the box ticked; reloading it shows the
    same and posts nothing (no 确认重新提交表单, no second try)."""
    server, services = site
    noise = noise_of(services)
    page = login(new_context(), server.url, "ecology")
    page.goto(f"{server.url}/tickets/{noise.number}")
    page.fill("#progress-form textarea[name=text]", "   ")
    page.check("#progress-form input[name=public]")
    page.click("#progress-form button")
    page.wait_for_selector("#action-error")
    assert "请填写办理进展" in page.inner_text("#action-error")
    assert "/progress" not in page.url and "?kept=" in page.url
    assert page.input_value("#progress-form textarea[name=text]") == "   "
    assert page.is_checked("#progress-form input[name=public]")
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    page.reload()
    page.wait_for_selector("#action-error")
    assert posted == [] and page.is_checked("#progress-form input[name=public]")
    assert "请填写办理进展" in page.inner_text("#action-error")
    # Written out, the note goes through, public, from the page the refusal came back to.
    page.fill("#progress-form textarea[name=text]", "已约谈施工方，今晚起22点后停工。")
    page.click("#progress-form button")
    page.wait_for_selector("#done")
    assert page.locator("#action-error").count() == 0 and "?kept=" not in page.url
    with services.sessions() as session:
        notes = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == noise.id,
                                                          TicketEvent.action == "progress")).all()
        assert [(e.note, (e.data or {}).get("public")) for e in notes] == [("已约谈施工方，今晚起22点后停工。", True)]


def test_the_printed_ticket_is_the_ticket_and_its_record_without_the_forms(new_context: Any, site: Any) -> None:
    server, services = site
    noise = noise_of(services)
    page = login(new_context(), server.url, "ecology")
    page.goto(f"{server.url}/tickets/{noise.number}")
    assert page.is_visible("#resolve-form") and page.is_visible("header.top")
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    page.click("#print-ticket")
    assert page.evaluate("window.printed") == 1
    page.emulate_media(media="print")
    assert page.is_visible("#ticket-number") and page.is_visible("#audit-log") and page.is_visible("#ticket-unit")
    assert NOISE in page.inner_text("main")
    for hidden in ("header.top", "#resolve-form", "#progress", "#print-ticket"):
        assert not page.is_visible(hidden), hidden
    assert page.evaluate("document.querySelectorAll('form').length") > 0
    assert page.evaluate("Array.from(document.querySelectorAll('form')).every(f => !f.offsetParent)")


def test_without_a_script_no_print_button_shows(new_context: Any, site: Any) -> None:
    server, services = site
    page = login(new_context(java_script_enabled=False), server.url, "ecology")
    page.goto(f"{server.url}/tickets/{noise_of(services).number}")
    assert page.locator("#print-ticket").count() == 1 and not page.is_visible("#print-ticket")


def test_removing_a_photo_asks_first_and_a_cancel_keeps_it(new_context: Any, site: Any) -> None:
    from dispatch import attachments
    from dispatch.attachments import AttachmentLimits, Upload
    from dispatch.models import Attachment, StaffUser
    from dispatch.staff import actor_for
    from tests import images

    server, services = site
    noise = noise_of(services)

    def add(session: Any) -> int:
        user = session.scalars(select(StaffUser).where(StaffUser.username == "ecology")).one()
        [photo] = attachments.add(session, session.get(Ticket, noise.id), actor_for(user),
                                  [Upload("拍错.png", images.PNG)], AttachmentLimits())
        return photo.id

    photo = services.run_sync(add)
    page = login(new_context(), server.url, "ecology")
    page.goto(f"{server.url}/tickets/{noise.number}")
    dialogs = Dialogs(page)
    page.fill(f"#detach-{photo} input[name=reason]", "传错了")
    page.click(f"#detach-{photo} button")
    page.wait_for_timeout(300)
    assert dialogs.asked and "确认删除这张图片" in dialogs.asked[0]
    with services.sessions() as session:
        assert session.get(Attachment, photo) is not None   # cancelled: still there
    dialogs.accept = True
    page.click(f"#detach-{photo} button")
    page.wait_for_selector("#done")
    assert "图片已删除" in page.inner_text("#done") and page.locator(f"#detach-{photo}").count() == 0
    with services.sessions() as session:
        assert session.get(Attachment, photo) is None


def test_a_damaged_photo_without_a_thumbnail_shows_its_name_not_a_broken_image(new_context: Any, site: Any) -> None:
    from dispatch import attachments
    from dispatch.attachments import AttachmentLimits, Upload
    from dispatch.models import StaffUser
    from dispatch.staff import actor_for
    from tests import images

    server, services = site
    noise = noise_of(services)

    def add(session: Any) -> tuple[int, int]:
        user = session.scalars(select(StaffUser).where(StaffUser.username == "ecology")).one()
        good, damaged = attachments.add(session, session.get(Ticket, noise.id), actor_for(user),
                                        [Upload("现场.png", images.PNG), Upload("旧照片.png", images.PNG)],
                                        AttachmentLimits())
        # Stored before thumbnails were, and damaged in storage since.
        damaged.thumbnail, damaged.content = None, b"\x89PNG\r\n\x1a\n cut short"
        return good.id, damaged.id

    good, damaged = services.run_sync(add)
    page = login(new_context(), server.url, "ecology")
    page.goto(f"{server.url}/tickets/{noise.number}")
    page.wait_for_selector(f'#photo-list li[data-id="{damaged}"] .photo-broken', timeout=10_000)
    assert page.inner_text(f'#photo-list li[data-id="{damaged}"] .photo-broken') == "旧照片.png（无法显示缩略图）"
    assert page.locator(f'#photo-list li[data-id="{damaged}"] img').count() == 0
    link = page.locator(f'#photo-list li[data-id="{damaged}"] a').first.get_attribute("href")
    assert link == f"/tickets/{noise.number}/attachments/{damaged}"
    # The other photo's thumbnail is drawn as ever.
    page.wait_for_function(f'document.querySelector(\'#photo-list li[data-id="{good}"] img\').naturalWidth > 0')
