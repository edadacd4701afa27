"""staff_users.username_key: each username as people read it (NFKC, case folded), unique, so
that two admins adding "Admin" and "admin" at the same moment cannot both succeed

The accounts already there get their keys here. Where two already read alike (admin and
Admin, added before look-alikes were refused), the oldest keeps the key and the others keep
NULL: every account still logs in and acts as before, no new look-alike of any of them can be
added, and the pairs are logged for an administrator to look at. Failing the upgrade, or
renaming an account people log in with, would stop a city's hotline over it.

A unique index rather than a table constraint: SQLite cannot add a constraint without
copying the table, and ten tables' foreign keys point at this one.

Revision ID: 0039
Revises: 0038
"""
from __future__ import annotations

import logging
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None

log = logging.getLogger("dispatch.migrations")

users = sa.table("staff_users", sa.column("id", sa.Integer), sa.column("username", sa.String),
                 sa.column("username_key", sa.String))


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: a batch copy on SQLite would drop the table under
    # the foreign keys that point at it.
    op.add_column("staff_users", sa.Column("username_key", sa.String(length=1440), nullable=True))
    fill_keys(op.get_bind())
    op.create_index("ix_staff_users_username_key", "staff_users", ["username_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_staff_users_username_key", table_name="staff_users")
    op.drop_column("staff_users", "username_key")   # SQLite 3.35+


def username_key(username: str) -> str:
    """As dispatch/staff.py reads a username at this revision."""
    return unicodedata.normalize("NFKC", username).casefold()


def fill_keys(connection: sa.Connection) -> list[tuple[str, str]]:
    """Key every account without one, oldest first; (username, the older one it reads like)
    for each left without."""
    held = {key: name for key, name in connection.execute(
        sa.select(users.c.username_key, users.c.username).where(users.c.username_key.is_not(None)))}
    keyed, lookalikes = [], []
    for row in connection.execute(sa.select(users.c.id, users.c.username)
                                  .where(users.c.username_key.is_(None)).order_by(users.c.id)):
        key = username_key(row.username)
        if key in held:
            lookalikes.append((row.username, held[key]))
            continue
        held[key] = row.username
        keyed.append({"row_id": row.id, "key": key})
    if keyed:
        connection.execute(users.update().where(users.c.id == sa.bindparam("row_id"))
                           .values(username_key=sa.bindparam("key")), keyed)
    for username, older in lookalikes:
        log.warning("staff account %r reads like the older %r: both kept, the older holds the key", username,
                    older, extra={"event": "username_lookalike_kept", "username": username, "older": older})
    return lookalikes
