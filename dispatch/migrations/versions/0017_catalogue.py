"""the dispatch catalogue (派单目录): versions, entries, and the entry each ticket was dispatched under

Revision ID: 0017
Revises: 0016
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalogue_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_versions")),
    )
    op.create_table(
        "catalogue_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("retired_version_id", sa.Integer(), nullable=True),
        sa.Column("level1", sa.String(length=50), nullable=False),
        sa.Column("level2", sa.String(length=50), nullable=False),
        sa.Column("level3", sa.String(length=50), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("local", sa.Boolean(), nullable=False),
        sa.Column("deadline_class", sa.String(length=20), nullable=True),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["catalogue_versions.id"],
                                name=op.f("fk_catalogue_entries_version_id_catalogue_versions")),
        sa.ForeignKeyConstraint(["retired_version_id"], ["catalogue_versions.id"],
                                name=op.f("fk_catalogue_entries_retired_version_id_catalogue_versions")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_catalogue_entries_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_entries")),
    )
    op.create_index("ix_catalogue_entries_code_retired", "catalogue_entries", ["code", "retired_version_id"])
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its reference in place; a batch copy of tickets would
        # drop the table under the foreign keys that point at it.
        op.execute("ALTER TABLE tickets ADD COLUMN catalogue_entry_id INTEGER "
                   "REFERENCES catalogue_entries (id)")
    else:
        op.add_column("tickets", sa.Column("catalogue_entry_id", sa.Integer(), nullable=True))
        op.create_foreign_key(op.f("fk_tickets_catalogue_entry_id_catalogue_entries"), "tickets",
                              "catalogue_entries", ["catalogue_entry_id"], ["id"])
    op.create_index(op.f("ix_tickets_catalogue_entry_id"), "tickets", ["catalogue_entry_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_tickets_catalogue_entry_id"), table_name="tickets")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE tickets DROP COLUMN catalogue_entry_id")   # SQLite 3.35+
    else:
        op.drop_constraint(op.f("fk_tickets_catalogue_entry_id_catalogue_entries"), "tickets", type_="foreignkey")
        op.drop_column("tickets", "catalogue_entry_id")
    op.drop_index("ix_catalogue_entries_code_retired", table_name="catalogue_entries")
    op.drop_table("catalogue_entries")
    op.drop_table("catalogue_versions")
