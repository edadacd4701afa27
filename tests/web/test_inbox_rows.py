"""The inbox's rows made once, with each row's time left written in per request, read as the
rows rendered whole for that moment."""
from __future__ import annotations

import datetime as dt

from dispatch.unit_inbox import Line
from web.pages.labels import INBOX_STATES_ZH, PART_ROLES_ZH, PART_STATUS_ZH
from web.pages.site import make_templates
from web.pages.unit import InboxRows, RenderedRows

NOON = dt.datetime(2026, 12, 4, 4, 0, tzinfo=dt.timezone.utc)


def line(number: str, title: str, deadline: dt.datetime | None, **kw: object) -> Line:
    fields = dict(number=number, title=title, state="in_progress", request_type="complaint", urgency="normal",
                  deadline=deadline, received_at=NOON - dt.timedelta(days=3), deadline_class=None,
                  confidential=False, part=None, part_pending=False, lead_unit_id=None, escalations=0,
                  forward=None, overdue=False, near=False)
    fields.update(kw)
    return Line(**fields)  # type: ignore[arg-type]


def context(lines: list[Line]) -> dict[str, object]:
    return {"inbox": lines, "unit_names": {7: "城管局"}, "deadline_classes": {}, "part_roles": PART_ROLES_ZH,
            "part_status": PART_STATUS_ZH, "inbox_states": INBOX_STATES_ZH}


def test_rows_made_once_read_as_rendered_at_each_moment() -> None:
    render = make_templates().get_template("_inbox_rows.html").render
    lines = [line("20261201-0001", "路灯 <不亮> & 井盖", NOON - dt.timedelta(minutes=30), overdue=True),
             line("20261201-0002", "噪音", NOON + dt.timedelta(hours=5), near=True, escalations=2),
             line("20261201-0003", "占道", None, part="co", part_pending=True, lead_unit_id=7),
             line("20261201-0004", "漏水", NOON + dt.timedelta(days=3), forward=(7, "accepted"))]
    rows = InboxRows.made(render, context(lines))
    assert rows is not None and len(rows.deadlines) == 4
    for now in (NOON, NOON + dt.timedelta(minutes=59, seconds=30), NOON + dt.timedelta(hours=6)):
        whole = RenderedRows(render, context(lines)).html(now)
        assert rows.html(now) == whole and "超期" in whole
    # The unit's unread news about a row's ticket, read per request, tags the row.
    news = {"20261201-0002": ["addition", "reopened"]}
    whole = RenderedRows(render, context(lines)).html(NOON, news)
    assert rows.html(NOON, news) == whole
    assert '<span class="tag danger news" data-news="addition">市民补充</span>' in whole and "重办</span>" in whole
    assert whole.count("data-news=") == 2 and "data-news" not in rows.html(NOON)
    assert "&lt;不亮&gt; &amp; 井盖" in rows.html(NOON)


def test_a_text_holding_the_slot_is_rendered_whole() -> None:
    render = make_templates().get_template("_inbox_rows.html").render
    assert InboxRows.made(render, context([line("20261201-0001", "a\x00b", NOON)])) is None


def test_an_empty_inbox_says_so() -> None:
    render = make_templates().get_template("_inbox_rows.html").render
    rows = InboxRows.made(render, context([]))
    assert rows is not None and "没有待办工单" in rows.html(NOON)
