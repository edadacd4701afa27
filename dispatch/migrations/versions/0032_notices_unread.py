"""the unit's unread notices from an index of them alone

notices (unit_id, id) WHERE read_at IS NULL: the inbox counts a unit's unread notices (up
to 1,000) on every visit; with only (unit_id, id) that read every notice the unit was ever
told, read ones too (a unit told of each ticket near its deadline gathers hundreds of
thousands in a big city's year: 29 ms a visit at 300,000, against a fraction of one).

Revision ID: 0032
Revises: 0031
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

UNREAD = "read_at IS NULL"


def upgrade() -> None:
    op.create_index("ix_notices_unit_id_unread", "notices", ["unit_id", "id"],
                    postgresql_where=sa.text(UNREAD), sqlite_where=sa.text(UNREAD))


def downgrade() -> None:
    op.drop_index("ix_notices_unit_id_unread", table_name="notices")
