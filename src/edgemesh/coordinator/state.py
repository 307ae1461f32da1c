"""What the coordinator's routes share: settings, database, policy, metrics."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import func, select

from edgemesh.config import Settings
from edgemesh.db.engine import Database
from edgemesh.db.models import Unit
from edgemesh.workloads.leasing import Policy
from edgemesh.workloads.lifecycle import QUEUED


class CoordinatorMetrics:
    """The coordinator's Prometheus metrics, in a registry of their own."""

    def __init__(self, db: Database) -> None:
        self.registry = CollectorRegistry()
        self.units_leased = Counter(
            "edgemesh_units_leased", "Units handed to workers", registry=self.registry
        )
        self.results = Counter(
            "edgemesh_unit_results",
            "Results accepted, by status",
            ["status"],
            registry=self.registry,
        )
        self.leases_expired = Counter(
            "edgemesh_leases_expired", "Leases that ran out", registry=self.registry
        )
        queue_depth = Gauge(
            "edgemesh_queue_depth", "Units waiting for a worker", registry=self.registry
        )
        queue_depth.set_function(lambda: _count_queued(db))


def _count_queued(db: Database) -> float:
    with db.transaction() as session:
        count = session.scalar(select(func.count()).where(Unit.state == QUEUED))
    return float(count or 0)


@dataclass(frozen=True, kw_only=True)
class CoordinatorState:
    """Everything a coordinator route needs, built once per process."""

    settings: Settings
    db: Database
    metrics: CoordinatorMetrics

    @property
    def policy(self) -> Policy:
        """Lease and payment rules from the settings."""
        return Policy(
            lease_seconds=self.settings.lease_seconds,
            fee_bps=self.settings.coordinator_fee_bps,
        )


def coordinator_state(request: Request) -> CoordinatorState:
    """The coordinator's shared state, as a route sees it."""
    state: CoordinatorState = request.app.state.coordinator
    return state
