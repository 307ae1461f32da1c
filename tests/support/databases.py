"""Fresh databases for tests: a SQLite file, or a new PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from edgemesh.db.migrate import upgrade

PG_URL_ENV = "EDGEMESH_TEST_PG_URL"


def postgres_admin_url() -> str | None:
    """The superuser URL the test command found or set up, if any."""
    return os.environ.get(PG_URL_ENV)


@contextmanager
def fresh_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of `kind` ("sqlite" or "postgres"); dropped after."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'edgemesh.db'}"
        upgrade(url)
        yield url
        return

    admin = postgres_admin_url()
    assert admin, f"{PG_URL_ENV} is not set; run the suite with `make test`"
    name = f"edgemesh_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, _ = admin.rpartition("/")
    url = f"{base}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )
