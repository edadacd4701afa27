"""the closed loop: follow-up and closing, hand-overs, disputes, flagged numbers, and the
running totals of follow-ups, rating channels, hand-overs, invalid and merged tickets

Revision ID: 0006
Revises: 0005
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

NEW_COUNTS = ("followed_up", "rated_phone", "rated_web", "rated_sms", "handed_over", "invalid", "merged")


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.add_column(sa.Column("rating_channel", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("follow_up_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("close_reason", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("handover_to", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("open_dispute_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("ticket_rollup") as batch_op:
        for name in NEW_COUNTS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("raised_by", sa.Integer(), nullable=True),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_disputes_ticket_id_tickets")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_disputes_unit_id_units")),
        sa.ForeignKeyConstraint(["raised_by"], ["staff_users.id"], name=op.f("fk_disputes_raised_by_staff_users")),
        sa.ForeignKeyConstraint(["decided_by"], ["staff_users.id"], name=op.f("fk_disputes_decided_by_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
    )
    op.create_index(op.f("ix_disputes_ticket_id"), "disputes", ["ticket_id"])
    op.create_index("ix_disputes_raised_at", "disputes", ["raised_at"])
    op.create_table(
        "flagged_numbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("flagged_by", sa.String(length=100), nullable=False),
        sa.Column("flagged_at", sa.DateTime(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("cleared_by", sa.String(length=100), nullable=True),
        sa.Column("cleared_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_flagged_numbers_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flagged_numbers")),
    )
    op.create_index("ix_flagged_numbers_phone", "flagged_numbers", ["phone"])
    # Until now a rating could only come by text message.
    op.execute("UPDATE tickets SET rating_channel = 'sms' WHERE rating IS NOT NULL")
    # Merged tickets now count once, in their main ticket, and the new counts start from
    # the tickets as they are: the running totals are rebuilt (`hotline db rebuild-figures`
    # does the same at any time).
    # Skipped on an empty database, so that a later change to the totals' columns cannot
    # break a fresh install passing through this revision.
    connection = op.get_bind()
    if connection.execute(sa.text("SELECT count(*) FROM tickets")).scalar():
        from sqlalchemy.orm import Session

        from dispatch import rollup

        rollup.rebuild(Session(bind=connection))


def downgrade() -> None:
    op.drop_index("ix_flagged_numbers_phone", table_name="flagged_numbers")
    op.drop_table("flagged_numbers")
    op.drop_index("ix_disputes_raised_at", table_name="disputes")
    op.drop_index(op.f("ix_disputes_ticket_id"), table_name="disputes")
    op.drop_table("disputes")
    with op.batch_alter_table("ticket_rollup") as batch_op:
        for name in NEW_COUNTS:
            batch_op.drop_column(name)
    with op.batch_alter_table("tickets") as batch_op:
        for name in ("open_dispute_id", "handover_to", "close_reason", "closed_at", "follow_up_attempts",
                     "rating_channel"):
            batch_op.drop_column(name)
