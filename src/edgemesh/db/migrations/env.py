"""Alembic environment: runs edgemesh migrations online against one URL."""

from __future__ import annotations

from alembic import context

from edgemesh.db.engine import make_engine
from edgemesh.db.models import Base

url = context.config.get_main_option("sqlalchemy.url")
assert url, "alembic_config() sets sqlalchemy.url"
engine = make_engine(url)
try:
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
finally:
    engine.dispose()
