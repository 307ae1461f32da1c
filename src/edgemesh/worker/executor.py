"""Turning a unit's spec into a sandboxed run and a result."""

from __future__ import annotations

import math
from typing import Any

from pydantic import TypeAdapter, ValidationError

from edgemesh.sandbox import Limits, Outcome, Sandbox
from edgemesh.sandbox.humaneval import grade_sample
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


def _result(
    status: str, verdict: str, outcome: Outcome, sandbox: Sandbox
) -> UnitResult:
    return UnitResult(
        status="passed" if status == "passed" else "failed",
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
        return _result("passed", "passed", outcome, sandbox)
    if outcome.limit_hit == "wall":
        verdict = "timed out"
    elif outcome.limit_hit:
        verdict = f"failed: {outcome.limit_hit} limit exceeded"
    else:
        verdict = f"failed: exit status {outcome.exit_status}"
    return _result("failed", verdict, outcome, sandbox)


def _run_humaneval(spec: HumanEvalSpec, sandbox: Sandbox) -> UnitResult:
    verdict, outcome = grade_sample(
        sandbox,
        prompt=spec.prompt,
        completion=spec.completion,
        test=spec.test,
        entry_point=spec.entry_point,
        timeout=spec.timeout,
    )
    return _result(
        "passed" if verdict == "passed" else "failed", verdict, outcome, sandbox
    )


def execute(spec: dict[str, Any], sandbox: Sandbox) -> UnitResult:
    """Run one unit in the sandbox; a spec this worker can't read is an error."""
    try:
        parsed = _specs.validate_python(spec)
    except ValidationError as exc:
        return UnitResult(status="error", verdict=f"unreadable unit spec: {exc}"[:4096])
    if isinstance(parsed, CodeSpec):
        return _run_code(parsed, sandbox)
    return _run_humaneval(parsed, sandbox)
