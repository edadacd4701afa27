"""The database as a `hotline` subcommand opens it: the newest schema, then an engine and
its sessions. Imported lazily by each command, so `hotline --help` loads no SQLAlchemy."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from web.config import Settings


def open_database(get_settings: Callable[[], Settings]) -> tuple[Any, Any]:
    """(engine, sessionmaker) after pending migrations; the caller disposes the engine."""
    from dispatch import db

    settings = get_settings()
    db.upgrade(settings.database_url)
    engine = db.make_engine(settings.database_url)
    return engine, db.make_sessionmaker(engine)
