"""attachments.thumbnail: a small JPEG of each photo (dispatch/thumbnails.py), made when the
photo is stored, so the ticket page lists thumbnails and not the full photos. Photos stored
before have none: theirs is made when it is asked for.

Revision ID: 0052
Revises: 0051
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0052"
down_revision = "0051"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("thumbnail", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.drop_column("thumbnail")
