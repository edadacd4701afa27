"""The database setting as people write it: postgres:// and postgresql:// both reach psycopg 3;
anything else is refused in one line that names the setting and hides the password."""
from __future__ import annotations

import pytest

from dispatch import db
from dispatch.database_url import BadDatabaseUrl, normalise
from web.config import Settings


@pytest.mark.parametrize(("given", "used"), [
    ("postgres://hotline:pw@db:5432/hotline", "postgresql+psycopg://hotline:pw@db:5432/hotline"),
    ("postgresql://hotline@db/hotline", "postgresql+psycopg://hotline@db/hotline"),
    ("postgresql+psycopg://hotline@db/hotline", "postgresql+psycopg://hotline@db/hotline"),
    ("  sqlite:///hotline.db ", "sqlite:///hotline.db"),
    ("sqlite://", "sqlite://"),
])
def test_the_usual_spellings_are_accepted(given: str, used: str) -> None:
    assert normalise(given) == used


def test_settings_and_engines_take_the_postgres_spelling() -> None:
    settings = Settings.from_env({"HOTLINE_DATABASE_URL": "postgres://hotline@db/hotline"})
    assert settings.database_url == "postgresql+psycopg://hotline@db/hotline"
    engine = db.make_engine("postgres://hotline@db/hotline")  # no connection is made
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
    engine.dispose()


@pytest.mark.parametrize("given", ["foo", "mysql://root:secret@db/hotline", "postgresql+psycopg2://u:secret@h/d",
                                   "sqlite+aiosqlite:///x.db", "://secret@"])
def test_other_urls_are_refused_in_one_line_without_the_password(given: str) -> None:
    with pytest.raises(BadDatabaseUrl) as refused:
        normalise(given)
    message = str(refused.value)
    assert message.startswith("HOTLINE_DATABASE_URL 无效") and "\n" not in message and "secret" not in message
    with pytest.raises(ValueError, match="HOTLINE_DATABASE_URL"):
        Settings.from_env({"HOTLINE_DATABASE_URL": given})
