"""`hotline users list | set-password | set-extension | reactivate` and `hotline units list | retire`: the
administrator's pages on the command line. They go through the same dispatch functions
(dispatch/staff_admin.py, dispatch/unit_admin.py) and land in the staff activity log as
"cli"."""
from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from web.config import Settings

ROLE_NAMES = {"operator": "operator", "unit_staff": "unit staff", "supervisor": "supervisor", "admin": "admin"}


def add_user_commands(users: click.Group, get_settings: Callable[[], Settings]) -> None:
    """Settings are read when a command runs, not when the CLI is built."""

    @users.command(name="list", help="Every staff account: name, display name, role, unit, phone extension, "
                   "active, last login.")
    def list_users() -> None:
        from dispatch import staff_admin
        from web.cli_db import when

        rows = _read(get_settings, staff_admin.list_users)
        click.echo(table(["user", "name", "role", "unit", "extension", "active", "last login"],
                         [[u.username, u.display_name, ROLE_NAMES[u.role.value], u.unit_code or "-",
                           u.phone_extension or "-", "yes" if u.active else "no", when(u.last_login)] for u in rows]))

    @users.command(name="set-extension", help="Set the phone an operator answers at (7001, or PJSIP/7001), "
                   "so the call figures show their name; without EXTENSION, clear it.")
    @click.argument("username")
    @click.argument("extension", required=False, default="")
    def set_extension(username: str, extension: str) -> None:
        from dispatch import staff_admin
        from web.cli_db import cli_actor

        _write(get_settings, lambda s: staff_admin.set_phone_extension(s, cli_actor(), user_id_of(s, username),
                                                                      extension or None))
        click.echo(f"extension of {username}: {extension or 'none'}")

    @users.command(name="set-password", help="Set a new password (asked for, or one line from stdin with "
                   "--password-stdin); every session and API token of the account ends.")
    @click.argument("username")
    @click.option("--password-stdin", is_flag=True, help="read the password from the first line of stdin")
    def set_password(username: str, password_stdin: bool) -> None:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
        from dispatch import staff_admin
        from web.cli_db import cli_actor

        _write(get_settings, lambda s: staff_admin.reset_password(s, cli_actor(), user_id_of(s, username), password))
        click.echo(f"password of {username} changed; its sessions and API tokens ended")

    @users.command(name="reactivate", help="Let a deactivated account log in again (old sessions and "
                   "tokens stay ended).")
    @click.argument("username")
    def reactivate(username: str) -> None:
        from dispatch import staff_admin
        from web.cli_db import cli_actor

        _write(get_settings, lambda s: staff_admin.set_active(s, cli_actor(), user_id_of(s, username), True))
        click.echo(f"{username} reactivated")


def add_unit_commands(units: click.Group, get_settings: Callable[[], Settings]) -> None:
    @units.command(name="list", help="Every unit: code, name, kind, parent, active, active accounts.")
    def list_units() -> None:
        from dispatch import unit_admin

        rows = _read(get_settings, unit_admin.list_units)
        click.echo(table(["code", "name", "kind", "parent", "active", "staff"],
                         [[u.code, u.name, u.kind, u.parent_code or "-", "yes" if u.active else "no", str(u.staff)]
                          for u in rows]))


    @units.command(name="retire", help="Deactivate a unit. With --successor, its open tickets, owed co-handling and "
                   "forwarded parts and its catalogue entries move to that unit first (each ticket logs it with "
                   "--reason); a unit with open work is refused without one. Also frees what a unit retired "
                   "earlier left behind.")
    @click.argument("code")
    @click.option("--successor", default=None, help="code of the active unit that takes over its work")
    @click.option("--reason", default=None, help="why, written into each ticket's log (required with --successor)")
    def retire(code: str, successor: str | None, reason: str | None) -> None:
        from dispatch import unit_admin, unit_succession
        from dispatch.units import unit_by_code
        from web.cli_db import cli_actor

        def work(session) -> unit_succession.OpenWork:  # type: ignore[no-untyped-def]
            unit = unit_by_code(session, code)
            row = unit_admin.unit_row(session, unit.id)
            unit_admin.update_unit(session, cli_actor(), unit.id, name=row.name, kind=row.kind,
                                   parent_code=row.parent_code, active=False, successor_code=successor,
                                   reason=reason)
            return unit_succession.open_work(session, unit.id)

        left = _read_write(get_settings, work)
        click.echo(f"{code} retired" + (f"; its open work moved to {successor}" if successor else "")
                   + (f" ({left.entries} catalogue entries still name it)" if left.entries else ""))


def user_id_of(session, username: str) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from dispatch.models import StaffUser
    from web.messages import no_account

    found = session.scalar(select(StaffUser.id).where(StaffUser.username == username.strip()))
    if found is None:
        raise click.ClickException(no_account(username))
    return int(found)


def _read(get_settings: Callable[[], Settings], work):  # type: ignore[no-untyped-def]
    from web.cli_db import database_session

    with database_session(get_settings) as session:
        return work(session)


def _read_write(get_settings: Callable[[], Settings], work):  # type: ignore[no-untyped-def]
    from web.cli_db import database_session

    with database_session(get_settings, write=True) as session:
        return work(session)


def _write(get_settings: Callable[[], Settings], work) -> None:  # type: ignore[no-untyped-def]
    from web.cli_db import database_session

    with database_session(get_settings, write=True) as session:
        work(session)


def width(text: str) -> int:
    """Columns a terminal gives the text: Chinese characters take two."""
    from rich.cells import cell_len

    return cell_len(text)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Plain text, columns aligned (also under Chinese names), two spaces apart."""
    widths = [max([width(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c + " " * (w - width(c)) for c, w in zip(cells, widths)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])
