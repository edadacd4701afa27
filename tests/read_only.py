"""A database that cannot take writes, for real: SQLite opened read-only (``mode=ro``) or
PostgreSQL sessions with ``default_transaction_read_only`` on. Nothing global is changed, so
nothing needs resetting, and other tests keep their writable database."""
from __future__ import annotations

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

from dispatch import db


def read_only_url(database_url: str) -> str:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///file:{url.database}?mode=ro&uri=true"
    return database_url + ("&" if "?" in database_url else "?") + "options=-c%20default_transaction_read_only%3Don"


class Switch:
    """An engine on the test database whose connections are read-only until ``writable()``."""

    def __init__(self, database_url: str) -> None:
        self.read_only = True
        self.engine: Engine = db.make_engine(database_url)
        self._sqlite = self.engine.dialect.name == "sqlite"
        event.listen(self.engine, "connect", self._on_connect)

    def _on_connect(self, dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        if self._sqlite:
            dbapi_connection.execute(f"PRAGMA query_only = {1 if self.read_only else 0}")
        else:
            cursor = dbapi_connection.cursor()
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION "
                           + ("READ ONLY" if self.read_only else "READ WRITE"))
            cursor.close()
            dbapi_connection.commit()

    def writable(self) -> None:
        self.read_only = False
        self.engine.dispose()  # pooled connections were opened read-only
