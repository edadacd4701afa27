"""The Alembic migrations build exactly the schema the models describe, on either database."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from dispatch import text_search
from dispatch.models import Base


def _not_search_index(obj: object, name: str | None, kind: str, reflected: bool, compare_to: object) -> bool:
    # The PostgreSQL-only search indexes live in dispatch/text_search.py, as the audit triggers
    # live in dispatch/audit.py: not in the models, which describe both databases.
    return not (kind == "index" and name in text_search.INDEXES)


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": _not_search_index})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
