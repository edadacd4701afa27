"""`hotline open311 keys ...`: API keys of the civic apps that file requests through Open311
GeoReport v2 (/open311/v2/), made, listed and revoked by an administrator."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from dispatch.numbers import MAX_INT

if TYPE_CHECKING:
    from web.config import Settings


def open311_group(get_settings: Callable[[], Settings]) -> click.Group:
    """Settings are read when a command runs, not when the CLI is built."""

    @click.group(name="open311", help="Open311 GeoReport v2 (/open311/v2/): clients' API keys.")
    def group() -> None:
        pass

    @group.group(name="keys", help="API keys of Open311 clients (needed to file requests, not to read).")
    def keys() -> None:
        pass

    @keys.command(name="create", help="Make a key for the client NAME and print it (shown only this once).")
    @click.argument("name")
    def create(name: str) -> None:
        from dispatch import open311_keys
        from web.cli_db import cli_actor, database_session

        with database_session(get_settings, write=True) as session:
            row, raw = open311_keys.issue(session, cli_actor(), name)
            client_id = row.id
        click.echo(raw)
        click.echo(f"open311 client {client_id} ({name}): send it as the api_key field of "
                   "POST /open311/v2/requests.json", err=True)

    @keys.command(name="list", help="Every client: id, name, created, last used, revoked.")
    def list_keys() -> None:
        from dispatch import open311_keys
        from web.cli_db import database_session, when

        with database_session(get_settings) as session:
            click.echo(f"{'id':>4}  {'name':<24} {'created':<17} {'last used':<17} revoked")
            for client in open311_keys.all_clients(session):
                click.echo(f"{client.id:>4}  {client.name[:24]:<24} {when(client.created_at):<17} "
                           f"{when(client.last_used_at):<17} {when(client.revoked_at)}")

    @keys.command(name="revoke", help="End the key of the client with this id at once.")
    @click.argument("client_id", type=click.IntRange(min=1, max=MAX_INT))
    def revoke(client_id: int) -> None:
        from dispatch import open311_keys
        from web.cli_db import cli_actor, database_session

        with database_session(get_settings, write=True) as session:
            open311_keys.end(session, cli_actor(), client_id)
        click.echo(f"open311 client {client_id} revoked")

    return group
