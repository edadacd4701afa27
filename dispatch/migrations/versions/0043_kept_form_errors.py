"""kept_forms.error: why the ticket page refused a staff form (empty reason, a reply too
short, a stale page). The page answers a refused form with a redirect to itself carrying
the kept form, so that a reload does not post it again; the words typed and this message
come back from the kept row. None for a form kept across an expired login.

Revision ID: 0043
Revises: 0042
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0043"
down_revision = "0042"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("kept_forms", sa.Column("error", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("kept_forms", "error")   # SQLite 3.35+
