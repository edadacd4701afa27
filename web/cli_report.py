"""`hotline report` as tables: rich measures a Chinese character as two columns, so unit and
queue names line up in a terminal, and the queues and agents get tables of their own.

The words are the report's own (bilingual, for administrators at a shell), in
web/messages.py with the command's other lines; the pages say the same figures in Chinese only.
"""
from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from web import messages

PIPE_WIDTH = 160


def print_report(figures: dict[str, Any], console: Console | None = None) -> None:
    """Tickets, units, categories and calls of summary()'s figures, one table each."""
    # Piped or captured output has no width of its own: wide enough that no name is cut.
    console = console or Console(highlight=False, width=None if sys.stdout.isatty() else PIPE_WIDTH)
    period = figures["period"]
    tickets = Table(title=messages.REPORT_TICKETS_TITLE.format(since=period["since"], until=period["until"]),
                    title_justify="left")
    tickets.add_column(messages.REPORT_FIGURE)
    tickets.add_column(messages.REPORT_VALUE, justify="right")
    for key, value in figures["tickets"].items():
        tickets.add_row(messages.REPORT_TICKET_FIGURES.get(key, key), _cell(key, value))
    console.print(tickets)

    if figures["units"]:
        units = Table(title=messages.REPORT_UNITS_TITLE, title_justify="left")
        units.add_column(messages.REPORT_UNIT, overflow="fold")
        for _key, heading in messages.REPORT_UNIT_COLUMNS:
            units.add_column(heading, justify="right")
        for row in figures["units"]:
            units.add_row(row["unit_name"], *(_cell(key, row.get(key)) for key, _ in messages.REPORT_UNIT_COLUMNS))
        console.print(units)

    by_category = sorted((figures.get("categories") or {}).items(), key=lambda item: -item[1]["received"])
    if by_category:
        categories = Table(title=messages.REPORT_CATEGORIES_TITLE, title_justify="left")
        categories.add_column(messages.REPORT_CATEGORY, overflow="fold")
        for key, heading in messages.REPORT_CATEGORY_COLUMNS:
            categories.add_column(heading, justify="right")
        for name, row in by_category:
            categories.add_row(name or messages.REPORT_NO_CATEGORY,
                               *(_cell(key, row.get(key)) for key, _ in messages.REPORT_CATEGORY_COLUMNS))
        console.print(categories)

    calls = dict(figures["calls"])
    queues, agents = calls.pop("queues", {}), calls.pop("agents", {})
    totals = Table(title=messages.REPORT_CALLS_TITLE, title_justify="left")
    totals.add_column(messages.REPORT_FIGURE)
    totals.add_column(messages.REPORT_VALUE, justify="right")
    for key, value in calls.items():
        totals.add_row(messages.REPORT_CALL_FIGURES.get(key, key), _cell(key, value))
    console.print(totals)
    for (title, heading), rows in ((messages.REPORT_BY_QUEUE, queues), (messages.REPORT_BY_AGENT, agents)):
        if rows:
            console.print(_call_table(title, heading, rows))


def _call_table(title: str, heading: str, rows: dict[str, dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(heading, overflow="fold")
    for heading in messages.REPORT_CALL_COLUMNS.values():
        table.add_column(heading, justify="right")
    for name, values in rows.items():
        table.add_row(name or "—", *(_cell(key, values.get(key)) for key in messages.REPORT_CALL_COLUMNS))
    return table


def _cell(key: str, value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict):  # the rating channels
        return " · ".join(f"{messages.REPORT_CHANNELS_ZH.get(k, k)} {v}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:.1%}" if key.endswith("rate") or key in ("service_level", "answer_rate_15s") else f"{value:.1f}"
    return str(value)
