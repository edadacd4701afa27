"""kb_article_versions append-only: an article's versions are its history (who wrote what,
when), written once and never changed, so the database refuses UPDATE and DELETE on them as
it does on ticket_events and staff_activity.

Revision ID: 0049
Revises: 0048
"""
from __future__ import annotations

from alembic import op

from dispatch import audit

revision = "0049"
down_revision = "0048"
branch_labels = None
depends_on = None


def upgrade() -> None:
    audit.install_guard(op.get_bind(), "kb_article_versions")


def downgrade() -> None:
    audit.drop_guard(op.get_bind(), with_function=True, table="kb_article_versions")
