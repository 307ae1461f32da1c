"""The worker loop: register, heartbeat, pull, run in the sandbox, report."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from edgemesh import __version__
from edgemesh.logs import get_logger
from edgemesh.sandbox import Sandbox
from edgemesh.worker.client import CoordinatorRefused, WorkerClient
from edgemesh.worker.executor import execute
from edgemesh.workloads.specs import UnitResult

log = get_logger(__name__)

IDLE_WAIT = (0.05, 1.0)
PENDING_WAIT = 0.5


class WorkerStopped(Exception):
    """The coordinator will not let this node work (rejected, unknown token)."""


@dataclass(frozen=True, kw_only=True)
class WorkerOptions:
    """How one worker process runs."""

    coordinator_url: str
    token: str
    slots: int
    sandbox: Sandbox


class Worker:
    """One node's runtime: keeps up to `slots` units running at a time."""

    def __init__(self, options: WorkerOptions) -> None:
        self.options = options
        self.client = WorkerClient(options.coordinator_url, options.token)
        self.state = "unknown"
        self.node_id = ""
        self.heartbeat_seconds = 10.0
        self._running: set[int] = set()
        self._lock = threading.Lock()
        self._slot_freed = threading.Event()
        self._stop = threading.Event()
        self._fatal: str | None = None

    def stop(self) -> None:
        """Stop pulling; units already running finish and are reported."""
        self._stop.set()
        self._slot_freed.set()

    def _apply_status(self, status: dict[str, Any]) -> None:
        if status["state"] != self.state:
            log.info("node_state", node_id=status["node_id"], state=status["state"])
        self.state = status["state"]
        self.node_id = status["node_id"]
        self.heartbeat_seconds = float(status["heartbeat_seconds"])

    def register(self) -> None:
        """Present the token and describe this machine."""
        body = {
            "sandbox_kind": self.options.sandbox.kind,
            "runtime_version": __version__,
            "slots": self.options.slots,
            "languages": ["python"],
            "memory_mb": _memory_mb(),
        }
        try:
            self._apply_status(self.client.call("register", body))
        except CoordinatorRefused as exc:
            raise WorkerStopped(exc.detail) from exc

    def _heartbeat_forever(self) -> None:
        while not self._stop.wait(self.heartbeat_seconds):
            with self._lock:
                running = sorted(self._running)
            try:
                self._apply_status(self.client.call("heartbeat", {"running": running}))
            except CoordinatorRefused as exc:
                self._fatal = exc.detail
                self.stop()
            except Exception as exc:
                log.warning("heartbeat_failed", error=repr(exc))

    def _execute(self, grant: dict[str, Any]) -> UnitResult:
        try:
            return execute(grant["spec"], self.options.sandbox)
        except Exception as exc:
            # Our fault, not the unit's: report it so the unit is retried now
            # rather than when its lease runs out.
            log.exception("unit_crashed", lease_id=grant["lease_id"])
            return UnitResult(status="error", verdict=f"worker error: {exc!r}"[:4096])

    def _run_unit(self, grant: dict[str, Any]) -> None:
        lease_id = grant["lease_id"]
        try:
            result = self._execute(grant)
            body = {"lease_id": lease_id, "result": result.model_dump(mode="json")}
            self.client.call("results", body)
            log.debug("unit_reported", unit_id=grant["unit_id"], status=result.status)
        except CoordinatorRefused as exc:
            log.warning(
                "result_refused", lease_id=lease_id, error=exc.code, detail=exc.detail
            )
        except Exception as exc:
            log.error("result_not_delivered", lease_id=lease_id, error=repr(exc))
        finally:
            with self._lock:
                self._running.discard(lease_id)
            self._slot_freed.set()

    def _await_approval(self) -> None:
        if self._stop.wait(PENDING_WAIT):
            return
        try:
            self._apply_status(self.client.call("heartbeat", {"running": []}))
        except CoordinatorRefused as exc:
            raise WorkerStopped(exc.detail) from exc

    def _free_slots(self) -> int:
        with self._lock:
            return self.options.slots - len(self._running)

    def _pull(self, pool: ThreadPoolExecutor, free: int) -> int:
        try:
            grants = self.client.call("pull", {"max_units": free})["units"]
        except CoordinatorRefused as exc:
            if exc.code == "node_not_active":
                self.state = "inactive"
                return 0
            raise WorkerStopped(exc.detail) from exc
        for grant in grants:
            with self._lock:
                self._running.add(grant["lease_id"])
            pool.submit(self._run_unit, grant)
        return len(grants)

    def run(self) -> None:
        """Work until stopped; raises WorkerStopped if the coordinator refuses us."""
        self.register()
        beat = threading.Thread(
            target=self._heartbeat_forever, name="heartbeat", daemon=True
        )
        beat.start()
        idle = IDLE_WAIT[0]
        with ThreadPoolExecutor(self.options.slots, thread_name_prefix="unit") as pool:
            while not self._stop.is_set():
                if self.state not in ("active", "inactive"):
                    self._await_approval()
                    continue
                free = self._free_slots()
                if free <= 0:
                    self._slot_freed.wait(self.heartbeat_seconds)
                    self._slot_freed.clear()
                    continue
                if self._pull(pool, free):
                    idle = IDLE_WAIT[0]
                    continue
                self._stop.wait(idle)
                idle = min(idle * 2, IDLE_WAIT[1])
        self.client.close()
        if self._fatal:
            raise WorkerStopped(self._fatal)


def _memory_mb() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    except (ValueError, OSError):
        return 0
