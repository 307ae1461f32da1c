"""Running one untrusted program in a throwaway directory, as isolated as we can."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from edgemesh.errors import SandboxUnavailable
from edgemesh.logs import get_logger
from edgemesh.sandbox.limits import Limits, Outcome

log = get_logger(__name__)

KINDS = ("bwrap", "unshare", "rlimits")

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

# As root every run gets its own uid from this range, so that RLIMIT_NPROC counts
# only that run's processes; flock()ed files keep two workers from sharing one.
_SLOT_UID_BASE = 2_000_000_000
_SLOT_COUNT = 1024
_SLOT_LOCKS = Path("/run/edgemesh-sandbox")

# The uid a program runs as inside bwrap's user namespace when we are not root.
_NOBODY = 65534

_READ_CHUNK = 65536
# How long to wait for output still in flight once the program has exited.
_DRAIN_SECONDS = 0.25

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

# Runs as `python -I -S -c _LAUNCHER SPEC` where no util-linux binary can do the
# job: it hides and binds directories (unshare kind), sets rlimits, drops to the
# run's uid and execs the program. A pid-1 launcher stays behind as the reaper.
_LAUNCHER = """
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

_PROCESS_EVIDENCE = re.compile(
    r"BlockingIOError|Resource temporarily unavailable|fork: retry"
)
_MEMORY_EVIDENCE = re.compile(r"MemoryError|Cannot allocate memory|bad_alloc")


