"""knowledge base: articles with their versions, counted searches and deflections

Revision ID: 0019
Revises: 0016
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def _article_fields() -> list[sa.Column]:
    return [
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("keywords", sa.String(length=500), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("review_by", sa.Date(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("published_version", sa.Integer(), nullable=True),
        *_article_fields(),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_kb_articles_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
    )
    op.create_index(op.f("ix_kb_articles_unit_id"), "kb_articles", ["unit_id"])
    op.create_index(op.f("ix_kb_articles_state"), "kb_articles", ["state"])
    op.create_index(op.f("ix_kb_articles_changed_at"), "kb_articles", ["changed_at"])
    op.create_table(
        "kb_article_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        *_article_fields(),
        sa.Column("edited_by", sa.String(length=100), nullable=False),
        sa.Column("editor_id", sa.Integer(), nullable=True),
        sa.Column("edited_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"],
                                name=op.f("fk_kb_article_versions_article_id_kb_articles")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_article_versions")),
        sa.UniqueConstraint("article_id", "version", name="uq_kb_article_versions_article_id"),
    )
    op.create_table(
        "kb_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("results", sa.Integer(), nullable=False),
        sa.Column("top_article_id", sa.Integer(), nullable=True),
        sa.Column("useful", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_searches")),
    )
    op.create_index(op.f("ix_kb_searches_at"), "kb_searches", ["at"])
    op.create_table(
        "kb_deflections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("query", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"],
                                name=op.f("fk_kb_deflections_article_id_kb_articles")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_deflections")),
    )
    op.create_index(op.f("ix_kb_deflections_article_id"), "kb_deflections", ["article_id"])
    op.create_index(op.f("ix_kb_deflections_at"), "kb_deflections", ["at"])


def downgrade() -> None:
    op.drop_table("kb_deflections")
    op.drop_table("kb_searches")
    op.drop_table("kb_article_versions")
    op.drop_table("kb_articles")
