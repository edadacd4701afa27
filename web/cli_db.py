"""The database as a `hotline` subcommand opens it: the newest schema, then an engine and
its sessions. Imported lazily by each command, so `hotline --help` loads no SQLAlchemy."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from dispatch.clock import CHINA

if TYPE_CHECKING:
    from web.config import Settings


def open_database(get_settings: Callable[[], Settings]) -> tuple[Any, Any]:
    """(engine, sessionmaker) after pending migrations; the caller disposes the engine."""
    from dispatch import db

    settings = get_settings()
    db.upgrade(settings.database_url)
    engine = db.make_engine(settings.database_url)
    return engine, db.make_sessionmaker(engine)


@contextmanager
def database_session(get_settings: Callable[[], Settings], *, write: bool = False) -> Iterator[Any]:
    """One session for a command, in one transaction when it writes. A refused change ends the
    command with its reason in Chinese; the engine is disposed either way."""
    import click

    from dispatch.errors import DispatchError
    from web.messages import describe_for_console

    engine, sessions = open_database(get_settings)
    try:
        with (sessions.begin() if write else sessions()) as session:
            yield session
    except DispatchError as exc:
        raise click.ClickException(describe_for_console(exc)) from None
    finally:
        engine.dispose()


def cli_actor():  # type: ignore[no-untyped-def]
    """Who acts from the command line, in the staff activity log."""
    from dispatch.actors import Actor

    return Actor.system("cli")


def when(moment: dt.datetime | None) -> str:
    """A moment in a command's table, in China time as the pages show it; '-' for none."""
    if moment is None:
        return "-"
    if moment.tzinfo is None:   # stored as UTC
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
