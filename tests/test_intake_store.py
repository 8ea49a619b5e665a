"""The intake tables: the migrations build exactly what store/models.py declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from backend.store.models import metadata


def test_the_migrations_build_the_models(db_url_and_engine):
    _, engine = db_url_and_engine
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, metadata) == []
