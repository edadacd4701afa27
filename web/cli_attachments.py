"""`hotline attachments`: the photos' retention period (HOTLINE_ATTACHMENT_RETENTION_DAYS), from a
shell or cron; the server's scheduler does the same a batch every 10 minutes. And the thumbnails
of photos stored before thumbnails were, drawn once for all rather than at each one's first view."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import click

if TYPE_CHECKING:
    from web.config import Settings


def attachments_group(settings_of: Callable[[], Settings]) -> click.Group:
    @click.group(name="attachments", help="Photos (attachments) the tickets hold.")
    def group() -> None:
        pass

    @group.command(name="expire", help="Remove the photos of tickets finished longer ago than "
                   "HOTLINE_ATTACHMENT_RETENTION_DAYS (or --days), a batch a transaction, each with a "
                   "`detach` event in its ticket's log; prints the progress.")
    @click.option("--days", type=click.IntRange(min=1), default=None,
                  help="this period instead of the setting's")
    @click.option("--batch", type=click.IntRange(min=1), default=500, show_default=True)
    @click.option("--dry-run", is_flag=True, help="count what would be removed, remove nothing")
    def expire(days: int | None, batch: int, dry_run: bool) -> None:
        from dispatch import attachment_retention
        from dispatch.clock import utcnow
        from web.services import Services

        settings = settings_of()
        days = days or settings.attachment_retention_days
        if days <= 0:
            raise click.ClickException("HOTLINE_ATTACHMENT_RETENTION_DAYS is 0 (photos kept as long as their "
                                       "ticket): set it, or give --days")
        services = Services.build(settings)
        now = utcnow()
        try:
            total = services.run_sync(lambda s: attachment_retention.count_expired(s, days, now))
            click.echo(f"{total} photos of tickets finished {days} days ago or more")
            if dry_run:
                return
            removed = 0
            while True:
                swept = services.run_sync(lambda s: attachment_retention.sweep(s, days, now=now, batch=batch))
                removed += swept.photos
                if swept.photos:
                    click.echo(f"removed {removed}/{total}")
                if not swept.more:
                    break
        finally:
            services.close()
        click.echo(f"removed {removed} photos")

    @group.command(name="thumbnails", help="Draw and store the thumbnails of photos stored before "
                   "thumbnails were (the ticket page otherwise draws each at its first view), a batch a "
                   "transaction; prints the progress. A photo that cannot be drawn is counted and left.")
    @click.option("--batch", type=click.IntRange(min=1), default=100, show_default=True)
    @click.option("--dry-run", is_flag=True, help="count the photos without one, draw nothing")
    def thumbnails(batch: int, dry_run: bool) -> None:
        from dispatch import attachments
        from web.services import Services

        services = Services.build(settings_of())
        drawn = unreadable = last_id = 0
        try:
            total = services.run_sync(attachments.count_without_thumbnail)
            click.echo(f"{total} photos without a thumbnail")
            if dry_run or not total:
                return
            while True:
                done = services.run_sync(
                    lambda s: attachments.draw_missing_thumbnails(s, after=last_id, batch=batch))
                drawn, unreadable, last_id = drawn + done.drawn, unreadable + done.unreadable, done.last_id
                click.echo(f"drawn {drawn}/{total}" + (f", {unreadable} unreadable" if unreadable else ""))
                if not done.more:
                    break
        finally:
            services.close()
        click.echo(f"drew {drawn} thumbnails" + (f"; {unreadable} photos could not be drawn" if unreadable else ""))

    return group
