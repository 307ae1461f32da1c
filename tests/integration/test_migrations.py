"""Migrations produce exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from edgemesh.db.engine import make_engine
from edgemesh.db.migrate import upgrade
from edgemesh.db.models import Base


def test_migrated_schema_matches_models(database_url: str) -> None:
    upgrade(database_url)  # a second upgrade on a migrated database is a no-op
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True}
            )
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()

    assert differences == []
