"""Running one untrusted program in a throwaway directory, as isolated as we can."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from edgemesh.logs import get_logger
from edgemesh.sandbox import uids
from edgemesh.sandbox.launch import Launcher
from edgemesh.sandbox.limits import Limits, Outcome
from edgemesh.sandbox.supervisor import attribute, supervise
from edgemesh.sandbox.workdir import checked, work_dir

log = get_logger(__name__)

KINDS = ("bwrap", "unshare", "rlimits")


class Sandbox:
    """One way of isolating programs on this machine: bwrap, unshare or rlimits."""

    def __init__(self, kind: str, *, interpreter: str | None = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown sandbox kind {kind!r}")
        self.kind = kind
        self.interpreter = interpreter or sys.executable
        self._as_root = os.geteuid() == 0
        self._launcher = Launcher(kind, self.interpreter, as_root=self._as_root)

    def run(
        self,
        *,
        files: dict[str, str],
        argv: list[str],
        limits: Limits,
        stdin: bytes = b"",
    ) -> Outcome:
        """Run argv in a fresh work dir holding files, within limits."""
        paths = checked(files)
        if not argv:
            raise ValueError("argv is empty")
        if argv[0] == "python":
            argv = [self.interpreter, *argv[1:]]

        uid = uids.pool.acquire() if self._as_root else None
        started = time.monotonic()
        try:
            with work_dir(paths, owner=uid) as workdir:
                launch = self._launcher.launch(workdir, argv, limits, uid)
                finished = supervise(launch, limits=limits, stdin=stdin, uid=uid)
        finally:
            if uid is not None:
                # Zombies count against RLIMIT_NPROC until reaped, and a
                # container's init may take its time doing that.
                uids.pool.release(uid, clean=uid not in uids.in_use())

        outcome = Outcome(
            exit_status=finished.status,
            stdout=finished.stdout.decode(errors="replace"),
            stderr=finished.stderr.decode(errors="replace"),
            wall_ms=round((time.monotonic() - started) * 1000),
            cpu_ms=finished.cpu_ms,
            limit_hit=attribute(finished, limits),
            output_truncated=finished.truncated,
        )
        log.debug(
            "sandbox_run",
            kind=self.kind,
            program=Path(argv[0]).name,
            files=len(files),
            exit_status=outcome.exit_status,
            limit_hit=outcome.limit_hit,
            wall_ms=outcome.wall_ms,
            cpu_ms=outcome.cpu_ms,
        )
        return outcome
