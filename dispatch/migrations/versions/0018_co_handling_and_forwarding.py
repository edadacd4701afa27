"""transfers get a role (lead, co-handling part, forward to a sub-unit), the lead transfer a
part belongs to, the part's reply and a supervisor's waiver

Revision ID: 0018
Revises: 0016
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transfers") as batch:
        batch.add_column(sa.Column("role", sa.String(length=10), nullable=False, server_default="lead"))
        batch.add_column(sa.Column("lead_transfer_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("part_reply", sa.Text(), nullable=True))
        batch.add_column(sa.Column("waived_at", sa.DateTime(), nullable=True))
        batch.create_foreign_key(op.f("fk_transfers_lead_transfer_id_transfers"), "transfers",
                                 ["lead_transfer_id"], ["id"])
        batch.create_index(op.f("ix_transfers_lead_transfer_id"), ["lead_transfer_id"])


def downgrade() -> None:
    with op.batch_alter_table("transfers") as batch:
        batch.drop_index(op.f("ix_transfers_lead_transfer_id"))
        batch.drop_constraint(op.f("fk_transfers_lead_transfer_id_transfers"), type_="foreignkey")
        batch.drop_column("waived_at")
        batch.drop_column("part_reply")
        batch.drop_column("lead_transfer_id")
        batch.drop_column("role")
