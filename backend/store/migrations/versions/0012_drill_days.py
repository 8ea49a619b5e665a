"""drill days: the cases summed by reporting day, unit, category, channel and tier, so a
report or an assessment of any period is a sum over its days (issue 16)

Revision ID: j001
Revises: i014
Create Date: 2026-12-04 19:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'j001'
down_revision = 'i014'
branch_labels = None
depends_on = None

_COUNTS = (
    'total', 'cancelled', 'closed', 'on_time', 'rated', 'satisfied', 'escalated_cases',
    'tiered', 'stages', 'moved_up',
)


def upgrade() -> None:
    op.create_table('drill_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('dim', sa.String(length=8), nullable=False),
    sa.Column('key', sa.String(length=48), nullable=False),
    *(sa.Column(c, sa.Integer(), nullable=False) for c in _COUNTS),
    sa.Column('closes', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('day', 'dim', 'key', name=op.f('pk_drill_days'))
    )


def downgrade() -> None:
    op.drop_table('drill_days')
