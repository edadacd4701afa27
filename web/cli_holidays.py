"""`hotline holidays ...`: the holiday calendar deadlines are counted on, listed by year and
imported from the State Council's notice as lines (the same checks as the holidays page)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from web.config import Settings


def holidays_group(get_settings: Callable[[], Settings]) -> click.Group:
    """Settings are read when a command runs, not when the CLI is built."""

    @click.group(name="holidays", help="Holidays and make-up workdays that deadlines count with.")
    def group() -> None:
        pass

    @group.command(name="list", help="A year's holidays and make-up workdays, and what the year stands on.")
    @click.option("--year", type=click.IntRange(2000, 2099), help="default: this year (China time)")
    @click.option("--json", "as_json", is_flag=True, help="print JSON, as GET /api/v1/holidays gives it")
    def list_days(year: int | None, as_json: bool) -> None:
        import json

        from dispatch import calendar_days
        from dispatch.clock import local_date, utcnow
        from web import messages
        from web.api import holidays_json
        from web.cli_db import database_session
        from web.pages import labels

        today = local_date(utcnow())
        with database_session(get_settings) as session:
            view = calendar_days.year_view(session, year or today.year)
        if as_json:
            click.echo(json.dumps(holidays_json(view), ensure_ascii=False, indent=2))
            return
        click.echo(messages.YEAR_BASIS.format(year=view.year, basis=labels.COVERAGE_ZH[view.coverage.basis]))
        if view.coverage.basis == "weekends":
            click.echo(labels.coverage_warning(view.year))
        if view.coverage.missing:
            click.echo(labels.coverage_missing(view.year, view.coverage.missing))
        for d in view.days:
            source = f"{d.set_by} {labels.local_time(d.set_at)}" if d.set_by else messages.FROM_PACKAGE
            click.echo(messages.CALENDAR_DAY.format(day=d.day.isoformat(), weekday=labels.WEEKDAYS_ZH[d.day.weekday()],
                                                    kind=labels.calendar_kind_label(d.kind), name=d.name or "",
                                                    source=source))

    @group.command(name="import", help="Import lines like '2027-02-06..2027-02-13 holiday 春节' from FILE "
                                       "('-' for standard input); nothing is written if any line is wrong.")
    @click.argument("file", type=click.File("rb"))
    @click.option("--dry-run", is_flag=True, help="only show what would change")
    def import_file(file, dry_run: bool) -> None:  # type: ignore[no-untyped-def]
        import getpass

        from dispatch import calendar_days
        from dispatch.actors import Actor
        from dispatch.text_files import decode_text
        from web import messages
        from web.cli_db import database_session
        from web.pages import labels

        with database_session(get_settings, write=True) as session:
            text = decode_text(file.read(), Path(file.name).name)
            planned = calendar_days.plan_import(session, text)
            for p in planned.problems:
                click.echo(messages.describe_at_line(p.line, p.error), err=True)
            if planned.problems:
                raise click.ClickException(messages.DAYS_NOT_IMPORTED.format(file=Path(file.name).name,
                                                                             count=len(planned.problems)))
            new_day = messages.DAY_TO_ADD if dry_run else messages.DAY_ADDED
            for e in planned.new:
                click.echo(new_day.format(day=e.day.isoformat(), kind=labels.calendar_kind_label(e.kind), name=e.name))
            if planned.unchanged:
                click.echo(messages.DAYS_UNCHANGED.format(count=len(planned.unchanged)))
            if not dry_run and planned.new:
                calendar_days.apply(session, planned, Actor.system(f"cli:{getpass.getuser()}"))

    return group
