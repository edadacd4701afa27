"""the site's own secrets, forms kept across an expired login, a call remembered by the
ticket source filed from it

Revision ID: 0012
Revises: 0011
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_secrets",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_site_secrets")),
    )
    op.create_table(
        "kept_forms",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=300), nullable=False),
        sa.Column("page", sa.String(length=300), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["staff_users.id"], name=op.f("fk_kept_forms_user_id_staff_users")),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_kept_forms")),
    )
    op.create_index(op.f("ix_kept_forms_created_at"), "kept_forms", ["created_at"])
    with op.batch_alter_table("intake_sources") as batch:
        batch.add_column(sa.Column("call_linkedid", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_intake_sources_call_linkedid"), "intake_sources", ["call_linkedid"])


def downgrade() -> None:
    op.drop_index(op.f("ix_intake_sources_call_linkedid"), table_name="intake_sources")
    with op.batch_alter_table("intake_sources") as batch:
        batch.drop_column("call_linkedid")
    op.drop_index(op.f("ix_kept_forms_created_at"), table_name="kept_forms")
    op.drop_table("kept_forms")
    op.drop_table("site_secrets")
