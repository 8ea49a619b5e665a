"""drop cases.duplicate_of: never written (a repeated report is attached to its case, which
counts it in duplicate_count, and kept in case_reports), so nothing needs it

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 14:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


# a plain ALTER TABLE on both databases (SQLite has had DROP COLUMN since 3.35): no copy of a
# table of millions of cases, and its partial index stays as it is


def upgrade() -> None:
    op.execute("ALTER TABLE cases DROP COLUMN duplicate_of")


def downgrade() -> None:
    op.add_column('cases', sa.Column('duplicate_of', sa.BigInteger(), nullable=True))
