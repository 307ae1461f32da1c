"""How a worker splits the units it pulled into sandbox batches."""

from __future__ import annotations

from typing import Any

from edgemesh.worker.runtime import plan_batches


def grants(*workloads: str) -> list[dict[str, Any]]:
    return [{"lease_id": i, "workload_id": w} for i, w in enumerate(workloads)]


def leases(batches: list[list[dict[str, Any]]]) -> list[list[int]]:
    return [[g["lease_id"] for g in batch] for batch in batches]


def test_one_workload_is_spread_over_the_free_slots() -> None:
    assert leases(plan_batches(grants(*"aaaaaa"), free=2, most=8)) == [
        [0, 1, 2],
        [3, 4, 5],
    ]


def test_batches_never_exceed_the_most() -> None:
    batches = plan_batches(grants(*"a" * 20), free=1, most=8)
    assert [len(b) for b in batches] == [8, 8, 4]


def test_workloads_never_share_a_batch() -> None:
    assert leases(plan_batches(grants(*"abab"), free=1, most=8)) == [[0, 2], [1, 3]]
    assert plan_batches([], free=2, most=8) == []
