"""`hotline report` as tables: rich measures a Chinese character as two columns, so unit and
queue names line up in a terminal, and the queues and agents get tables of their own.

The words are the report's own (bilingual, for administrators at a shell); the pages say the
same figures in Chinese only.
"""
from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.table import Table

PIPE_WIDTH = 160

TICKET_FIGURES = {
    "received": "受理 received", "answered": "直接办结 answered", "transferred": "转办 transferred",
    "transfers": "转办次数 transfers", "accepted_transfers": "签收 accepted transfers",
    "returned_transfers": "退单 returned transfers", "resolved": "办结 resolved",
    "resolved_on_time": "按期办结 resolved on time", "rated": "评价 rated",
    "satisfied_or_partly": "满意+基本满意 satisfied or partly", "followed_up": "回访 followed up",
    "rated_phone": "电话评价 rated by phone", "rated_web": "网站评价 rated on the web",
    "rated_sms": "短信评价 rated by SMS", "handed_over": "即时转 handed over", "invalid": "无效 invalid",
    "merged": "合并 merged", "overdue": "超期 overdue", "transfer_rate": "转办率 transfer rate",
    "successful_transfer_rate": "成功转办率 successful transfer rate", "return_rate": "退单率 return rate",
    "resolution_rate": "办结率 resolution rate", "on_time_rate": "按期办结率 on-time rate",
    "satisfaction_rate": "满意率 satisfaction rate", "follow_up_rate": "回访率 follow-up rate",
    "rating_channels": "评价渠道 rating channels",
}
CHANNELS = {"phone": "电话", "web": "网站", "sms": "短信"}
CALL_FIGURES = {
    "offered": "呼入 offered", "answered": "接听 answered", "abandoned": "放弃 abandoned",
    "answer_rate": "接通率 answer rate", "abandonment_rate": "放弃率 abandonment rate",
    "asa_seconds": "平均应答 s ASA", "service_level": "服务水平 service level",
    "aht_seconds": "平均通话 s AHT", "short_abandoned": "短时放弃 short abandons",
    "answered_within_15s": "15秒内接听 answered within 15 s", "answer_rate_15s": "15秒接通率 15-second answer rate",
    "service_level_seconds": "服务水平秒数 service level s",
    "answered_within_service_level": "服务水平内接听 answered within it",
}
CALL_COLUMNS = {"offered": "呼入", "answered": "接听", "abandoned": "放弃", "answer_rate": "接通率",
                "abandonment_rate": "放弃率", "asa_seconds": "平均应答秒", "service_level": "服务水平",
                "aht_seconds": "平均通话秒"}
UNIT_COLUMNS = (("received", "受理"), ("return_rate", "退单率"), ("resolution_rate", "办结率"),
                ("on_time_rate", "按期办结率"), ("satisfaction_rate", "满意率"), ("overdue", "超期"))
CATEGORY_COLUMNS = (("received", "受理"), ("resolution_rate", "办结率"), ("on_time_rate", "按期办结率"),
                    ("satisfaction_rate", "满意率"), ("overdue", "超期"))


def print_report(figures: dict[str, Any], console: Console | None = None) -> None:
    """Tickets, units, categories and calls of summary()'s figures, one table each."""
    # Piped or captured output has no width of its own: wide enough that no name is cut.
    console = console or Console(highlight=False, width=None if sys.stdout.isatty() else PIPE_WIDTH)
    period = figures["period"]
    tickets = Table(title=f"工单 Tickets received {period['since']} .. {period['until']}", title_justify="left")
    tickets.add_column("指标 figure")
    tickets.add_column("值 value", justify="right")
    for key, value in figures["tickets"].items():
        tickets.add_row(TICKET_FIGURES.get(key, key), _cell(key, value))
    console.print(tickets)

    if figures["units"]:
        units = Table(title="承办单位 By unit", title_justify="left")
        units.add_column("单位 unit", overflow="fold")
        for _key, heading in UNIT_COLUMNS:
            units.add_column(heading, justify="right")
        for row in figures["units"]:
            units.add_row(row["unit_name"], *(_cell(key, row.get(key)) for key, _ in UNIT_COLUMNS))
        console.print(units)

    by_category = sorted((figures.get("categories") or {}).items(), key=lambda item: -item[1]["received"])
    if by_category:
        categories = Table(title="类别 By category", title_justify="left")
        categories.add_column("类别 category", overflow="fold")
        for key, heading in CATEGORY_COLUMNS:
            categories.add_column(heading, justify="right")
        for name, row in by_category:
            categories.add_row(name or "（未分类）", *(_cell(key, row.get(key)) for key, _ in CATEGORY_COLUMNS))
        console.print(categories)

    calls = dict(figures["calls"])
    queues, agents = calls.pop("queues", {}), calls.pop("agents", {})
    totals = Table(title="话务 Calls", title_justify="left")
    totals.add_column("指标 figure")
    totals.add_column("值 value", justify="right")
    for key, value in calls.items():
        totals.add_row(CALL_FIGURES.get(key, key), _cell(key, value))
    console.print(totals)
    for title, heading, rows in (("按队列 By queue", "队列 queue", queues), ("按坐席 By agent", "坐席 agent", agents)):
        if rows:
            console.print(_call_table(title, heading, rows))


def _call_table(title: str, heading: str, rows: dict[str, dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(heading, overflow="fold")
    for heading in CALL_COLUMNS.values():
        table.add_column(heading, justify="right")
    for name, values in rows.items():
        table.add_row(name or "—", *(_cell(key, values.get(key)) for key in CALL_COLUMNS))
    return table


def _cell(key: str, value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict):  # the rating channels
        return " · ".join(f"{CHANNELS.get(k, k)} {v}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:.1%}" if key.endswith("rate") or key in ("service_level", "answer_rate_15s") else f"{value:.1f}"
    return str(value)
