"""Submitting samples as one batch workload and collecting their verdicts."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgemesh.client import SiteClient
from edgemesh.evaluation.passk import mean_pass_at_k
from edgemesh.evaluation.samples import Sample

ProgressCallback = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, kw_only=True)
class Graded:
    """The outcome of grading a samples file."""

    workload_id: str
    records: list[dict[str, Any]]
    pass_at_k: dict[str, float]
    charged_mc: int
    seconds: float


def batch_for(
    samples: list[Sample],
    problems: dict[str, dict[str, Any]],
    *,
    timeout: float,
    name: str,
) -> dict[str, Any]:
    """The batch workload that grades every sample against its task's test."""
    units = []
    for sample in samples:
        problem = problems[sample.task_id]
        units.append(
            {
                "kind": "humaneval",
                "task_id": sample.task_id,
                "prompt": problem["prompt"],
                "completion": sample.completion,
                "test": problem["test"],
                "entry_point": problem["entry_point"],
                "timeout": timeout,
            }
        )
    digest = hashlib.sha256(json.dumps(units, sort_keys=True).encode()).hexdigest()
    return {
        "kind": "batch",
        "name": name,
        "idempotency_key": f"eval-{digest}",
        "units": units,
    }


def follow(
    client: SiteClient,
    workload_id: str,
    on_progress: ProgressCallback,
    *,
    poll: float = 0.1,
) -> dict[str, Any]:
    """Poll a workload until it finishes, reporting progress on the way."""
    while True:
        view = client.workload(workload_id)
        on_progress(view)
        if view["state"] == "finished":
            return view
        time.sleep(poll)


def grade(
    client: SiteClient,
    samples: list[Sample],
    problems: dict[str, dict[str, Any]],
    *,
    timeout: float,
    name: str,
    on_progress: ProgressCallback,
) -> Graded:
    """Grade every sample on the site and put the verdicts back in input order."""
    began = time.perf_counter()
    workload = client.submit(batch_for(samples, problems, timeout=timeout, name=name))
    final = follow(client, workload["workload_id"], on_progress)
    units = list(client.units(workload["workload_id"]))

    records = []
    for sample, unit in zip(samples, units, strict=True):
        if unit["state"] == "done":
            verdict = unit["result"]["verdict"]
        else:
            verdict = f"failed: not graded ({unit['error']})"
        records.append(
            {**sample.record, "result": verdict, "passed": verdict == "passed"}
        )

    per_task: dict[str, list[bool]] = {}
    for record in records:
        per_task.setdefault(record["task_id"], []).append(record["passed"])
    counts = [(len(v), sum(v)) for v in per_task.values()]
    return Graded(
        workload_id=workload["workload_id"],
        records=records,
        pass_at_k=mean_pass_at_k(counts),
        charged_mc=final["charged_mc"],
        seconds=time.perf_counter() - began,
    )


def write_results(path: Path, records: list[dict[str, Any]]) -> None:
    """Write the graded records as JSONL next to the samples, atomically."""
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")
    partial.replace(path)


def verdict_counts(records: list[dict[str, Any]]) -> Counter[str]:
    """How many samples passed, failed and timed out."""
    kinds: Counter[str] = Counter()
    for record in records:
        result = record["result"]
        kinds[
            "passed"
            if result == "passed"
            else "timed out"
            if result == "timed out"
            else "failed"
        ] += 1
    return kinds
