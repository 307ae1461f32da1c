"""The command line that starts a program under each sandbox kind, within limits."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from edgemesh.errors import SandboxUnavailable
from edgemesh.sandbox.limits import Limits

# What a program sees of the world: a clean environment and, under bwrap, its
# work dir at a fixed path no interpreter install is likely to use.
_SANDBOX_HOME = "/sandbox"
_PATH = "/usr/local/bin:/usr/bin:/bin"
_BASE_ENV = {
    "PATH": _PATH,
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
    "PYTHONNOUSERSITE": "1",
}

# Limits has no disk budget, so files and private tmpfs mounts get a fixed one.
_FILE_BYTES = 64 * 1024 * 1024
_TMPFS_BYTES = 64 * 1024 * 1024

# The uid a program runs as inside bwrap's user namespace when we are not root.
_NOBODY = 65534

_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_FILES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "timezone",
    "passwd",
    "group",
    "nsswitch.conf",
    "hosts",
    "mime.types",
    "alternatives",
)
# Hidden behind empty tmpfs mounts by the unshare kind; what the program needs
# from inside them (the interpreter, its work dir) is bound back.
_HIDDEN_DIRS = (
    ("/root", "mode=755,size=1m"),
    ("/home", "mode=755,size=1m"),
    ("/run", "mode=755,size=1m"),
    ("/mnt", "mode=755,size=1m"),
    ("/media", "mode=755,size=1m"),
    ("/srv", "mode=755,size=1m"),
    ("/tmp", f"mode=1777,size={_TMPFS_BYTES}"),
    ("/var/tmp", f"mode=1777,size={_TMPFS_BYTES}"),
    ("/dev/shm", f"mode=1777,size={_TMPFS_BYTES}"),
)

# Runs as `python -I -S -c _SETUP SPEC` where no util-linux binary can do the
# job: it hides and binds directories (unshare kind), sets rlimits, drops to the
# run's uid and execs the program. A pid-1 set-up stays behind as the reaper.
_SETUP = """
import ctypes, json, os, resource, sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 32, 4096, 16384
KEPT_FLAGS = os.ST_NOSUID | os.ST_NODEV | os.ST_NOEXEC | os.ST_NOATIME
KEPT_FLAGS |= os.ST_NODIRATIME
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 24, 38

spec = json.loads(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)


def mount(source, target, fstype, flags, data):
    if libc.mount(source, target.encode(), fstype, flags, data) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), target)


os.umask(0o022)
held = [(os.open(p, os.O_PATH | os.O_CLOEXEC), p, rw) for p, rw in spec["keep"]]
for path, options in spec["hide"]:
    if os.path.isdir(path) and not os.path.islink(path):
        mount(b"tmpfs", path, b"tmpfs", MS_NOSUID | MS_NODEV, options.encode())
for fd, path, writable in held:
    os.makedirs(path, exist_ok=True)
    mount(f"/proc/self/fd/{fd}".encode(), path, None, MS_BIND | MS_REC, None)
    if not writable:
        kept = os.statvfs(path).f_flag & KEPT_FLAGS
        mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept, None)
    os.close(fd)
os.chdir(spec["cwd"])

if os.getpid() == 1:
    child = os.fork()
    if child:
        while True:
            pid, status = os.wait()
            if pid == child:
                code = os.waitstatus_to_exitcode(status)
                os._exit(code if code >= 0 else 128 - code)

for name, soft, hard in spec["limits"]:
    resource.setrlimit(getattr(resource, name), (soft, hard))
if spec["uid"] is not None:
    for cap in range(64):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    os.setgroups([])
    os.setresgid(spec["uid"], spec["uid"], spec["uid"])
    os.setresuid(spec["uid"], spec["uid"], spec["uid"])
libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
os.execvpe(spec["argv"][0], spec["argv"], spec["env"])
"""


@dataclass(frozen=True, kw_only=True)
class Launch:
    """A command line and the cwd, uid and environment Popen starts it with."""

    command: list[str]
    cwd: str | None = None
    user: int | None = None
    env: dict[str, str] = field(default_factory=lambda: {"PATH": _PATH})


class Launcher:
    """How programs start under one sandbox kind, with this machine's tools."""

    def __init__(self, kind: str, interpreter: str, *, as_root: bool) -> None:
        self._kind = kind
        self._interpreter = interpreter
        self._as_root = as_root
        self._prlimit = shutil.which("prlimit")
        self._setpriv = shutil.which("setpriv")
        self._unshare = shutil.which("unshare")
        self._bwrap_args = self._bwrap_setup() if kind == "bwrap" else []

    def launch(
        self, workdir: Path, argv: list[str], limits: Limits, uid: int | None
    ) -> Launch:
        """How to start argv in workdir under this kind, within limits, as uid."""
        if self._kind == "bwrap":
            env = _BASE_ENV | {"HOME": _SANDBOX_HOME, "TMPDIR": "/tmp"}
            tail = self._limited(argv, limits, uid, env=env, cwd=_SANDBOX_HOME)
            setenv = [arg for item in env.items() for arg in ("--setenv", *item)]
            run_args = ["--bind", str(workdir), _SANDBOX_HOME, "--chdir", _SANDBOX_HOME]
            command = [*self._bwrap_args, *run_args, *setenv, "--", *tail]
            return Launch(command=command)

        if self._kind == "unshare":
            env = _BASE_ENV | {"HOME": str(workdir), "TMPDIR": "/tmp"}
            spec = _setup_spec(argv, limits, uid, env=env, cwd=str(workdir))
            python = [(path, False) for path in _interpreter_dirs(self._interpreter)]
            spec |= {"hide": _HIDDEN_DIRS, "keep": [(str(workdir), True), *python]}
            return Launch(command=[*self._unshare_args(), *self._setup(spec)])

        # No namespace to drop privileges in: Popen starts the program as uid.
        env = _BASE_ENV | {"HOME": str(workdir), "TMPDIR": str(workdir)}
        command = self._limited(argv, limits, None, env=env, cwd=str(workdir))
        return Launch(command=command, cwd=str(workdir), user=uid, env=env)

    def _limited(
        self,
        argv: list[str],
        limits: Limits,
        uid: int | None,
        *,
        env: dict[str, str],
        cwd: str,
    ) -> list[str]:
        """argv behind whatever sets its rlimits and drops it to uid."""
        if self._prlimit is None or (uid is not None and self._setpriv is None):
            return self._setup(_setup_spec(argv, limits, uid, env=env, cwd=cwd))

        limited = [*_prlimit_args(self._prlimit, limits), *argv]
        if uid is None or self._setpriv is None:
            return limited
        ids = str(uid)
        drop = ["--reuid", ids, "--regid", ids, "--clear-groups", "--no-new-privs"]
        drop += ["--inh-caps=-all", "--bounding-set=-all"]
        return [self._setpriv, *drop, "--", *limited]

    def _setup(self, spec: dict[str, Any]) -> list[str]:
        return [self._interpreter, "-I", "-S", "-c", _SETUP, json.dumps(spec)]

    def _unshare_args(self) -> list[str]:
        if self._unshare is None:
            raise SandboxUnavailable("unshare is not installed")
        namespaces = ["--mount", "--net", "--pid", "--ipc", "--uts"]
        if not self._as_root:
            namespaces = ["--user", "--map-root-user", *namespaces]
        pid1 = ["--fork", "--kill-child", "--mount-proc"]
        return [self._unshare, *namespaces, *pid1, "--"]

    def _bwrap_setup(self) -> list[str]:
        """The bwrap arguments every run shares: namespaces and a read-only system."""
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise SandboxUnavailable("bwrap is not installed")
        version = _bwrap_version(bwrap)
        args = [bwrap, "--die-with-parent", "--new-session", "--clearenv"]
        # Without bwrap's own reaper the program is the child bwrap waits for,
        # so wait4() on bwrap sees the program's CPU time.
        args.append("--as-pid-1")
        if self._as_root:
            # No user namespace: it would map the program back to uid 0, which
            # RLIMIT_NPROC exempts. setpriv drops it to the run's own uid instead.
            args += ["--unshare-ipc", "--unshare-pid", "--unshare-net"]
            args += ["--unshare-uts", "--unshare-cgroup-try"]
            args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        else:
            args += ["--unshare-all", "--unshare-user"]
            args += ["--uid", str(_NOBODY), "--gid", str(_NOBODY)]
            if version >= (0, 8):
                args.append("--disable-userns")
        args += ["--hostname", "sandbox"]

        made = {"/"}
        for path in _SYSTEM_DIRS:
            if os.path.islink(path):
                args += ["--symlink", os.readlink(path), path]
            elif os.path.isdir(path):
                args += ["--ro-bind", path, path]
            made.add(path)
        for name in _ETC_FILES:
            args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        args += ["--proc", "/proc", "--dev", "/dev"]
        size = ["--size", str(_TMPFS_BYTES)] if version >= (0, 7) else []
        for path in ("/tmp", "/dev/shm"):
            args += ["--perms", "1777", *size, "--tmpfs", path]
            made.add(path)

        for path in _interpreter_dirs(self._interpreter):
            if _within(path, _SYSTEM_DIRS):
                continue
            for parent in reversed(PurePosixPath(path).parents):
                if str(parent) not in made:
                    args += ["--perms", "0755", "--dir", str(parent)]
                    made.add(str(parent))
            args += ["--ro-bind", path, path]
        return args


