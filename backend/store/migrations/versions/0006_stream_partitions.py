"""stream partitions: each partition's committed position and lease epoch

The command stream is split into partitions read by one engine at a time (backend/bus/stream.py);
where each stands is kept in SQL, in the transaction of the batch it covers, so a new reader
starts exactly after the last committed command and a stale one cannot commit.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 18:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stream_partitions',
    sa.Column('partition', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('epoch', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.String(length=48), nullable=False),
    sa.PrimaryKeyConstraint('partition', name=op.f('pk_stream_partitions'))
    )


def downgrade() -> None:
    op.drop_table('stream_partitions')
