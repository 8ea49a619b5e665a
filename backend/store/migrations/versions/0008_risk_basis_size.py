"""risk basis size: how many similar past stages an overdue risk is based on

The leader's risk screen says what each probability rests on (issue 10); the number is stored
with the probability when the model scores the open cases. Existing rows keep NULL until the
next refresh (every five minutes).

Revision ID: r001
Revises: u001
Create Date: 2026-12-03 08:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'r001'
down_revision = 'u001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('drill_case_risk', schema=None) as batch_op:
        batch_op.add_column(sa.Column('n_similar', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('drill_case_risk', schema=None) as batch_op:
        batch_op.drop_column('n_similar')
