"""service halls: halls, windows, staff, shifts, hall events, live state, alerts and their log

Revision h001 follows 0006; other branches add 0007 at the same time and the lead re-chains
the revisions when merging. The alert event log is append-only, refused by the database.

Revision ID: h001
Revises: w001
Create Date: 2026-12-03 08:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'h001'
down_revision = 'w001'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('halls',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('township_code', sa.String(length=32), nullable=False),
    sa.Column('county_code', sa.String(length=32), nullable=False),
    sa.Column('hours', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_halls'))
    )
    op.create_table('hall_windows',
    sa.Column('hall_code', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('services', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('hall_code', 'code', name=op.f('pk_hall_windows'))
    )
    op.create_table('hall_staff',
    sa.Column('staff_id', sa.String(length=48), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('hall_code', sa.String(length=32), nullable=False),
    sa.Column('window_code', sa.String(length=16), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.PrimaryKeyConstraint('staff_id', name=op.f('pk_hall_staff'))
    )
    op.create_index(op.f('ix_hall_staff_hall_code'), 'hall_staff', ['hall_code'])
    op.create_table('hall_shifts',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('staff_id', sa.String(length=48), nullable=False),
    sa.Column('hall_code', sa.String(length=32), nullable=False),
    sa.Column('window_code', sa.String(length=16), nullable=False),
    sa.Column('start_time', sa.String(length=5), nullable=False),
    sa.Column('end_time', sa.String(length=5), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hall_shifts'))
    )
    op.create_index(op.f('ix_hall_shifts_hall_code'), 'hall_shifts', ['hall_code'])
    op.create_table('hall_events',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('hall_code', sa.String(length=32), nullable=False),
    sa.Column('window_code', sa.String(length=16), nullable=True),
    sa.Column('type', sa.String(length=24), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hall_events'))
    )
    op.create_index('ix_hall_events_hall_code_at', 'hall_events', ['hall_code', 'at'])
    op.create_table('hall_state',
    sa.Column('hall_code', sa.String(length=32), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('hall_code', name=op.f('pk_hall_state'))
    )
    op.create_table('hall_alerts',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('rule', sa.String(length=32), nullable=False),
    sa.Column('hall_code', sa.String(length=32), nullable=False),
    sa.Column('window_code', sa.String(length=16), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('escalated_at', sa.DateTime(), nullable=True),
    sa.Column('acked_at', sa.DateTime(), nullable=True),
    sa.Column('acked_by', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_by', sa.String(length=64), nullable=True),
    sa.Column('case_ref', sa.String(length=80), nullable=True),
    sa.Column('snapshot_url', sa.String(length=500), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hall_alerts'))
    )
    op.create_index(op.f('ix_hall_alerts_key'), 'hall_alerts', ['key'])
    op.create_index(op.f('ix_hall_alerts_hall_code'), 'hall_alerts', ['hall_code'])
    op.create_index(op.f('ix_hall_alerts_state'), 'hall_alerts', ['state'])
    op.create_table('hall_alert_events',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('alert_id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hall_alert_events'))
    )
    op.create_index(op.f('ix_hall_alert_events_alert_id'), 'hall_alert_events', ['alert_id'])
    op.create_table('hall_silences',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('hall_code', sa.String(length=32), nullable=False),
    sa.Column('window_code', sa.String(length=16), nullable=True),
    sa.Column('rule', sa.String(length=32), nullable=True),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hall_silences'))
    )
    _append_only()


def _append_only() -> None:
    """The alert event log refuses UPDATE and DELETE, like the case event log."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION hall_alert_events_refuse_change() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'hall_alert_events is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER hall_alert_events_append_only BEFORE UPDATE OR DELETE "
            "ON hall_alert_events FOR EACH ROW EXECUTE FUNCTION hall_alert_events_refuse_change()"
        )
    else:
        for what in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER hall_alert_events_no_{what.lower()} BEFORE {what} "
                "ON hall_alert_events "
                "BEGIN SELECT RAISE(ABORT, 'hall_alert_events is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS hall_alert_events_append_only ON hall_alert_events")
        op.execute("DROP FUNCTION IF EXISTS hall_alert_events_refuse_change()")
    for table in ('hall_silences', 'hall_alert_events', 'hall_alerts', 'hall_state',
                  'hall_events', 'hall_shifts', 'hall_staff', 'hall_windows', 'halls'):
        op.drop_table(table)
