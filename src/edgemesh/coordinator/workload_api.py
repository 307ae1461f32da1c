"""Routes application users call to submit and follow workloads."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from edgemesh.accounts.directory import Principal
from edgemesh.accounts.lifecycle import Role
from edgemesh.coordinator.state import coordinator_state
from edgemesh.errors import InvalidInput
from edgemesh.http.auth import require_roles
from edgemesh.http.schemas import ERROR_RESPONSES
from edgemesh.workloads import submission as sub

router = APIRouter(prefix="/v1", tags=["workloads"], responses=ERROR_RESPONSES)
user = require_roles(Role.USER)


class UnitsPage(BaseModel):
    """A page of a workload's units."""

    model_config = ConfigDict(frozen=True)

    offset: int
    units: list[dict[str, Any]]
    next_offset: int | None


@router.get("/quote")
def get_quote(request: Request, units: int = Query(ge=1, le=10**9)) -> sub.Quote:
    """What `units` units would cost now."""
    settings = coordinator_state(request).settings
    if units > settings.max_units_per_workload:
        raise InvalidInput(
            f"a workload may have at most {settings.max_units_per_workload} units"
        )
    return sub.quote(units, unit_price_mc=settings.unit_price_mc)


@router.post("/workloads", status_code=201)
def submit_workload(
    body: sub.Submission,
    request: Request,
    response: Response,
    principal: Principal = Depends(user),
) -> sub.Progress:
    """Submit a workload; its price is held until its units finish."""
    state = coordinator_state(request)
    settings = state.settings
    with state.db.transaction() as session:
        workload, created = sub.submit(
            session,
            principal,
            body,
            unit_price_mc=settings.unit_price_mc,
            max_attempts=settings.max_attempts,
            max_units=settings.max_units_per_workload,
        )
        if not created:
            response.status_code = 200
        return sub.progress(session, workload)


@router.get("/workloads")
def list_workloads(
    request: Request, principal: Principal = Depends(user)
) -> list[sub.Progress]:
    """The caller's newest workloads with their progress."""
    with coordinator_state(request).db.transaction() as session:
        return [
            sub.progress(session, w) for w in sub.list_workloads(session, principal)
        ]


@router.get("/workloads/{workload_id}")
def get_workload(
    workload_id: str, request: Request, principal: Principal = Depends(user)
) -> sub.Progress:
    """One of the caller's workloads with its progress."""
    with coordinator_state(request).db.transaction() as session:
        workload = sub.owned_workload(session, principal, workload_id)
        return sub.progress(session, workload)


@router.get("/workloads/{workload_id}/units")
def get_units(
    workload_id: str,
    request: Request,
    principal: Principal = Depends(user),
    offset: int = Query(default=0, ge=0, le=2**31),
    limit: int = Query(default=500, ge=1, le=5000),
) -> UnitsPage:
    """A page of the workload's units with their results, in submission order."""
    with coordinator_state(request).db.transaction() as session:
        workload = sub.owned_workload(session, principal, workload_id)
        units = sub.units_page(session, workload, offset=offset, limit=limit)
        views = [sub.unit_view(u) for u in units]
    more = offset + len(views) < workload.unit_count
    return UnitsPage(
        offset=offset, units=views, next_offset=offset + len(views) if more else None
    )
