"""Submitting workloads, holding their price, and reading their progress."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import case, func, insert, select
from sqlalchemy.orm import Session

from edgemesh import clock
from edgemesh.accounts.directory import Principal
from edgemesh.credentials import new_id
from edgemesh.credits import journal
from edgemesh.db.models import Unit, Workload
from edgemesh.errors import DuplicateSubmission, InvalidInput, NotFound
from edgemesh.http.schemas import Label
from edgemesh.logs import get_logger
from edgemesh.workloads.lifecycle import DONE, FAILED, LEASED, QUEUED, RUNNING
from edgemesh.workloads.specs import UnitSpec

log = get_logger(__name__)


class Submission(BaseModel):
    """A workload as a user submits it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["code", "batch"]
    idempotency_key: Label = Field(min_length=1, max_length=200)
    name: Label = Field(default="", max_length=200)
    units: list[UnitSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _code_is_one_unit(self) -> Submission:
        if self.kind == "code" and len(self.units) != 1:
            raise ValueError("a code workload has exactly one unit; use kind=batch")
        return self

    def content_hash(self) -> str:
        """A digest of what was asked, to tell a retry from a different request."""
        body = self.model_dump(mode="json", exclude={"idempotency_key"})
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True, kw_only=True)
class Quote:
    """The price of a submission before it is made."""

    unit_count: int
    unit_price_mc: int
    total_mc: int


@dataclass(frozen=True, kw_only=True)
class Progress:
    """Where a workload stands: units by state, and what it has cost."""

    workload_id: str
    name: str
    kind: str
    state: str
    unit_count: int
    queued: int
    leased: int
    done: int
    failed: int
    passed: int
    unit_price_mc: int
    charged_mc: int
    created_at: datetime
    finished_at: datetime | None


def quote(unit_count: int, *, unit_price_mc: int) -> Quote:
    """The price of `unit_count` units at the current unit price."""
    return Quote(
        unit_count=unit_count,
        unit_price_mc=unit_price_mc,
        total_mc=unit_count * unit_price_mc,
    )


def submit(
    session: Session,
    owner: Principal,
    submission: Submission,
    *,
    unit_price_mc: int,
    max_attempts: int,
    max_units: int,
) -> tuple[Workload, bool]:
    """Queue a workload and hold its price; (workload, created?)."""
    if len(submission.units) > max_units:
        raise InvalidInput(f"a workload may have at most {max_units} units")
    digest = submission.content_hash()
    existing = session.scalar(
        select(Workload).where(
            Workload.owner_id == owner.account_id,
            Workload.idempotency_key == submission.idempotency_key,
        )
    )
    if existing is not None:
        if existing.content_hash != digest:
            raise DuplicateSubmission(
                f"idempotency key '{submission.idempotency_key}' was used for "
                "a different workload"
            )
        return existing, False

    price = quote(len(submission.units), unit_price_mc=unit_price_mc)
    now = clock.now()
    workload = Workload(
        id=new_id(),
        owner_id=owner.account_id,
        kind=submission.kind,
        name=submission.name or submission.kind,
        idempotency_key=submission.idempotency_key,
        content_hash=digest,
        state=RUNNING,
        unit_count=price.unit_count,
        unit_price_mc=price.unit_price_mc,
        created_at=now,
        finished_at=None,
    )
    session.add(workload)
    session.flush()
    journal.hold(
        session,
        account_id=owner.account_id,
        amount_mc=price.total_mc,
        reference=workload.id,
    )
    session.execute(
        insert(Unit),
        [
            {
                "workload_id": workload.id,
                "seq": seq,
                "state": QUEUED,
                "spec": spec.model_dump(mode="json"),
                "attempts": 0,
                "max_attempts": max_attempts,
                "created_at": now,
            }
            for seq, spec in enumerate(submission.units)
        ],
    )
    log.info(
        "workload_submitted",
        workload_id=workload.id,
        owner_id=owner.account_id,
        units=price.unit_count,
        hold_mc=price.total_mc,
    )
    return workload, True


def owned_workload(session: Session, owner: Principal, workload_id: str) -> Workload:
    """One of the caller's workloads, or NotFound (also for other people's)."""
    workload = session.get(Workload, workload_id)
    if workload is None or workload.owner_id != owner.account_id:
        raise NotFound(f"no workload {workload_id}")
    return workload


def progress(session: Session, workload: Workload) -> Progress:
    """Count a workload's units by state."""
    passed_here = case((Unit.result["status"].as_string() == "passed", 1), else_=0)
    rows = session.execute(
        select(Unit.state, func.count(), func.sum(passed_here))
        .where(Unit.workload_id == workload.id)
        .group_by(Unit.state)
    ).all()
    counts = {state: count for state, count, _ in rows}
    passed = sum(int(p or 0) for state, _, p in rows if state == DONE)
    done = counts.get(DONE, 0)
    return Progress(
        workload_id=workload.id,
        name=workload.name,
        kind=workload.kind,
        state=workload.state,
        unit_count=workload.unit_count,
        queued=counts.get(QUEUED, 0),
        leased=counts.get(LEASED, 0),
        done=done,
        failed=counts.get(FAILED, 0),
        passed=passed,
        unit_price_mc=workload.unit_price_mc,
        charged_mc=done * workload.unit_price_mc,
        created_at=workload.created_at,
        finished_at=workload.finished_at,
    )


def units_page(
    session: Session, workload: Workload, *, offset: int, limit: int
) -> list[Unit]:
    """A page of a workload's units in submission order."""
    query = (
        select(Unit)
        .where(Unit.workload_id == workload.id)
        .order_by(Unit.seq)
        .offset(offset)
        .limit(limit)
    )
    return list(session.scalars(query))


def list_workloads(
    session: Session, owner: Principal, *, limit: int = 50
) -> list[Workload]:
    """The caller's newest workloads."""
    query = (
        select(Workload)
        .where(Workload.owner_id == owner.account_id)
        .order_by(Workload.created_at.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def unit_view(unit: Unit) -> dict[str, Any]:
    """A unit as its owner sees it: what ran, how it ended and why."""
    spec = unit.spec
    return {
        "seq": unit.seq,
        "task_id": spec.get("task_id"),
        "state": unit.state,
        "attempts": unit.attempts,
        "node_id": unit.node_id,
        "result": unit.result,
        "error": unit.error,
        "finished_at": unit.finished_at,
    }
