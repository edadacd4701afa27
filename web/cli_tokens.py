"""`hotline tokens ...`: bearer tokens of the staff API for a unit's own system (long-lived,
or for N days), listed and revoked by an administrator."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from dispatch.numbers import MAX_INT

if TYPE_CHECKING:
    from web.config import Settings


def tokens_group(get_settings: Callable[[], Settings]) -> click.Group:
    """Settings are read when a command runs, not when the CLI is built."""

    @click.group(name="tokens", help="Bearer tokens of the staff API (/api/v1/staff/...).")
    def group() -> None:
        pass

    @group.command(name="create", help="Make a token for USER and print it (shown only this once).")
    @click.argument("username")
    @click.option("--name", required=True, help="what the token is for, e.g. the unit's system")
    @click.option("--days", type=click.IntRange(min=1, max=3650), help="valid this many days (default: until revoked)")
    def create(username: str, name: str, days: int | None) -> None:
        from sqlalchemy import select

        from dispatch import api_tokens
        from dispatch.models import StaffUser
        from web.cli_db import cli_actor, database_session
        from web.messages import no_account

        with database_session(get_settings, write=True) as session:
            user = session.scalar(select(StaffUser).where(StaffUser.username == username))
            if user is None:
                raise click.ClickException(no_account(username))
            row, raw = api_tokens.issue(session, cli_actor(), user.id, name, days=days)
            until = row.expires_at.isoformat() if row.expires_at else "until revoked"
            token_id = row.id
        click.echo(raw)
        click.echo(f"token {token_id} for {username} ({name}), valid {until}; "
                   "send it as 'Authorization: Bearer <token>'", err=True)

    @group.command(name="list", help="Every token: id, user, name, created, expires, last used, revoked.")
    def list_tokens() -> None:
        from dispatch import api_tokens
        from web.cli_db import database_session, when

        with database_session(get_settings) as session:
            rows = api_tokens.all_tokens(session)
            click.echo(f"{'id':>4}  {'user':<16} {'name':<24} {'created':<17} {'expires':<17} "
                       f"{'last used':<17} revoked")
            for token, username in rows:
                click.echo(f"{token.id:>4}  {username[:16]:<16} {token.name[:24]:<24} {when(token.created_at):<17} "
                           f"{when(token.expires_at):<17} {when(token.last_used_at):<17} "
                           f"{when(token.revoked_at)}")

    @group.command(name="revoke", help="End the token with this id at once.")
    @click.argument("token_id", type=click.IntRange(min=1, max=MAX_INT))
    def revoke(token_id: int) -> None:
        from dispatch import api_tokens
        from web.cli_db import cli_actor, database_session

        with database_session(get_settings, write=True) as session:
            api_tokens.end(session, cli_actor(), token_id)
        click.echo(f"token {token_id} revoked")

    return group
