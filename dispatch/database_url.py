"""The database URL as people write it, made into the one SQLAlchemy uses, or refused with a
one-line reason naming the setting (never a traceback, never the password)."""
from __future__ import annotations

SETTING = "HOTLINE_DATABASE_URL"
# psycopg 3 is the one PostgreSQL driver installed; SQLAlchemy's default for a bare
# postgresql:// is psycopg2, and it does not know postgres:// (Heroku's and libpq's spelling).
PG_DRIVER = "postgresql+psycopg://"
_PG_SPELLINGS = ("postgres://", "postgresql://", "postgres+psycopg://")
EXAMPLES = "sqlite:///hotline.db, postgresql://user:password@host:5432/db"


class BadDatabaseUrl(ValueError):
    """A setting that names no database we can use; str() is the one line to show."""

    def __init__(self, reason_zh: str, reason_en: str) -> None:
        super().__init__(f"{SETTING} 无效：{reason_zh}。{SETTING} is not usable: {reason_en} "
                         f"(e.g. {EXAMPLES})")


def normalise(url: str) -> str:
    """'postgres://u@h/db' -> 'postgresql+psycopg://u@h/db'; SQLite URLs unchanged."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    text = url.strip()
    for spelling in _PG_SPELLINGS:
        if text.lower().startswith(spelling):
            text = PG_DRIVER + text[len(spelling):]
            break
    try:
        parsed = make_url(text)
    except (ArgumentError, ValueError):
        # The value itself is not shown: it may hold a password.
        raise BadDatabaseUrl("不是数据库地址", "not a database URL") from None
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend == "sqlite" and driver == "pysqlite":
        return text
    if backend == "postgresql" and driver == "psycopg":
        return text
    raise BadDatabaseUrl(f"不支持的数据库 {parsed.drivername}，只支持 SQLite 和 PostgreSQL",
                         f"{parsed.drivername} is not supported, only SQLite and PostgreSQL")


def unreachable_message(url: str, detail: str) -> str:
    """One line for a database that cannot be opened or connected to."""
    from dispatch.db import display_url

    first = detail.strip().splitlines()[0] if detail.strip() else ""
    return (f"无法连接数据库（{SETTING}={display_url(url)}）：请检查地址、用户、密码和数据库是否存在。"
            f" Cannot open the database in {SETTING}: {first}")
