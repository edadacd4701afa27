"""staff_users.phone_extension: the phone (分机号) an operator answers at, so that the
supervisor's call figures per agent name the operator instead of the PBX's interface
(PJSIP/7001). Optional and unique: one account a phone; none set for accounts already there.

A unique index rather than a table constraint, as 0039: SQLite cannot add a constraint
without copying the table, and ten tables' foreign keys point at this one.

Revision ID: 0041
Revises: 0040
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0041"
down_revision = "0040"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("staff_users", sa.Column("phone_extension", sa.String(length=40), nullable=True))
    op.create_index("ix_staff_users_phone_extension", "staff_users", ["phone_extension"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_staff_users_phone_extension", table_name="staff_users")
    op.drop_column("staff_users", "phone_extension")   # SQLite 3.35+