def _setup_spec(
    argv: list[str],
    limits: Limits,
    uid: int | None,
    *,
    env: dict[str, str],
    cwd: str,
) -> dict[str, Any]:
    return {
        "hide": [],
        "keep": [],
        "cwd": cwd,
        "limits": [
            [f"RLIMIT_{name.upper()}", *pair] for name, pair in _rlimits(limits)
        ],
        "uid": uid,
        "argv": argv,
        "env": env,
    }


def _rlimits(limits: Limits) -> list[tuple[str, tuple[int, int]]]:
    """(prlimit name, (soft, hard)) for every limit the kernel enforces per process."""
    cpu = max(1, limits.cpu_seconds)
    return [
        # The soft limit sends SIGXCPU so a run can be told apart from a kill;
        # the hard limit a second later is SIGKILL for programs that ignore it.
        ("cpu", (cpu, cpu + 1)),
        ("as", (limits.memory_bytes, limits.memory_bytes)),
        ("nproc", (limits.processes, limits.processes)),
        ("fsize", (_FILE_BYTES, _FILE_BYTES)),
        ("core", (0, 0)),
    ]


def _prlimit_args(prlimit: str, limits: Limits) -> list[str]:
    pairs = [f"--{name}={soft}:{hard}" for name, (soft, hard) in _rlimits(limits)]
    return [prlimit, *pairs, "--"]


def _interpreter_dirs(interpreter: str) -> list[str]:
    """The directories a Python program needs besides the system ones, outermost."""
    real = Path(os.path.realpath(interpreter))
    candidates = {sys.prefix, sys.base_prefix, str(real.parent.parent)}
    candidates |= {os.path.realpath(path) for path in candidates}
    kept: list[str] = []
    for path in sorted(candidates):
        if os.path.isdir(path) and not _within(path, [*kept, *_SYSTEM_DIRS]):
            kept.append(path)
    return kept


def _within(path: str, roots: Sequence[str]) -> bool:
    return any(
        path == root or path.startswith(root.rstrip("/") + "/") for root in roots
    )


def _bwrap_version(bwrap: str) -> tuple[int, ...]:
    found = subprocess.run(
        [bwrap, "--version"], capture_output=True, text=True, check=False
    )
    match = re.search(r"(\d+)\.(\d+)", found.stdout)
    return (int(match[1]), int(match[2])) if match else (0, 0)
