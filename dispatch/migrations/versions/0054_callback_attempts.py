"""callback_attempts: who placed each try at calling a missed call back (回拨), with its result;
callbacks.last_attempt_by for the row's 最近回拨. The handover lists first the callbacks the
outgoing operator tried without reaching anyone. Attempts made before have no row.

Revision ID: 0054
Revises: 0053
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0054"
down_revision = "0053"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("reached", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["callback_id"], ["callbacks.id"],
                                name=op.f("fk_callback_attempts_callback_id_callbacks")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"],
                                name=op.f("fk_callback_attempts_staff_id_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_attempts")),
    )
    op.create_index(op.f("ix_callback_attempts_callback_id"), "callback_attempts", ["callback_id"])
    op.create_index("ix_callback_attempts_staff_id_callback_id", "callback_attempts", ["staff_id", "callback_id"])
    with op.batch_alter_table("callbacks") as batch:
        batch.add_column(sa.Column("last_attempt_by", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_callbacks_last_attempt_by_staff_users"), "staff_users",
                                 ["last_attempt_by"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("callbacks") as batch:
        batch.drop_constraint(op.f("fk_callbacks_last_attempt_by_staff_users"), type_="foreignkey")
        batch.drop_column("last_attempt_by")
    op.drop_index("ix_callback_attempts_staff_id_callback_id", table_name="callback_attempts")
    op.drop_index(op.f("ix_callback_attempts_callback_id"), table_name="callback_attempts")
    op.drop_table("callback_attempts")
