"""the handler's workbench: photos sent with a resolution, and a person's own events by index

Revision ID: w001
Revises: r001
Create Date: 2026-12-03 08:40:00
"""
from alembic import op
import sqlalchemy as sa

from backend.store.models import UTCDateTime


revision = 'w001'
down_revision = 'r001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('resolution_photos',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resolution_photos'))
    )
    op.create_index(op.f('ix_resolution_photos_case_id'), 'resolution_photos', ['case_id'], unique=False)
    op.create_index('ix_case_events_actor_at', 'case_events', ['actor', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_case_events_actor_at', table_name='case_events')
    op.drop_index(op.f('ix_resolution_photos_case_id'), table_name='resolution_photos')
    op.drop_table('resolution_photos')
