"""media_fetches: the photos of citizens' picture messages (MMS), fetched from the SMS
provider after the text is filed and added to its ticket (dispatch/media_fetches.py).

Revision ID: 0051
Revises: 0050
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0051"
down_revision = "0050"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media_fetches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("message_sid", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("declared_type", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("attachment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_media_fetches_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_fetches")),
        sa.UniqueConstraint("message_sid", "position", name="uq_media_fetches_message_sid_position"),
    )
    op.create_index("ix_media_fetches_ticket_id", "media_fetches", ["ticket_id"])
    op.create_index("ix_media_fetches_status_next_attempt_at", "media_fetches", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_media_fetches_status_next_attempt_at", table_name="media_fetches")
    op.drop_index("ix_media_fetches_ticket_id", table_name="media_fetches")
    op.drop_table("media_fetches")
