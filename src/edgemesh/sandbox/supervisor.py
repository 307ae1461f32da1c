"""Watching one started program: its capped output, its wall clock and its end."""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from edgemesh.sandbox.launch import Launch
from edgemesh.sandbox.limits import Limits
from edgemesh.sandbox.uids import kill_everything_of
from edgemesh.sandbox.workdir import stdin_file

_READ_CHUNK = 65536
# How long to wait for output still in flight once the program has exited.
_DRAIN_SECONDS = 0.25

_PROCESS_EVIDENCE = re.compile(
    r"BlockingIOError|Resource temporarily unavailable|fork: retry"
)
_MEMORY_EVIDENCE = re.compile(r"MemoryError|Cannot allocate memory|bad_alloc")


@dataclass(frozen=True, kw_only=True)
class Finished:
    """How the supervised process ended, before any attribution."""

    status: int | None
    cpu_ms: int
    stdout: bytes
    stderr: bytes
    truncated: bool
    killed_by: str | None


def supervise(
    launch: Launch, *, limits: Limits, stdin: bytes, uid: int | None
) -> Finished:
    """Start launch, feed it stdin, collect capped output, enforce the wall."""
    deadline = time.monotonic() + limits.wall_seconds
    source = stdin_file(stdin) if stdin else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(
            launch.command,
            stdin=source,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=launch.cwd,
            env=launch.env,
            user=launch.user,
            group=launch.user,
            extra_groups=[] if launch.user is not None else None,
            start_new_session=True,
        )
    finally:
        if stdin:
            os.close(source)

    assert proc.stdout is not None and proc.stderr is not None
    with proc.stdout, proc.stderr:
        return _watch(
            proc,
            proc.stdout.fileno(),
            proc.stderr.fileno(),
            limits=limits,
            deadline=deadline,
            end=lambda killed: _kill_leftovers(
                proc.pid, uid, sweep=killed or launch.user is not None
            ),
        )


def attribute(finished: Finished, limits: Limits) -> str | None:
    """Best-effort name of the limit that ended the run, if one did."""
    status = finished.status
    if status == 0:
        return None

    signum = status - 128 if status is not None and status > 128 else None
    cpu_limit_ms = max(1, limits.cpu_seconds) * 1000
    if signum == signal.SIGXCPU:
        return "cpu"
    if signum == signal.SIGKILL and finished.cpu_ms >= cpu_limit_ms:
        return "cpu"
    if signum == signal.SIGXFSZ:
        return "output"

    # A fork bomb or a failed allocation often ends in a flood or a wall kill,
    # so what the program said about it is the better witness.
    stderr = finished.stderr.decode(errors="replace")
    if _PROCESS_EVIDENCE.search(stderr):
        return "processes"
    if _MEMORY_EVIDENCE.search(stderr) or signum == signal.SIGKILL:
        return "memory"
    return finished.killed_by


def _watch(
    proc: subprocess.Popen[bytes],
    out: int,
    err: int,
    *,
    limits: Limits,
    deadline: float,
    end: Callable[[bool], None],
) -> Finished:
    """Capture output until the program and its streams end, a cap or the wall."""
    captured = {out: bytearray(), err: bytearray()}
    pidfd = os.pidfd_open(proc.pid)
    poller = select.poll()
    for fd in (*captured, pidfd):
        poller.register(fd, select.POLLIN)
    open_streams = set(captured)
    exited = truncated = False
    killed_by: str | None = None
    until = deadline

    try:
        while open_streams or not exited:
            remaining = until - time.monotonic()
            if remaining <= 0:
                killed_by = None if exited else "wall"
                break
            for fd, _ in poller.poll(max(1, round(remaining * 1000))):
                if fd == pidfd:
                    poller.unregister(pidfd)
                    exited = True
                    until = time.monotonic() + _DRAIN_SECONDS
                    # The leader is a zombie until reaped, so its group id
                    # can't have been reused: this only hits its leftovers.
                    end(False)
                    continue
                chunk = os.read(fd, _READ_CHUNK)
                if not chunk:
                    poller.unregister(fd)
                    open_streams.discard(fd)
                    continue
                buffer = captured[fd]
                room = limits.output_bytes - len(buffer)
                buffer += chunk[:room]
                if len(chunk) > room:
                    truncated = True
                    killed_by = "output"
            if killed_by:
                break
    finally:
        if not exited:
            end(True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        os.close(pidfd)

    return Finished(
        status=None if killed_by else (code if code >= 0 else 128 - code),
        cpu_ms=round((usage.ru_utime + usage.ru_stime) * 1000),
        stdout=bytes(captured[out]),
        stderr=bytes(captured[err]),
        truncated=truncated,
        killed_by=killed_by,
    )


def _kill_leftovers(pgid: int, uid: int | None, *, sweep: bool) -> None:
    """Kill the run's process group and, if `sweep`, all its own uid still runs."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)

    # A program that exits on its own under bwrap or unshare takes its pid
    # namespace with it. One we killed may live on: it left our group
    # (setsid), and bwrap's death signal was cleared by the uid change. A
    # plain rlimits run has no namespace at all. The uid finds them all.
    if sweep and uid is not None:
        kill_everything_of(uid)
