"""Lifecycles of units, leases and workloads."""

from __future__ import annotations

from edgemesh.lifecycle import machine

QUEUED = "queued"
LEASED = "leased"
DONE = "done"
FAILED = "failed"

UNIT = machine(
    "unit",
    {
        "lease": (QUEUED, LEASED),
        "complete": (LEASED, DONE),
        "requeue": (LEASED, QUEUED),
        "fail": ({QUEUED, LEASED}, FAILED),
    },
)

ACTIVE = "active"
COMPLETED = "completed"
EXPIRED = "expired"
ABANDONED = "abandoned"

LEASE = machine(
    "lease",
    {
        "complete": (ACTIVE, COMPLETED),
        "expire": (ACTIVE, EXPIRED),
        "abandon": (ACTIVE, ABANDONED),
    },
)

RUNNING = "running"
FINISHED = "finished"

WORKLOAD = machine("workload", {"finish": (RUNNING, FINISHED)})


def retry_or_fail(*, attempts: int, max_attempts: int) -> str:
    """The event for a unit whose lease ended without a result."""
    return "requeue" if attempts < max_attempts else "fail"
