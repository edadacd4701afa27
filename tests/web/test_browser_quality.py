"""质检 in Debian's chromium: an operator files a ticket from the console; a supervisor opens
质检 from the header, finds it in the operator's sample of the week, scores it on the checklist
and saves; the operator reads the score and the comment on 我的质检."""
from __future__ import annotations

from typing import Any

from tests.web.test_browser import ARTIFACTS, Shots, login
from tests.web.test_browser import new_context, playwright_browser, site  # noqa: F401 (fixtures)

COMMENT = "开头语规范，地点记录完整。"


def test_a_supervisor_scores_a_ticket_and_the_operator_reads_it_in_the_browser(new_context: Any, site: Any) -> None:
    server, _services = site
    operator = login(new_context(), server.url, "operator")
    operator.fill("#intake-phone", "13803917788")
    operator.fill("#intake-form input[name=title]", "小区路灯不亮")
    operator.fill("#intake-form textarea[name=body]", "幸福小区3号楼前路灯连续一周不亮，晚上出行不安全。")
    operator.click("#intake-form button[type=submit]")
    operator.wait_for_selector("#done")
    number = operator.inner_text("#ticket-number").strip()

    chief = login(new_context(), server.url, "supervisor")
    chief.click("#nav-quality")
    sampled = chief.locator(f"#sample-{number}")
    sampled.wait_for()
    assert "小区路灯不亮" in sampled.inner_text() and "仅受理" in sampled.inner_text()
    sampled.screenshot(path=str(ARTIFACTS / "quality-sample.png"))
    sampled.locator("input[name=score_service]").fill("18")
    sampled.locator("input[name=score_intake]").fill("30")
    sampled.locator("input[name=score_routing]").fill("25")
    assert sampled.locator("input[name=score_reply]").count() == 0   # not answered at intake: full points
    sampled.locator("textarea[name=comment]").fill(COMMENT)
    sampled.get_by_role("button", name="保存质检").click()
    chief.wait_for_selector("#done")
    assert chief.inner_text("#done") == "已保存质检结果。"
    assert chief.locator(f"#sample-{number}").count() == 0
    row = chief.locator(f"#recent-inspections #inspection-{number}")
    assert "93" in row.inner_text() and COMMENT in row.inner_text()
    Shots()(chief, "quality")

    operator.click("#nav-my-quality")
    operator.wait_for_selector("#my-inspections")
    mine = operator.locator(f"#inspection-{number}")
    assert COMMENT in mine.inner_text() and "督办员 李强" in mine.inner_text()
    assert operator.inner_text("#my-average") == "93.0"
    operator.locator("#my-inspections").screenshot(path=str(ARTIFACTS / "my-quality.png"))
