"""The uids a root worker gives its runs, one per run and unique on the host."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import threading
from pathlib import Path

from edgemesh.errors import SandboxUnavailable

# As root every run gets its own uid from this range, so that RLIMIT_NPROC counts
# only that run's processes; flock()ed files keep two workers from sharing one.
_BASE = 2_000_000_000
_COUNT = 1024
_LOCKS = Path("/run/edgemesh-sandbox")
_KILL = shutil.which("kill") or "/bin/kill"
_SETPRIV = shutil.which("setpriv")


class UidPool:
    """Per-run uids for a root worker, unique across every worker on the host."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free: list[int] = []
        self._resting: list[int] = []
        self._claimed: set[int] = set()

    def acquire(self) -> int:
        """A uid no other run on this host is using and no process still holds."""
        with self._lock:
            if not self._free and self._resting:
                busy = in_use()
                self._free = [uid for uid in self._resting if uid not in busy]
                self._resting = [uid for uid in self._resting if uid in busy]
            if self._free:
                return self._free.pop()

            _LOCKS.mkdir(mode=0o700, parents=True, exist_ok=True)
            for slot in range(_COUNT):
                if slot not in self._claimed and _lock_slot(slot):
                    self._claimed.add(slot)
                    # A free lock with processes behind it: a worker died
                    # mid-run and left its sandbox running.
                    kill_everything_of(_BASE + slot)
                    return _BASE + slot
        raise SandboxUnavailable("every sandbox uid on this host is in use")

    def release(self, uid: int, *, clean: bool) -> None:
        """Give a uid back; one with processes left rests until they are gone."""
        with self._lock:
            (self._free if clean else self._resting).append(uid)


def in_use() -> set[int]:
    """Every uid that owns a process, zombies included."""
    uids = set()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                uids.add(entry.stat(follow_symlinks=False).st_uid)
            except FileNotFoundError:
                continue
    return uids


def kill_everything_of(uid: int) -> None:
    """SIGKILL every process `uid` owns, as that uid, so nothing else is hit."""
    # kill(-1) from inside the uid reaches all its processes in one sweep,
    # which a fork bomb can't outrun the way it outruns a scan of /proc.
    # setpriv rather than Popen(user=…): changing credentials rules out
    # vfork, and forking a large worker process is the slow part of this.
    command = [_KILL, "-9", "-1"]
    if _SETPRIV:
        ids = ["--reuid", str(uid), "--regid", str(uid), "--clear-groups"]
        command = [_SETPRIV, *ids, "--", *command]
    subprocess.run(
        command,
        user=None if _SETPRIV else uid,
        group=None if _SETPRIV else uid,
        extra_groups=None if _SETPRIV else [],
        env={},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )


def _lock_slot(slot: int) -> bool:
    fd = os.open(_LOCKS / f"slot-{slot}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False

    # The lock must last as long as this process, so the fd is never closed.
    return True


pool = UidPool()
