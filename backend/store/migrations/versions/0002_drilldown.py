"""leader drill-down projections: stages, overdue risk, projection state

Revision ID: 0002d
Revises: 0002i
Create Date: 2026-11-24 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import backend.store.models


revision = '0002d'
down_revision = '0002i'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('drill_stages',
    sa.Column('case_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('stage_no', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('grid_code', sa.String(length=32), nullable=True),
    sa.Column('township_code', sa.String(length=32), nullable=True),
    sa.Column('county_code', sa.String(length=32), nullable=True),
    sa.Column('category', sa.String(length=48), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('tier', sa.String(length=16), nullable=False),
    sa.Column('unit_code', sa.String(length=48), nullable=False),
    sa.Column('start_event', sa.String(length=32), nullable=False),
    sa.Column('started_at', backend.store.models.UTCDateTime(), nullable=False),
    sa.Column('ended_at', backend.store.models.UTCDateTime(), nullable=True),
    sa.Column('end_kind', sa.String(length=16), nullable=False),
    sa.Column('dwell_seconds', sa.Float(), nullable=True),
    sa.Column('bin', sa.Integer(), nullable=True),
    sa.Column('due_seconds', sa.Float(), nullable=True),
    sa.Column('next_tier', sa.String(length=16), nullable=True),
    sa.Column('overdue_at', backend.store.models.UTCDateTime(), nullable=True),
    sa.Column('reminders', sa.Integer(), nullable=False),
    sa.Column('warnings', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('case_id', 'stage_no', name=op.f('pk_drill_stages'))
    )
    with op.batch_alter_table('drill_stages', schema=None) as batch_op:
        batch_op.create_index('ix_drill_stages_day', ['day'], unique=False)
        batch_op.create_index('ix_drill_stages_unit_code', ['unit_code'], unique=False)

    op.create_table('drill_case_risk',
    sa.Column('case_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('p_miss', sa.Float(), nullable=False),
    sa.Column('basis', sa.String(length=16), nullable=False),
    sa.Column('computed_at', backend.store.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_drill_case_risk'))
    )
    with op.batch_alter_table('drill_case_risk', schema=None) as batch_op:
        batch_op.create_index('ix_drill_case_risk_p_miss', ['p_miss'], unique=False)

    op.create_table('drill_state',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('last_event_id', sa.BigInteger(), nullable=False),
    sa.Column('window_count', sa.BigInteger(), nullable=False),
    sa.Column('refreshed_at', backend.store.models.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_drill_state'))
    )


def downgrade() -> None:
    op.drop_table('drill_state')
    with op.batch_alter_table('drill_case_risk', schema=None) as batch_op:
        batch_op.drop_index('ix_drill_case_risk_p_miss')
    op.drop_table('drill_case_risk')
    with op.batch_alter_table('drill_stages', schema=None) as batch_op:
        batch_op.drop_index('ix_drill_stages_unit_code')
        batch_op.drop_index('ix_drill_stages_day')
    op.drop_table('drill_stages')
