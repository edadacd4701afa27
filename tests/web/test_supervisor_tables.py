"""The dashboard's tables word their cells as the page and the CSV show them."""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from dispatch import handover
from dispatch.actors import Actor
from dispatch.clock import local_date, utcnow
from dispatch.reports import Period
from dispatch.units import City
from dispatch.vocabulary import EmergencyService
from tests.dispatch.helpers import new_ticket
from web.pages.supervisor import FIGURE, INT, RATE, SECONDS, TEXT, TIME, Table, figure_tables
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


def test_a_badge_counts_tickets_where_a_table_sums_them_and_says_what_it_counts(
        session: Session, units: City, operator: Actor) -> None:
    """即时转（按去向） lists the four destinations; with five tickets handed over its badge says
    5 件, not 4; the units table says its count is of units."""
    for service in (EmergencyService.POLICE,) * 3 + (EmergencyService.FIRE,) * 2:
        handover.handover(session, new_ticket(session), operator, service)
    session.flush()
    today = local_date(utcnow())
    tables = {t.name: t for t in figure_tables(session, Period(today, today)).tables}
    handovers = tables["handovers"]
    assert len(handovers.rows) == 4
    assert (handovers.count, handovers.count_word) == (5, "件")
    assert tables["units"].count_word == "个单位" and tables["categories"].count_word == "个分类"
    assert not tables["routing_feedback"].counted     # a row per week and category: nothing to count
