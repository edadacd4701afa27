"""the parts a unit answered, latest first, for its inbox's 最近答复 list

A co-handling unit or a sub-unit that answered its part no longer holds or owes the ticket,
so the inbox lists no line of it; the inbox now shows the latest parts it answered. They are
read from a partial index of the answered parts, by unit and reply time, so the list reads
its 20 rows whatever else the unit was ever given.

Revision ID: 0042
Revises: 0041
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0042"
down_revision = "0041"
branch_labels = None
depends_on = None

# As dispatch/models.py has it then (a migration keeps its own copy).
ANSWERED_PART = "part_reply IS NOT NULL"


def upgrade() -> None:
    op.create_index("ix_transfers_answered", "transfers", ["unit_id", "resolved_at"],
                    postgresql_where=sa.text(ANSWERED_PART), sqlite_where=sa.text(ANSWERED_PART))


def downgrade() -> None:
    op.drop_index("ix_transfers_answered", table_name="transfers")
