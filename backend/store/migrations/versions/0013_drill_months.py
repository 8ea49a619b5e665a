"""drill months: the days' roll-ups summed by calendar month, so a month's report or
assessment reads a row per unit instead of summing its days (issue 16)

Revision ID: k001
Revises: j001
Create Date: 2026-12-04 23:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'k001'
down_revision = 'j001'
branch_labels = None
depends_on = None

_COUNTS = (
    'total', 'cancelled', 'closed', 'on_time', 'rated', 'satisfied', 'escalated_cases',
    'tiered', 'stages', 'moved_up',
)


def upgrade() -> None:
    op.create_table('drill_months',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('dim', sa.String(length=8), nullable=False),
    sa.Column('key', sa.String(length=48), nullable=False),
    *(sa.Column(c, sa.Integer(), nullable=False) for c in _COUNTS),
    sa.Column('closes', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('month', 'dim', 'key', name=op.f('pk_drill_months'))
    )


def downgrade() -> None:
    op.drop_table('drill_months')
