"""Liveness, readiness and Prometheus metrics, the same on every service."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import text

from edgemesh.db.engine import Database


def health_router(service: str) -> APIRouter:
    """Routes /health/live, /health/ready and /metrics for one service."""
    router = APIRouter(tags=["health"])

    @router.get("/health/live")
    def live() -> dict[str, str]:
        """The process answers."""
        return {"service": service, "status": "live"}

    @router.get("/health/ready")
    def ready(request: Request) -> JSONResponse:
        """The service can do its work: its database answers."""
        db: Database = request.app.state.db
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:
            return JSONResponse(
                {"service": service, "status": "unready", "database": repr(exc)[:200]},
                status_code=503,
            )
        return JSONResponse(
            {"service": service, "status": "ready", "database": db.engine.dialect.name}
        )

    @router.get("/metrics")
    def metrics(request: Request) -> Response:
        """Prometheus text exposition of this service's metrics."""
        registry: CollectorRegistry = request.app.state.metrics
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
