"""The health page's question to the database: does it answer at all."""

from __future__ import annotations

from sqlalchemy import Connection, select


def database_answers(conn: Connection) -> None:
    """Run the cheapest query there is; raises whatever the driver raises when it cannot."""
    conn.execute(select(1)).scalar_one()
