"""notices to supervisors: a notice's addressee is a unit, one staff member (the supervisor
who escalated: staff_id) or a role (every supervisor: role); unit_id may be NULL now
(dispatch/staff_notices.py).

Revision ID: 0047
Revises: 0046
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0047"
down_revision = "0046"
branch_labels = None
depends_on = None

UNREAD = "read_at IS NULL"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    # SQLite's batch copy of the table would not keep the partial index's WHERE: made again
    # after it (PostgreSQL alters the table in place, and keeps it).
    if _sqlite():
        op.drop_index("ix_notices_unit_id_unread", table_name="notices")
    with op.batch_alter_table("notices") as batch:
        batch.alter_column("unit_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("staff_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("role", sa.String(length=20), nullable=True))
        batch.create_foreign_key(op.f("fk_notices_staff_id_staff_users"), "staff_users", ["staff_id"], ["id"])
        batch.create_unique_constraint(op.f("uq_notices_staff_key"), ["staff_id", "key"])
        batch.create_unique_constraint(op.f("uq_notices_role_key"), ["role", "key"])
    if _sqlite():
        op.create_index("ix_notices_unit_id_unread", "notices", ["unit_id", "id"], sqlite_where=sa.text(UNREAD))


def downgrade() -> None:
    op.execute("DELETE FROM notices WHERE unit_id IS NULL")
    if _sqlite():
        op.drop_index("ix_notices_unit_id_unread", table_name="notices")
    with op.batch_alter_table("notices") as batch:
        batch.drop_constraint(op.f("uq_notices_role_key"), type_="unique")
        batch.drop_constraint(op.f("uq_notices_staff_key"), type_="unique")
        batch.drop_constraint(op.f("fk_notices_staff_id_staff_users"), type_="foreignkey")
        batch.drop_column("role")
        batch.drop_column("staff_id")
        batch.alter_column("unit_id", existing_type=sa.Integer(), nullable=False)
    if _sqlite():
        op.create_index("ix_notices_unit_id_unread", "notices", ["unit_id", "id"], sqlite_where=sa.text(UNREAD))
