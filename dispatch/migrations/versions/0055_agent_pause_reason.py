"""agent_status: why an operator's phone is paused (示忙: 小休, 就餐… as the PBX reports
PausedReason), since when, and the seconds of the pauses ended on the China day
`paused_day`, so the supervisors' agent list shows each one's paused time today.

Revision ID: 0055
Revises: 0054
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0055"
down_revision = "0054"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agent_status") as batch:
        batch.add_column(sa.Column("paused_reason", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("paused_since", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("paused_seconds", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("paused_day", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agent_status") as batch:
        for column in ("paused_day", "paused_seconds", "paused_since", "paused_reason"):
            batch.drop_column(column)
