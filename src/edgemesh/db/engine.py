"""Engines and sessions for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from edgemesh.errors import Conflict, InvalidInput


def normalise_url(url: str) -> str:
    """Use psycopg 3 for any PostgreSQL URL that does not name a driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling begins lazily and deadlocks writers
    # that upgrade from a read; we issue BEGIN IMMEDIATE ourselves instead.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """An engine for the URL, with SQLite tuned for concurrent writers."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


class Database:
    """One site's database: an engine and a way to run a unit of work."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose writes commit together, or not at all."""
        try:
            with self._sessions() as session, session.begin():
                yield session
        except DataError as exc:
            # Input validation keeps values in range; this is the store's own
            # refusal (e.g. a NUL byte PostgreSQL will not keep in text).
            raise InvalidInput(
                "the database refused a value in this request; nothing was written"
            ) from exc
        except IntegrityError as exc:
            # A uniqueness race lost to a concurrent writer; the caller's own
            # checks catch every ordinary duplicate before it gets here.
            raise Conflict(
                "the request clashed with a concurrent change; nothing was written, "
                "retry it"
            ) from exc

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
