"""`hotline audit verify` (walk every ticket's hash chain) and `hotline db grant-app-role`
(a PostgreSQL runtime role that cannot rewrite the audit log)."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from web.config import Settings


def audit_group(get_settings: Callable[[], Settings]) -> click.Group:
    @click.group(name="audit", help="The ticket events' audit log.")
    def group() -> None:
        pass

    @group.command(help="Check every ticket's chain of event hashes; name each ticket whose "
                   "history was altered and exit non-zero if any was.")
    def verify() -> None:
        from dispatch import audit, db

        engine = db.make_engine(get_settings().database_url)
        try:
            with db.make_sessionmaker(engine)() as session:
                checked, breaks = audit.verify(session)
        finally:
            engine.dispose()
        for found in breaks:
            where = f" (event {found.event_id})" if found.event_id is not None else ""
            click.echo(f"ALTERED {found.ticket_number}{where}: {found.problem}")
        click.echo(f"{checked} events checked, {len(breaks)} tickets with an altered history")
        if breaks:
            raise SystemExit(1)

    return group


def grant_app_role_command(get_settings: Callable[[], Settings]) -> click.Command:
    @click.command(name="grant-app-role", help="PostgreSQL: let ROLE (an existing login role) read and "
                   "write every table but only INSERT into ticket_events. Run it as the owner after "
                   "each `db upgrade`; serve with HOTLINE_DATABASE_URL naming ROLE. --print shows the SQL.")
    @click.argument("role")
    @click.option("--print", "print_only", is_flag=True, help="print the SQL instead of running it")
    def grant_app_role(role: str, print_only: bool) -> None:
        from dispatch import audit, db

        statements = audit.grant_app_role_sql(role)
        if print_only:
            click.echo(";\n".join(statements) + ";")
            return
        engine = db.make_engine(get_settings().database_url)
        try:
            if engine.dialect.name != "postgresql":
                raise click.ClickException("roles exist on PostgreSQL only; SQLite relies on its triggers")
            with engine.begin() as connection:
                for statement in statements:
                    connection.exec_driver_sql(statement)
        finally:
            engine.dispose()
        click.echo(f"{role}: may only INSERT into ticket_events")

    return grant_app_role
