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
