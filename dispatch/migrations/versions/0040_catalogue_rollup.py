"""catalogue_rollup: running totals per (China day received, dispatch catalogue entry, China day
of the deadline while open), so the figures per catalogue level (/api/v1/stats?level=N,
/supervisor/catalogue) add up a few rows a day instead of reading every ticket of the period
(dispatch/catalogue_figures.py, kept by the flush hook).

Filled from the tickets already there by one INSERT ... SELECT ... GROUP BY: the statement of
dispatch/totals_sql.py as it is at this revision (a migration keeps its own copy; a test checks
it gives what the flush hook keeps).

Revision ID: 0040
Revises: 0039
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None

_OPEN_WITH_DEADLINE = "deadline IS NOT NULL AND state IN ('received', 'transferred', 'returned', 'in_progress', 'reopened')"


def upgrade() -> None:
    op.create_table(
        "catalogue_rollup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("catalogue_entry_id", sa.Integer(), nullable=False),
        sa.Column("deadline_day", sa.Date(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("transferred", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("resolved", sa.Integer(), nullable=False),
        sa.Column("resolved_on_time", sa.Integer(), nullable=False),
        sa.Column("rated", sa.Integer(), nullable=False),
        sa.Column("satisfied_or_partly", sa.Integer(), nullable=False),
        sa.Column("open_with_deadline", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_rollup")),
        sa.UniqueConstraint("day", "catalogue_entry_id", "deadline_day", name="uq_catalogue_rollup_key"))
    backfill(op.get_bind())


def downgrade() -> None:
    op.drop_table("catalogue_rollup")


def _day(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"CAST(({column} AT TIME ZONE 'UTC') AT TIME ZONE 'Asia/Shanghai' AS DATE)"
    return f"date({column}, '+8 hours')"


def _flag(condition: str) -> str:
    return f"sum(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def backfill(connection: sa.Connection) -> None:
    """Fill the table from the tickets there now (it starts empty)."""
    dialect = connection.dialect.name
    received = _day(dialect, "received_at")
    answered, rated_good = "state = 'answered'", "rating IN ('satisfied', 'partly')"
    connection.exec_driver_sql(
        f"INSERT INTO catalogue_rollup (day, catalogue_entry_id, deadline_day, received, transferred, answered, "
        f"resolved, resolved_on_time, rated, satisfied_or_partly, open_with_deadline) "
        f"SELECT {received}, coalesce(catalogue_entry_id, 0), "
        f"CASE WHEN {_OPEN_WITH_DEADLINE} THEN {_day(dialect, 'deadline')} ELSE {received} END, count(*), "
        f"{_flag('transfer_count > 0')}, {_flag(answered)}, {_flag('resolved_at IS NOT NULL')}, "
        f"{_flag('resolved_on_time')}, {_flag('rating IS NOT NULL')}, {_flag(rated_good)}, "
        f"{_flag(_OPEN_WITH_DEADLINE)} FROM tickets GROUP BY 1, 2, 3")
    if dialect == "postgresql":
        connection.exec_driver_sql("ANALYZE catalogue_rollup")
