"""notices.settled, notices.settled_by: a supervisors' notice of a request (延期, 改派, 先行办结)
says how it was done with: decided (and by whom) or lapsed (dispatch/staff_notices.py).

Revision ID: 0050
Revises: 0049
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0050"
down_revision = "0049"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs on both databases (no batch copy of notices on SQLite, which would lose
    # its partial index's condition); SQLite takes the foreign key as the column's REFERENCES.
    op.add_column("notices", sa.Column("settled", sa.String(length=10), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE notices ADD COLUMN settled_by INTEGER REFERENCES staff_users (id)")
    else:
        op.add_column("notices", sa.Column("settled_by", sa.Integer(), nullable=True))
        op.create_foreign_key(op.f("fk_notices_settled_by_staff_users"), "notices", "staff_users",
                              ["settled_by"], ["id"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_notices_settled_by_staff_users"), "notices", type_="foreignkey")
    op.drop_column("notices", "settled_by")   # SQLite 3.35+ drops a column in place
    op.drop_column("notices", "settled")
