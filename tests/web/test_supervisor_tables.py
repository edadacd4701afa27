"""The dashboard's tables word their cells as the page and the CSV show them."""
from __future__ import annotations

import datetime as dt

from web.pages.supervisor import FIGURE, INT, RATE, SECONDS, TEXT, TIME, Table
from web.pages.labels import local_time


def test_each_cell_is_worded_and_aligned_by_its_column_kind() -> None:
    moment = dt.datetime(2026, 11, 3, 2, 30, tzinfo=dt.timezone.utc)
    table = Table("t", "T", [("名称", TEXT), ("数", INT), ("率", RATE), ("时", TIME), ("秒", SECONDS), ("值", FIGURE)],
                  [["住建局", 3, 0.5, moment, 12.4, "71.4%"], [None, 0, None, None, None, "—"]])
    assert table.cells() == [
        [("k-text", "住建局"), ("k-int num", "3"), ("k-rate num", "50.0%"), ("k-time", local_time(moment)),
         ("k-seconds num", "12 秒"), ("k-figure num", "71.4%")],
        [("k-text", "—"), ("k-int num", "0"), ("k-rate num", "—"), ("k-time", "—"), ("k-seconds num", "—"),
         ("k-figure num", "—")]]


def test_the_rows_are_written_as_html_with_text_escaped_links_and_actions() -> None:
    table = Table("t", "T", [("工单号", TEXT), ("标题", TEXT), ("数", INT)],
                  [["20261103-0001", '<script>alert("x")</script>', 3], ["20261103-0002", "路灯 & 井盖", 0]],
                  links=["20261103-0001", "20261103-0002"])
    html = table.rows_html(lambda number, i: f'<button value="{number}">{i}</button>')
    assert html == (
        '<tr><td class="k-text"><a href="/tickets/20261103-0001">20261103-0001</a></td>'
        '<td class="k-text">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</td><td class="k-int num">3</td>'
        '<td class="actions"><button value="20261103-0001">0</button></td></tr>\n'
        '<tr><td class="k-text"><a href="/tickets/20261103-0002">20261103-0002</a></td>'
        '<td class="k-text">路灯 &amp; 井盖</td><td class="k-int num">0</td>'
        '<td class="actions"><button value="20261103-0002">1</button></td></tr>')
    # Without links or actions: plain cells; an empty table says so across every column.
    assert Table("u", "U", [("名称", TEXT)], [["<b>"]]).rows_html() == '<tr><td class="k-text">&lt;b&gt;</td></tr>'
    assert Table("e", "E", [("名称", TEXT), ("数", INT)], []).rows_html() == \
        '<tr><td colspan="2" class="empty">暂无</td></tr>'
    assert Table("e", "E", [("名称", TEXT), ("数", INT)], []).rows_html(lambda number, i: "") == \
        '<tr><td colspan="3" class="empty">暂无</td></tr>'
