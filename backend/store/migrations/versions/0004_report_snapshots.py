"""report snapshots: the periodic reports and assessments as computed at one instant

A month of a large city's cases takes seconds to report on (bench/RESULTS.md); the screens
read the stored figures instead, refreshed in the background (backend/drill/snapshots.py).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 01:30:00
"""
from alembic import op
import sqlalchemy as sa
import backend.store.models


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_snapshots',
    sa.Column('what', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('as_of', backend.store.models.UTCDateTime(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('what', 'kind', 'period_start', 'scope', name=op.f('pk_report_snapshots'))
    )


def downgrade() -> None:
    op.drop_table('report_snapshots')
