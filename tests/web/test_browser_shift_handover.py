"""交接班 in Debian's chromium, as two operators: the one going off shift files a ticket from
the console, finds it on the handover page and hands over with a note (交班); the next one
sees the note on the console and takes the shift over (接班), after which it waits for no one."""
from __future__ import annotations

from typing import Any

from dispatch import staff
from dispatch.demo import DEMO_PASSWORD
from dispatch.vocabulary import Role
from tests.web.test_browser import ARTIFACTS, PHONE, Shots, login
from tests.web.test_browser import new_context, playwright_browser, site  # noqa: F401 (fixtures)

NOTE = "幸福小区路灯一件待转办，市民要求下午回电。"


def test_one_operator_hands_over_and_the_next_takes_over_in_the_browser(new_context: Any, site: Any) -> None:
    server, services = site
    services.run_sync(lambda s: staff.create_user(s, "zhou", DEMO_PASSWORD, Role.OPERATOR, display_name="话务员 周敏"))

    outgoing = login(new_context(), server.url, "operator")
    outgoing.fill("#intake-phone", "13803917788")
    outgoing.fill("#intake-form input[name=title]", "小区路灯不亮")
    outgoing.fill("#intake-form textarea[name=body]", "幸福小区3号楼前路灯连续一周不亮，晚上出行不安全。")
    outgoing.click("#intake-form button[type=submit]")
    outgoing.wait_for_selector("#done")
    number = outgoing.inner_text("#ticket-number").strip()

    outgoing.click("#nav-handover")
    outgoing.wait_for_selector("#waiting-tickets")
    assert number in outgoing.inner_text("#waiting-tickets")
    outgoing.fill("#hand-over-form textarea[name=note]", NOTE)
    outgoing.click("#hand-over-form button[type=submit]")
    outgoing.wait_for_selector("#done")
    assert outgoing.inner_text("#done") == "已交班，交班说明已留给下一班。"
    mine = outgoing.locator("#pending-handovers li.handover", has_text=NOTE)
    assert mine.count() == 1 and mine.locator("button").count() == 0   # not theirs to take over
    Shots()(outgoing, "shift-handover")

    incoming = login(new_context(), server.url, "zhou")
    incoming.goto(f"{server.url}/operator")
    waiting = incoming.locator("#console-handovers")
    assert NOTE in waiting.inner_text() and "话务员 王芳" in waiting.inner_text()
    waiting.screenshot(path=str(ARTIFACTS / "console-handovers.png"))
    incoming.click("#nav-handover")
    note = incoming.locator("#pending-handovers li.handover", has_text=NOTE)
    note.get_by_role("button", name="接班：话务员 王芳", exact=False).click()
    incoming.wait_for_selector("#done")
    assert incoming.inner_text("#done") == "已接班。"
    assert incoming.locator("#pending-handovers li.handover", has_text=NOTE).count() == 0
    incoming.goto(f"{server.url}/operator")
    assert incoming.locator("#console-handovers").count() == 0

    outgoing.reload()
    assert outgoing.locator("#pending-handovers li.handover", has_text=NOTE).count() == 0

    # The supervisor reads the history on a phone: one card per handover, whose bare figures
    # say what they count, the table's header row being hidden there.
    chief = login(new_context(), server.url, "supervisor")
    chief.set_viewport_size(PHONE)
    chief.goto(f"{server.url}/supervisor/handovers")
    row = chief.locator("#handover-history tbody tr", has_text=NOTE)
    labels = row.evaluate("tr => Array.from(tr.querySelectorAll('td'))"
                          ".map(td => getComputedStyle(td, '::before').content)")
    assert ['"本班开始："', '"待处理工单："', '"待回拨："', '"回拨未接通："'] == [x for x in labels if x != "none"]
