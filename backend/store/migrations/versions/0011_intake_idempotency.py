"""intake idempotency: a report remembers the key it was sent with (a REST ref, a hotline
order number, an Idempotency-Key header), so a retry answers with what the first made

Revision ID: i014
Revises: h001
Create Date: 2026-12-03 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'i014'
down_revision = 'h001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_reports') as batch:
        batch.add_column(sa.Column('idem_key', sa.String(length=64), nullable=True))
        batch.create_unique_constraint(op.f('uq_case_reports_idem_key'), ['idem_key'])


def downgrade() -> None:
    with op.batch_alter_table('case_reports') as batch:
        batch.drop_constraint(op.f('uq_case_reports_idem_key'), type_='unique')
        batch.drop_column('idem_key')
