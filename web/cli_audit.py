"""`hotline audit verify` (walk every ticket's hash chain) and `hotline db grant-app-role`
(a PostgreSQL runtime role that cannot rewrite the audit log)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
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


def _password(path: Path) -> str:
    try:
        password = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"--login-password-file: cannot read {path} "
                                   f"({getattr(exc, 'strerror', None) or type(exc).__name__})") from None
    if not password or "\n" in password or "\x00" in password:
        raise click.ClickException(f"--login-password-file: {path} must hold the password alone, on one line")
    return password


def grant_app_role_command(get_settings: Callable[[], Settings]) -> click.Command:
    @click.command(name="grant-app-role", help="PostgreSQL: let ROLE (an existing login role) read and "
                   "write every table but only INSERT into ticket_events. Run it as the owner after "
                   "each `db upgrade`; serve with HOTLINE_DATABASE_URL naming ROLE. --print shows the SQL.")
    @click.argument("role")
    @click.option("--print", "print_only", is_flag=True, help="print the SQL instead of running it")
    @click.option("--login-password-file", type=click.Path(dir_okay=False, path_type=Path),
                  help="make ROLE a login role with the password in this file first (created when "
                  "missing, the password set again each run: a deployment's one-shot migration)")
    def grant_app_role(role: str, print_only: bool, login_password_file: Path | None) -> None:
        from sqlalchemy import text

        from dispatch import audit, db

        statements = audit.grant_app_role_sql(role)
        if print_only:
            click.echo(";\n".join(statements) + ";")
            return
        password = _password(login_password_file) if login_password_file else None
        engine = db.make_engine(get_settings().database_url)
        try:
            if engine.dialect.name != "postgresql":
                raise click.ClickException("roles exist on PostgreSQL only; SQLite relies on its triggers")
            with engine.begin() as connection:
                if password is not None:
                    exists = connection.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role})
                    connection.exec_driver_sql(audit.login_role_sql(role, password, exists=bool(exists)))
                for statement in statements:
                    connection.exec_driver_sql(statement)
        finally:
            engine.dispose()
        click.echo(f"{role}: may only INSERT into ticket_events")

    return grant_app_role
