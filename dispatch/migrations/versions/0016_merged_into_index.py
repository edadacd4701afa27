"""an index on tickets.merged_into_id: every ticket page lists the duplicates that follow it

Revision ID: 0016
Revises: 0015
"""
from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_merged_into_id", "tickets", ["merged_into_id"])


def downgrade() -> None:
    op.drop_index("ix_tickets_merged_into_id", table_name="tickets")
