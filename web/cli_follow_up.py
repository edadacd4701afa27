"""`hotline follow-up`: the follow-up queue and closing what nobody rated, from a shell or cron."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import click

if TYPE_CHECKING:
    from web.config import Settings


def follow_up_group(settings_of: Callable[[], Settings]) -> click.Group:
    @click.group(name="follow-up", help="回访: resolved tickets waiting for a rating.")
    def group() -> None:
        pass

    @group.command(name="list", help="The follow-up queue, oldest resolution first.")
    @click.option("--limit", default=50, show_default=True, type=int)
    def list_due(limit: int) -> None:
        from dispatch import follow_up
        from web.services import Services

        services = Services.build(settings_of())
        try:
            rows = services.run_sync(lambda s: [(t.number, t.resolved_at, t.follow_up_attempts, t.title)
                                                for t in follow_up.due(s, limit=limit)])
        finally:
            services.close()
        for number, resolved_at, attempts, title in rows:
            click.echo(f"{number}  resolved {resolved_at:%Y-%m-%d %H:%M}  tries {attempts}  {title[:40]}")
        click.echo(f"{len(rows)} waiting")

    @group.command(name="close-unrated", help="Close, as not rated, every resolved ticket nobody rated "
                   "within HOTLINE_FOLLOW_UP_CLOSE_AFTER_DAYS (the server also does this every 10 minutes).")
    def close_unrated() -> None:
        from dispatch import follow_up
        from dispatch.clock import utcnow
        from web.services import Services

        services = Services.build(settings_of())
        try:
            closed = services.run_sync(lambda s: follow_up.close_unrated_resolved(s, services.follow_up,
                                                                                  now=utcnow(), batch=100_000))
        finally:
            services.close()
        click.echo(f"closed {len(closed)} resolved tickets as not rated")

    return group
