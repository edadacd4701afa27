"""running totals of the calls, of the tickets per channel (and emergency number handed over
to), and of the open tickets by the day of their deadline: /api/v1/stats and the
supervisor's dashboard add these up instead of reading a year of calls and tickets
(dispatch/call_totals.py, dispatch/rollup.py); and the indexes that page the dashboard's
chasing lists: open tickets by deadline (partial), extension requests by status and time

Each table is created and filled from the rows already there by one INSERT ... SELECT ...
GROUP BY: the statements of dispatch/totals_sql.py as they were at this revision (a
migration keeps its own copy; tests check it gives what the flush hooks keep).

Revision ID: 0028
Revises: 0027
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

WAIT_STEPS = (0, 3, 5, 10, 15, 20, 25, 30, 40, 45, 60, 90, 120)
WAIT_OVER = 1_000_000
OPEN_STATES = "'received', 'transferred', 'returned', 'in_progress', 'reopened'"
RESOLVED_STATES = "'answered', 'resolved', 'closed'"
OPEN_DEADLINE = f"state IN ({OPEN_STATES})"


def upgrade() -> None:
    op.create_table(
        "ticket_channel_rollup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("handed_over_to", sa.String(length=3), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("resolved", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_channel_rollup")),
        sa.UniqueConstraint("day", "channel", "handed_over_to", name="uq_ticket_channel_rollup_key"))
    op.create_table(
        "open_ticket_rollup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("deadline_day", sa.Date(), nullable=False),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open_ticket_rollup")),
        sa.UniqueConstraint("day", "category", "unit_id", "deadline_day", name="uq_open_ticket_rollup_key"))
    op.create_table(
        "call_rollup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grouped_by", sa.String(length=5), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("wait", sa.Integer(), nullable=False),
        sa.Column("offered", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("abandoned", sa.Integer(), nullable=False),
        sa.Column("waited", sa.Integer(), nullable=False),
        sa.Column("wait_sum", sa.Float(), nullable=False),
        sa.Column("talked", sa.Integer(), nullable=False),
        sa.Column("talk_sum", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_rollup")),
        sa.UniqueConstraint("grouped_by", "day", "name", "wait", name="uq_call_rollup_key"))
    backfill(op.get_bind())
    op.create_index("ix_tickets_open_deadline", "tickets", ["deadline", "received_at", "id"],
                    postgresql_where=sa.text(OPEN_DEADLINE), sqlite_where=sa.text(OPEN_DEADLINE))
    op.create_index("ix_extension_requests_status_requested_at", "extension_requests",
                    ["status", "requested_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_extension_requests_status_requested_at", table_name="extension_requests")
    op.drop_index("ix_tickets_open_deadline", table_name="tickets")
    op.drop_table("call_rollup")
    op.drop_table("open_ticket_rollup")
    op.drop_table("ticket_channel_rollup")


def _day(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"CAST(({column} AT TIME ZONE 'UTC') AT TIME ZONE 'Asia/Shanghai' AS DATE)"
    return f"date({column}, '+8 hours')"


def _step() -> str:
    steps = " ".join(f"WHEN wait_seconds <= {step} THEN {step}" for step in WAIT_STEPS)
    return f"CASE WHEN wait_seconds IS NULL OR NOT (wait_seconds <= {WAIT_STEPS[-1]}) THEN {WAIT_OVER} {steps} END"


def backfill(connection: sa.Connection) -> None:
    """Fill the three tables from the tickets and calls there now (they start empty)."""
    dialect = connection.dialect.name
    statements = [
        f"INSERT INTO ticket_channel_rollup (day, channel, handed_over_to, received, resolved) "
        f"SELECT {_day(dialect, 'received_at')}, channel, "
        f"CASE WHEN state = 'handed_over' THEN coalesce(handover_to, '') ELSE '' END, count(*), "
        f"sum(CASE WHEN state IN ({RESOLVED_STATES}) THEN 1 ELSE 0 END) "
        f"FROM tickets WHERE state <> 'merged' GROUP BY 1, 2, 3",
        f"INSERT INTO open_ticket_rollup (day, category, unit_id, deadline_day, tickets) "
        f"SELECT {_day(dialect, 'received_at')}, coalesce(category, ''), coalesce(unit_id, 0), "
        f"{_day(dialect, 'deadline')}, count(*) "
        f"FROM tickets WHERE deadline IS NOT NULL AND state IN ({OPEN_STATES}) GROUP BY 1, 2, 3, 4"]
    for grouped_by in ("queue", "agent"):
        statements.append(
            f"INSERT INTO call_rollup (grouped_by, day, name, wait, offered, answered, abandoned, waited, "
            f"wait_sum, talked, talk_sum) "
            f"SELECT '{grouped_by}', {_day(dialect, 'entered_queue_at')}, coalesce({grouped_by}, ''), "
            f"{_step()}, count(*), sum(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END), "
            f"sum(CASE WHEN outcome = 'abandoned' THEN 1 ELSE 0 END), "
            f"sum(CASE WHEN answered_at IS NOT NULL AND wait_seconds IS NOT NULL THEN 1 ELSE 0 END), "
            f"coalesce(sum(CASE WHEN answered_at IS NOT NULL THEN wait_seconds END), 0), "
            f"sum(CASE WHEN answered_at IS NOT NULL AND talk_seconds IS NOT NULL THEN 1 ELSE 0 END), "
            f"coalesce(sum(CASE WHEN answered_at IS NOT NULL THEN talk_seconds END), 0) "
            f"FROM calls WHERE entered_queue_at IS NOT NULL GROUP BY 2, 3, 4")
    for statement in statements:
        connection.exec_driver_sql(statement)
    if dialect == "postgresql":   # the planner's view of tables it has not seen yet
        for table in ("ticket_channel_rollup", "open_ticket_rollup", "call_rollup"):
            connection.exec_driver_sql(f"ANALYZE {table}")