class _SlotPool:
    """Per-run uids for a root worker, unique across every worker on the host."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free: list[int] = []
        self._resting: list[int] = []
        self._held: dict[int, int] = {}

    def acquire(self) -> int:
        """A uid no other run on this host is using and no process still holds."""
        with self._lock:
            if not self._free and self._resting:
                busy = _uids_in_use()
                self._free = [uid for uid in self._resting if uid not in busy]
                self._resting = [uid for uid in self._resting if uid in busy]
            if self._free:
                return self._free.pop()

            _SLOT_LOCKS.mkdir(mode=0o700, parents=True, exist_ok=True)
            for slot in range(_SLOT_COUNT):
                if slot not in self._held and self._claim(slot):
                    return _SLOT_UID_BASE + slot
        raise SandboxUnavailable("every sandbox uid on this host is in use")

    def release(self, uid: int, *, clean: bool) -> None:
        """Give a uid back; one with processes left rests until they are gone."""
        with self._lock:
            (self._free if clean else self._resting).append(uid)

    def _claim(self, slot: int) -> bool:
        fd = os.open(_SLOT_LOCKS / f"slot-{slot}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False

        # The lock lives as long as this process; the fd is never closed.
        self._held[slot] = fd
        return True


def _uids_in_use() -> set[int]:
    """Every uid that owns a process, zombies included."""
    uids = set()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                uids.add(entry.stat(follow_symlinks=False).st_uid)
            except FileNotFoundError:
                continue
    return uids


_slots = _SlotPool()


@dataclass(frozen=True, kw_only=True)
class _Launch:
    """A command line and the cwd, uid and environment Popen starts it with."""

    command: list[str]
    cwd: str | None = None
    user: int | None = None
    env: dict[str, str] = field(default_factory=lambda: {"PATH": _PATH})


@dataclass(frozen=True, kw_only=True)
class _Finished:
    """How the supervised process ended, before any attribution."""

    status: int | None
    cpu_ms: int
    stdout: bytes
    stderr: bytes
    truncated: bool
    killed_by: str | None


class Sandbox:
    """One way of isolating programs on this machine: bwrap, unshare or rlimits."""

    def __init__(self, kind: str, *, interpreter: str | None = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown sandbox kind {kind!r}")
        self.kind = kind
        self.interpreter = interpreter or sys.executable
        self._as_root = os.geteuid() == 0
        self._prlimit = shutil.which("prlimit")
        self._setpriv = shutil.which("setpriv")
        self._kill = shutil.which("kill")
        self._unshare = shutil.which("unshare")
        self._bwrap = shutil.which("bwrap")
        self._bwrap_args = self._bwrap_setup() if kind == "bwrap" else []

    def run(
        self,
        *,
        files: dict[str, str],
        argv: list[str],
        limits: Limits,
        stdin: bytes = b"",
    ) -> Outcome:
        """Run argv in a fresh work dir holding files, within limits."""
        names = {name: _checked_parts(name) for name in files}
        if not argv:
            raise ValueError("argv is empty")
        if argv[0] == "python":
            argv = [self.interpreter, *argv[1:]]

        uid = _slots.acquire() if self._as_root else None
        workdir = Path(tempfile.mkdtemp(prefix="edgemesh-run-"))
        started = time.monotonic()
        try:
            _write_files(workdir, files, names, owner=uid)
            launch = self._launch(workdir, argv, limits, uid)
            finished = self._supervise(launch, limits=limits, stdin=stdin)
        finally:
            _remove_tree(workdir)
            if uid is not None:
                # Zombies count against RLIMIT_NPROC until reaped, and without a
                # pid namespace a container's init may take its time doing that.
                clean = self.kind != "rlimits" or uid not in _uids_in_use()
                _slots.release(uid, clean=clean)

        outcome = Outcome(
            exit_status=finished.status,
            stdout=finished.stdout.decode(errors="replace"),
            stderr=finished.stderr.decode(errors="replace"),
            wall_ms=round((time.monotonic() - started) * 1000),
            cpu_ms=finished.cpu_ms,
            limit_hit=_attribute(finished, limits),
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

    def _launch(
        self, workdir: Path, argv: list[str], limits: Limits, uid: int | None
    ) -> _Launch:
        """How to start argv in workdir under this kind, within limits, as uid."""
        if self.kind == "bwrap":
            env = _BASE_ENV | {"HOME": _SANDBOX_HOME, "TMPDIR": "/tmp"}
            tail = self._limited(argv, limits, uid, env=env, cwd=_SANDBOX_HOME)
            setenv = [arg for item in env.items() for arg in ("--setenv", *item)]
            run_args = ["--bind", str(workdir), _SANDBOX_HOME, "--chdir", _SANDBOX_HOME]
            command = [*self._bwrap_args, *run_args, *setenv, "--", *tail]
            return _Launch(command=command)

        if self.kind == "unshare":
            env = _BASE_ENV | {"HOME": str(workdir), "TMPDIR": "/tmp"}
            spec = _launch_spec(argv, limits, uid, env=env, cwd=str(workdir))
            spec["hide"] = _HIDDEN_DIRS
            spec["keep"] = [(str(workdir), True)] + [
                (path, False) for path in _interpreter_dirs(self.interpreter)
            ]
            return _Launch(command=[*self._unshare_args(), *self._launcher(spec)])

        env = _BASE_ENV | {"HOME": str(workdir), "TMPDIR": str(workdir)}
        if self._prlimit is None:
            spec = _launch_spec(argv, limits, None, env=env, cwd=str(workdir))
            return _Launch(command=self._launcher(spec), user=uid, env=env)
        command = [*_prlimit_args(self._prlimit, limits), *argv]
        return _Launch(command=command, cwd=str(workdir), user=uid, env=env)

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
            return self._launcher(_launch_spec(argv, limits, uid, env=env, cwd=cwd))

        limited = [*_prlimit_args(self._prlimit, limits), *argv]
        if uid is None or self._setpriv is None:
            return limited
        ids = str(uid)
        drop = ["--reuid", ids, "--regid", ids, "--clear-groups", "--no-new-privs"]
        drop += ["--inh-caps=-all", "--bounding-set=-all"]
        return [self._setpriv, *drop, "--", *limited]

    def _launcher(self, spec: dict[str, Any]) -> list[str]:
        return [self.interpreter, "-I", "-S", "-c", _LAUNCHER, json.dumps(spec)]

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
        if self._bwrap is None:
            raise SandboxUnavailable("bwrap is not installed")
        version = _bwrap_version(self._bwrap)
        args = [self._bwrap, "--die-with-parent", "--new-session", "--clearenv"]
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

        for path in _interpreter_dirs(self.interpreter):
            if _within(path, _SYSTEM_DIRS):
                continue
            for parent in reversed(PurePosixPath(path).parents):
                if str(parent) not in made:
                    args += ["--perms", "0755", "--dir", str(parent)]
                    made.add(str(parent))
            args += ["--ro-bind", path, path]
        return args

    def _supervise(self, launch: _Launch, *, limits: Limits, stdin: bytes) -> _Finished:
        """Start command, feed it stdin, collect capped output, enforce the wall."""
        deadline = time.monotonic() + limits.wall_seconds
        source: int = subprocess.DEVNULL
        if stdin:
            source = _memfd(stdin)
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
        try:
            return self._watch(
                proc, proc.stdout, proc.stderr, limits, deadline, launch.user
            )
        finally:
            proc.stdout.close()
            proc.stderr.close()

    def _watch(
        self,
        proc: subprocess.Popen[bytes],
        out: IO[bytes],
        err: IO[bytes],
        limits: Limits,
        deadline: float,
        user: int | None,
    ) -> _Finished:
        captured = {out.fileno(): bytearray(), err.fileno(): bytearray()}
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
                        self._kill_leftovers(proc.pid, user)
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
                self._kill_leftovers(proc.pid, user)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            os.close(pidfd)

        code = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
        return _Finished(
            status=None if killed_by else code,
            cpu_ms=round((usage.ru_utime + usage.ru_stime) * 1000),
            stdout=bytes(captured[out.fileno()]),
            stderr=bytes(captured[err.fileno()]),
            truncated=truncated,
            killed_by=killed_by,
        )

    def _kill_leftovers(self, pgid: int, user: int | None) -> None:
        """Kill the run's process group and, for rlimits as root, all its uid owns."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)

        # bwrap and unshare end the whole pid namespace with its first process;
        # under plain rlimits a program can setsid() away from its group.
        if self.kind == "rlimits" and user is not None and self._kill is not None:
            subprocess.run(
                [self._kill, "-9", "-1"],
                user=user,
                group=user,
                extra_groups=[],
                env={},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )


