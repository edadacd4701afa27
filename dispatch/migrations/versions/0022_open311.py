"""Open311 GeoReport v2: client keys (stored as SHA-256 hashes) and what each submission
carried beside the ticket

Revision ID: 0022
Revises: 0016
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "open311_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_clients")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_open311_clients_key_hash")),
    )
    op.create_table(
        "open311_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("service_code", sa.String(length=64), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("long", sa.Float(), nullable=True),
        sa.Column("address_string", sa.String(length=300), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("device_id", sa.String(length=100), nullable=True),
        sa.Column("account_id", sa.String(length=100), nullable=True),
        sa.Column("media_url", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"],
                                name=op.f("fk_open311_submissions_ticket_id_tickets")),
        sa.ForeignKeyConstraint(["client_id"], ["open311_clients.id"],
                                name=op.f("fk_open311_submissions_client_id_open311_clients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_submissions")),
    )
    op.create_index(op.f("ix_open311_submissions_ticket_id"), "open311_submissions", ["ticket_id"])
    op.create_index(op.f("ix_open311_submissions_client_id"), "open311_submissions", ["client_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_open311_submissions_client_id"), table_name="open311_submissions")
    op.drop_index(op.f("ix_open311_submissions_ticket_id"), table_name="open311_submissions")
    op.drop_table("open311_submissions")
    op.drop_table("open311_clients")
