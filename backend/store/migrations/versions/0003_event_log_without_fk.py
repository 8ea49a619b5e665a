"""the event log without a foreign key to cases

The engine writes a case and its events in one transaction, so the log cannot name a case that
is not there; the foreign key only re-checked that, row by row. On PostgreSQL its per-row check
was three quarters of an event insert (3.8 of 4.7 ms for 100 events of scattered cases), which
the clock's tick and every batch paid. The append-only triggers stay, recreated on SQLite,
where dropping a constraint rebuilds the table.

Revision ID: 0003
Revises: 0002d
Create Date: 2026-12-01 23:55:00
"""
from alembic import op

revision = '0003'
down_revision = '0002d'
branch_labels = None
depends_on = None

FK = "fk_case_events_case_id_cases"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(FK, "case_events", type_="foreignkey")
        return
    _drop_sqlite_triggers()
    with op.batch_alter_table("case_events", recreate="always") as batch_op:
        batch_op.drop_constraint(FK, type_="foreignkey")
    _create_sqlite_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_foreign_key(FK, "case_events", "cases", ["case_id"], ["id"])
        return
    _drop_sqlite_triggers()
    with op.batch_alter_table("case_events", recreate="always") as batch_op:
        batch_op.create_foreign_key(FK, "cases", ["case_id"], ["id"])
    _create_sqlite_triggers()


def _drop_sqlite_triggers() -> None:
    op.execute("DROP TRIGGER IF EXISTS case_events_no_update")
    op.execute("DROP TRIGGER IF EXISTS case_events_no_delete")


def _create_sqlite_triggers() -> None:
    op.execute(
        "CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events "
        "BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END"
    )
    op.execute(
        "CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events "
        "BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END"
    )
