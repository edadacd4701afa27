"""reply_templates: a unit's reply templates (常用语) and the city-wide ones admins keep
(dispatch/reply_templates.py), a title once per owner.

Revision ID: 0046
Revises: 0045
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0046"
down_revision = "0045"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reply_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=30), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("changed_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_reply_templates_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_templates")),
        sa.UniqueConstraint("scope", "title", name="uq_reply_templates_scope"),
    )
    op.create_index("ix_reply_templates_unit_id", "reply_templates", ["unit_id"])


def downgrade() -> None:
    op.drop_index("ix_reply_templates_unit_id", table_name="reply_templates")
    op.drop_table("reply_templates")