def _launch_spec(
    argv: list[str], limits: Limits, uid: int | None, *, env: dict[str, str], cwd: str
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


def _attribute(finished: _Finished, limits: Limits) -> str | None:
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


def _checked_parts(name: str) -> tuple[str, ...]:
    """The parts of a relative file name that stays inside the work dir."""
    path = PurePosixPath(name)
    if "\0" in name or path.is_absolute() or not path.parts or ".." in path.parts:
        raise ValueError(
            f"file name must be relative and inside the work dir: {name!r}"
        )
    return path.parts


def _write_files(
    root: Path,
    files: dict[str, str],
    names: dict[str, tuple[str, ...]],
    *,
    owner: int | None,
) -> None:
    if owner is not None:
        os.chown(root, owner, owner)
    for name, text in files.items():
        *dirs, leaf = names[name]
        folder = root
        for part in dirs:
            folder = folder / part
            if not folder.is_dir():
                folder.mkdir()
                if owner is not None:
                    os.chown(folder, owner, owner)
        target = folder / leaf
        target.write_text(text, encoding="utf-8")
        if owner is not None:
            os.chown(target, owner, owner)


def _remove_tree(root: Path) -> None:
    """Delete a work dir even if the program made parts of it unwritable."""
    try:
        shutil.rmtree(root)
        return
    except FileNotFoundError:
        return
    except OSError:
        pass

    # Unlock each directory before listing it; only real directories, since
    # chmod follows symlinks and the program chose where those point.
    pending = [str(root)]
    while pending:
        folder = pending.pop()
        with contextlib.suppress(OSError):
            os.chmod(folder, 0o700)
            with os.scandir(folder) as entries:
                pending += [e.path for e in entries if e.is_dir(follow_symlinks=False)]
    shutil.rmtree(root, ignore_errors=True)


def _memfd(data: bytes) -> int:
    fd = os.memfd_create("edgemesh-stdin", os.MFD_CLOEXEC)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


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


def _within(path: str, roots: list[str] | tuple[str, ...]) -> bool:
    return any(
        path == root or path.startswith(root.rstrip("/") + "/") for root in roots
    )


def _bwrap_version(bwrap: str) -> tuple[int, ...]:
    found = subprocess.run(
        [bwrap, "--version"], capture_output=True, text=True, check=False
    )
    match = re.search(r"(\d+)\.(\d+)", found.stdout)
    return (int(match[1]), int(match[2])) if match else (0, 0)


_detected: dict[str, Sandbox | SandboxUnavailable] = {}
_detect_lock = threading.Lock()
_REQUIREMENTS: dict[str | None, tuple[str, ...]] = {
    None: KINDS,
    "isolated": ("bwrap", "unshare"),
    **{kind: (kind,) for kind in KINDS},
}


def detect_sandbox(require: str | None = None) -> Sandbox:
    """Best available kind: bwrap, then unshare, then rlimits.

    `require` is "bwrap"/"unshare"/"rlimits"/"isolated" (bwrap or unshare) or None;
    raise SandboxUnavailable if it can't be met.
    """
    if require not in _REQUIREMENTS:
        raise ValueError(f"unknown sandbox requirement {require!r}")

    reasons = []
    for kind in _REQUIREMENTS[require]:
        found = _probe(kind)
        if isinstance(found, Sandbox):
            return found
        reasons.append(f"{kind}: {found.detail}")
    raise SandboxUnavailable("no usable sandbox; " + "; ".join(reasons))


def _probe(kind: str) -> Sandbox | SandboxUnavailable:
    """Try kind once per process by running an empty Python program in it."""
    with _detect_lock:
        if kind in _detected:
            return _detected[kind]

        try:
            sandbox = Sandbox(kind)
            outcome = sandbox.run(
                files={}, argv=["python", "-c", "pass"], limits=Limits(wall_seconds=30)
            )
        except (OSError, SandboxUnavailable) as exc:
            found: Sandbox | SandboxUnavailable = SandboxUnavailable(str(exc))
        else:
            if outcome.ok:
                found = sandbox
            else:
                why = outcome.stderr.strip()[-300:] or f"exit {outcome.exit_status}"
                found = SandboxUnavailable(why)

        if isinstance(found, Sandbox):
            log.info("sandbox_detected", kind=kind)
        else:
            log.info("sandbox_unavailable", kind=kind, reason=found.detail)
        _detected[kind] = found
        return found
