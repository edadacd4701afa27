"""an index on transfers (received_day, unit_id): the monthly assessment counts each unit's
transfers of the month's tickets (响应率) without reading every transfer ever made

Revision ID: 0020
Revises: 0016
"""
from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_transfers_received_day_unit_id", "transfers", ["received_day", "unit_id"])


def downgrade() -> None:
    op.drop_index("ix_transfers_received_day_unit_id", table_name="transfers")
