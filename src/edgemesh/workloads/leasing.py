"""Leasing units to workers, expiring leases, and accepting results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from edgemesh import clock
from edgemesh.credits import journal
from edgemesh.db.models import Lease, Node, Unit, Workload
from edgemesh.errors import LeaseExpired, LeaseNotHeld, NodeNotActive, NotFound
from edgemesh.logs import get_logger
from edgemesh.nodes.lifecycle import ACTIVE as NODE_ACTIVE
from edgemesh.workloads import lifecycle as lc
from edgemesh.workloads.specs import UnitResult

log = get_logger(__name__)


@dataclass(frozen=True, kw_only=True)
class Grant:
    """A unit handed to a worker under a lease."""

    unit_id: int
    lease_id: int
    workload_id: str
    deadline: datetime
    spec: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class Acceptance:
    """How the coordinator took a posted result."""

    unit_id: int
    state: str
    duplicate: bool


@dataclass(frozen=True, kw_only=True)
class Policy:
    """The site settings that govern leases and payment."""

    lease_seconds: float
    fee_bps: int


def _workload_of(session: Session, unit: Unit) -> Workload:
    workload = session.get(Workload, unit.workload_id)
    assert workload is not None, "units always belong to a workload"
    return workload


def _finish_if_complete(session: Session, workload: Workload) -> None:
    # Two last units finishing at once would each still see the other open
    # and neither would finish the workload; the row lock makes the second
    # look again after the first commits.
    session.execute(
        select(Workload.id).where(Workload.id == workload.id).with_for_update()
    )
    open_units = session.scalar(
        select(
            exists().where(
                Unit.workload_id == workload.id, Unit.state.in_([lc.QUEUED, lc.LEASED])
            )
        )
    )
    if not open_units and lc.WORKLOAD.can(workload.state, "finish"):
        workload.state = lc.WORKLOAD.next_state(workload.state, "finish")
        workload.finished_at = clock.now()
        log.info("workload_finished", workload_id=workload.id)


def _end_without_result(
    session: Session, lease: Lease, *, event: str, why: str
) -> None:
    """A lease ended with no usable result: requeue the unit, or let it die."""
    unit = session.get(Unit, lease.unit_id, with_for_update=True)
    assert unit is not None, "leases always belong to a unit"
    lease.state = lc.LEASE.next_state(lease.state, event)
    lease.ended_at = clock.now()
    unit.lease_id = None
    unit_event = lc.retry_or_fail(
        attempts=unit.attempts, max_attempts=unit.max_attempts
    )
    unit.state = lc.UNIT.next_state(unit.state, unit_event)
    if unit_event == "requeue":
        log.info("unit_requeued", unit_id=unit.id, lease_id=lease.id, why=why)
        return

    unit.error = f"gave up after {unit.attempts} attempts; last: {why}"
    unit.finished_at = clock.now()
    workload = _workload_of(session, unit)
    journal.release(
        session,
        account_id=workload.owner_id,
        amount_mc=workload.unit_price_mc,
        reference=f"unit:{unit.id}",
    )
    log.info("unit_failed", unit_id=unit.id, why=why)
    _finish_if_complete(session, workload)


def overdue_leases(
    session: Session, *, now: datetime | None = None, limit: int = 1000
) -> list[int]:
    """Ids of active leases past their deadline, oldest first."""
    now = now or clock.now()
    query = (
        select(Lease.id)
        .where(Lease.state == lc.ACTIVE, Lease.deadline < now)
        .order_by(Lease.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def expire_lease(
    session: Session, lease_id: int, *, now: datetime | None = None
) -> bool:
    """Expire one lease if it is still active and overdue; True if it was."""
    now = now or clock.now()
    lease = session.scalar(
        select(Lease)
        .where(Lease.id == lease_id, Lease.state == lc.ACTIVE, Lease.deadline < now)
        .with_for_update(skip_locked=True)
    )
    if lease is None:
        return False  # finished, renewed, or being handled right now

    _end_without_result(
        session,
        lease,
        event="expire",
        why=f"lease expired on node {lease.node_id}",
    )
    return True


def _active_lease_count(session: Session, node_id: str) -> int:
    count = session.scalar(
        select(func.count()).where(Lease.node_id == node_id, Lease.state == lc.ACTIVE)
    )
    return count or 0


def pull(session: Session, node: Node, *, want: int, policy: Policy) -> list[Grant]:
    """Lease up to `want` queued units to an active node, within its capacity."""
    if node.state != NODE_ACTIVE:
        raise NodeNotActive(f"node {node.id} is {node.state}; it gets no work")
    capacity = node.slots * int(node.capabilities.get("batch", 1))
    room = min(want, capacity - _active_lease_count(session, node.id))
    if room <= 0:
        return []

    units = session.scalars(
        select(Unit)
        .where(Unit.state == lc.QUEUED)
        .order_by(Unit.id)
        .limit(room)
        .with_for_update(skip_locked=True)
    ).all()
    now = clock.now()
    deadline = now + timedelta(seconds=policy.lease_seconds)
    leases = [
        Lease(
            unit_id=unit.id,
            node_id=node.id,
            state=lc.ACTIVE,
            created_at=now,
            deadline=deadline,
            ended_at=None,
        )
        for unit in units
    ]
    session.add_all(leases)
    session.flush()  # one batched INSERT gives every lease its id
    grants = []
    for unit, lease in zip(units, leases, strict=True):
        unit.state = lc.UNIT.next_state(unit.state, "lease")
        unit.attempts += 1
        unit.lease_id = lease.id
        grants.append(
            Grant(
                unit_id=unit.id,
                lease_id=lease.id,
                workload_id=unit.workload_id,
                deadline=deadline,
                spec=unit.spec,
            )
        )
    if grants:
        log.debug("units_leased", node_id=node.id, count=len(grants))
    return grants


def renew(session: Session, node: Node, *, running: set[int], policy: Policy) -> None:
    """A heartbeat: extend the leases the worker still runs, drop the rest."""
    now = clock.now()
    node.last_heartbeat_at = now
    leases = session.scalars(
        select(Lease)
        .where(Lease.node_id == node.id, Lease.state == lc.ACTIVE)
        .with_for_update()
    ).all()
    for lease in leases:
        if lease.id in running:
            lease.deadline = now + timedelta(seconds=policy.lease_seconds)
            continue
        # A lease granted after the worker built this heartbeat is not lost.
        if clock.as_utc(lease.created_at) > now - timedelta(
            seconds=policy.lease_seconds / 3
        ):
            continue
        _end_without_result(
            session,
            lease,
            event="abandon",
            why=f"node {node.id} no longer runs it",
        )


def accept_result(
    session: Session, node: Node, *, lease_id: int, result: UnitResult, policy: Policy
) -> Acceptance:
    """Take a worker's result for a lease it holds; posting twice is harmless."""
    row = session.execute(
        select(Lease, Unit, Workload)
        .join(Unit, Unit.id == Lease.unit_id)
        .join(Workload, Workload.id == Unit.workload_id)
        .where(Lease.id == lease_id)
        .with_for_update(of=[Lease, Unit])
    ).one_or_none()
    if row is None:
        raise NotFound(f"no lease {lease_id}")
    lease, unit, workload = row
    if lease.node_id != node.id:
        raise LeaseNotHeld(f"lease {lease_id} is not held by node {node.id}")

    if lease.state == lc.COMPLETED:
        return Acceptance(unit_id=unit.id, state=unit.state, duplicate=True)
    if lease.state != lc.ACTIVE:
        raise LeaseExpired(
            f"lease {lease_id} is {lease.state}; the unit went back to the queue"
        )

    if result.status == "error":
        _end_without_result(session, lease, event="abandon", why=result.verdict)
        return Acceptance(unit_id=unit.id, state=unit.state, duplicate=False)

    lease.state = lc.LEASE.next_state(lease.state, "complete")
    lease.ended_at = clock.now()
    unit.state = lc.UNIT.next_state(unit.state, "complete")
    unit.result = result.model_dump(mode="json")
    unit.node_id = node.id
    unit.finished_at = lease.ended_at
    journal.capture(
        session,
        payer_id=workload.owner_id,
        payee_id=node.owner_id,
        amount_mc=workload.unit_price_mc,
        fee_bps=policy.fee_bps,
        reference=f"unit:{unit.id}",
    )
    unit.paid_mc = workload.unit_price_mc - journal.fee_of(
        workload.unit_price_mc, policy.fee_bps
    )
    log.info(
        "unit_done",
        unit_id=unit.id,
        lease_id=lease.id,
        node_id=node.id,
        status=result.status,
    )
    _finish_if_complete(session, workload)
    return Acceptance(unit_id=unit.id, state=unit.state, duplicate=False)
