"""Asterisk's realtime queue_log table, read to recover calls made during an AMI outage

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("time", sa.DateTime(), nullable=True),
        sa.Column("callid", sa.String(length=80), nullable=True),
        sa.Column("queuename", sa.String(length=256), nullable=True),
        sa.Column("agent", sa.String(length=80), nullable=True),
        sa.Column("event", sa.String(length=32), nullable=True),
        sa.Column("data1", sa.String(length=100), nullable=True),
        sa.Column("data2", sa.String(length=100), nullable=True),
        sa.Column("data3", sa.String(length=100), nullable=True),
        sa.Column("data4", sa.String(length=100), nullable=True),
        sa.Column("data5", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_log")),
    )
    op.create_index("ix_queue_log_time", "queue_log", ["time"])


def downgrade() -> None:
    op.drop_index("ix_queue_log_time", table_name="queue_log")
    op.drop_table("queue_log")
