"""Routes workers call, authenticated by their node's registration token."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from edgemesh.coordinator.state import CoordinatorState, coordinator_state
from edgemesh.errors import LeaseExpired, LeaseNotHeld, NotFound
from edgemesh.http.auth import bearer, source_ip, token_scheme
from edgemesh.http.schemas import ERROR_RESPONSES, ErrorBody, Label, RowId
from edgemesh.nodes import registry
from edgemesh.workloads import leasing
from edgemesh.workloads.specs import UnitResult

router = APIRouter(
    prefix="/v1/worker",
    tags=["worker"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(token_scheme)],
)


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Registration(_Body):
    """What a worker tells the coordinator about itself."""

    sandbox_kind: Literal["bwrap", "unshare", "rlimits"]
    runtime_version: Label = Field(max_length=32)
    slots: int = Field(strict=True, ge=1, le=256)
    languages: list[Annotated[Label, Field(max_length=32)]] = Field(
        default_factory=lambda: ["python"], max_length=16
    )
    memory_mb: int = Field(default=0, strict=True, ge=0, le=2**40)
    batch: int = Field(default=1, strict=True, ge=1, le=64)


class NodeStatus(_Body):
    """The node's state as the coordinator sees it."""

    node_id: str
    state: str
    heartbeat_seconds: float


class Heartbeat(_Body):
    """The leases a worker is still running."""

    running: list[RowId] = Field(default_factory=list, max_length=1024)


class PullRequest(_Body):
    """How many units a worker can take now."""

    max_units: int = Field(strict=True, ge=1, le=256)


class LeasedUnit(_Body):
    """One unit leased to the calling worker."""

    unit_id: int
    lease_id: int
    workload_id: str
    deadline: datetime
    spec: dict[str, Any]


class PullResponse(_Body):
    """The units leased by one pull."""

    units: list[LeasedUnit]


class ResultPost(_Body):
    """A worker's result for a lease it holds."""

    lease_id: RowId
    result: UnitResult


class ResultAck(_Body):
    """How the coordinator took a result."""

    unit_id: int
    state: str
    duplicate: bool


class ResultBatch(_Body):
    """Several results at once, each for a lease the worker holds."""

    results: list[ResultPost] = Field(min_length=1, max_length=256)


class BatchItemAck(_Body):
    """How one result of a batch was taken, or why it was refused."""

    lease_id: int
    ack: ResultAck | None = None
    error: ErrorBody | None = None


class BatchAck(_Body):
    """One answer per result, in the order they were sent."""

    results: list[BatchItemAck]


def _status(state: CoordinatorState, node_id: str, node_state: str) -> NodeStatus:
    return NodeStatus(
        node_id=node_id,
        state=node_state,
        heartbeat_seconds=state.policy.lease_seconds / 3,
    )


@router.post("/register")
def register(body: Registration, request: Request) -> NodeStatus:
    """Present the registration token; the node becomes pending approval."""
    state = coordinator_state(request)
    info = registry.WorkerInfo(
        sandbox_kind=body.sandbox_kind,
        runtime_version=body.runtime_version,
        slots=body.slots,
        capabilities={
            "languages": body.languages,
            "memory_mb": body.memory_mb,
            "batch": body.batch,
        },
    )
    with state.db.transaction() as session:
        node = registry.node_for_token(session, bearer(request), lock=True)
        registry.register(session, node, info=info, source_ip=source_ip(request))
        return _status(state, node.id, node.state)


@router.post("/heartbeat")
def heartbeat(body: Heartbeat, request: Request) -> NodeStatus:
    """Keep the node's leases alive and learn its current state."""
    state = coordinator_state(request)
    with state.db.transaction() as session:
        node = registry.node_for_token(session, bearer(request), lock=True)
        leasing.renew(session, node, running=set(body.running), policy=state.policy)
        return _status(state, node.id, node.state)


@router.post("/pull")
def pull(body: PullRequest, request: Request) -> PullResponse:
    """Lease up to `max_units` units this node may run."""
    state = coordinator_state(request)
    want = min(body.max_units, state.settings.max_pull)
    with state.db.transaction() as session:
        node = registry.node_for_token(session, bearer(request), lock=True)
        grants = leasing.pull(session, node, want=want, policy=state.policy)
    state.metrics.units_leased.inc(len(grants))
    units = [LeasedUnit.model_validate(g, from_attributes=True) for g in grants]
    return PullResponse(units=units)


def _take_result(
    state: CoordinatorState, request: Request, body: ResultPost
) -> ResultAck:
    with state.db.transaction() as session:
        node = registry.node_for_token(session, bearer(request))
        ack = leasing.accept_result(
            session,
            node,
            lease_id=body.lease_id,
            result=body.result,
            policy=state.policy,
        )
    if not ack.duplicate:
        state.metrics.results.labels(status=body.result.status).inc()
    return ResultAck(unit_id=ack.unit_id, state=ack.state, duplicate=ack.duplicate)


@router.post("/results")
def post_result(body: ResultPost, request: Request) -> ResultAck:
    """Report the result of a leased unit; the same post twice counts once."""
    return _take_result(coordinator_state(request), request, body)


@router.post("/results/batch")
def post_results(body: ResultBatch, request: Request) -> BatchAck:
    """Report several results; each is taken, or refused, on its own."""
    state = coordinator_state(request)
    items = []
    for result in body.results:
        try:
            ack = _take_result(state, request, result)
        except (LeaseNotHeld, LeaseExpired, NotFound) as exc:
            error = ErrorBody(error=exc.code, detail=exc.detail)
            items.append(BatchItemAck(lease_id=result.lease_id, error=error))
            continue
        items.append(BatchItemAck(lease_id=result.lease_id, ack=ack))
    return BatchAck(results=items)
