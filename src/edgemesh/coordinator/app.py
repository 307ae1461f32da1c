"""The coordinator service (port 4301)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from edgemesh import __version__
from edgemesh.config import Settings
from edgemesh.coordinator import node_api, wallet_api, worker_api, workload_api
from edgemesh.coordinator.state import CoordinatorMetrics, CoordinatorState
from edgemesh.db.engine import Database
from edgemesh.http.errors import install_error_handlers
from edgemesh.http.health import health_router
from edgemesh.logs import get_logger
from edgemesh.workloads.leasing import expire_lease, overdue_leases

log = get_logger(__name__)

SWEEP_SECONDS = 1.0


def _sweep_once(state: CoordinatorState) -> None:
    with state.db.transaction() as session:
        overdue = overdue_leases(session)

    # One transaction per lease: a sweep never holds many locks at once, so
    # it cannot deadlock with a worker posting a result for one of them.
    expired = 0
    for lease_id in overdue:
        with state.db.transaction() as session:
            expired += expire_lease(session, lease_id)
    if expired:
        state.metrics.leases_expired.inc(expired)
        log.info("leases_expired", count=expired)


async def _sweep_forever(state: CoordinatorState) -> None:
    while True:
        try:
            await run_in_threadpool(_sweep_once, state)
        except Exception:
            log.exception("lease_sweep_failed")
        await asyncio.sleep(SWEEP_SECONDS)


def create_coordinator(settings: Settings, db: Database) -> FastAPI:
    """Build the coordinator's ASGI app over a migrated database."""
    state = CoordinatorState(settings=settings, db=db, metrics=CoordinatorMetrics(db))

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(_sweep_forever(state))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper

    app = FastAPI(
        title="edgemesh coordinator",
        version=__version__,
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
    )
    app.state.db = db
    app.state.coordinator = state
    app.state.metrics = state.metrics.registry
    install_error_handlers(app)
    app.include_router(health_router("coordinator"))
    for module in (worker_api, workload_api, node_api, wallet_api):
        app.include_router(module.router)
    return app
