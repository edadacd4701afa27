"""routing_rollup: running totals of the routing outcomes per (China day received, proposed
category), so the supervisor's acceptance figures add up a few rows a day instead of reading
every outcome of the period (dispatch/routing_feedback.py, kept by the flush hook).

Filled from the outcomes already there by one INSERT ... SELECT ... GROUP BY: the statement of
dispatch/totals_sql.py as it is at this revision (a migration keeps its own copy; a test checks
it gives what the flush hook keeps).

Revision ID: 0033
Revises: 0032
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "routing_rollup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.Column("proposals", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("automatic", sa.Integer(), nullable=False),
        sa.Column("corrected", sa.Integer(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rollup")),
        sa.UniqueConstraint("day", "category", name="uq_routing_rollup_key"))
    backfill(op.get_bind())


def downgrade() -> None:
    op.drop_table("routing_rollup")


def _day(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"CAST(({column} AT TIME ZONE 'UTC') AT TIME ZONE 'Asia/Shanghai' AS DATE)"
    return f"date({column}, '+8 hours')"


def _flag(condition: str) -> str:
    return f"sum(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def backfill(connection: sa.Connection) -> None:
    """Fill the table from the outcomes there now (it starts empty)."""
    dialect = connection.dialect.name
    connection.exec_driver_sql(
        f"INSERT INTO routing_rollup (day, category, proposals, accepted, automatic, corrected, returned) "
        f"SELECT {_day(dialect, 'received_at')}, proposed_category, count(*), "
        f"{_flag('unit_accepted AND category_accepted')}, {_flag('automatic')}, {_flag('corrected')}, "
        f"{_flag('returned')} FROM routing_outcomes GROUP BY 1, 2")
    if dialect == "postgresql":
        connection.exec_driver_sql("ANALYZE routing_rollup")
