"""The worker loop: register, heartbeat, pull, run in the sandbox, report."""

from __future__ import annotations

import math
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
PENDING_WAIT = 0.2


class WorkerStopped(Exception):
    """The coordinator will not let this node work (rejected, unknown token)."""


@dataclass(frozen=True, kw_only=True)
class WorkerOptions:
    """How one worker process runs."""

    coordinator_url: str
    token: str
    slots: int
    sandbox: Sandbox
    batch: int = 8


class Worker:
    """One node's runtime: up to `slots` sandboxes at once, `batch` units each."""

    def __init__(self, options: WorkerOptions) -> None:
        self.options = options
        self.client = WorkerClient(options.coordinator_url, options.token)
        self.state = "unknown"
        self.node_id = ""
        self.heartbeat_seconds = 10.0
        self._running: set[int] = set()
        self._busy = 0
        self._pending_wait = PENDING_WAIT
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
            "batch": self.options.batch,
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

    def _execute(self, grants: list[dict[str, Any]]) -> list[UnitResult]:
        try:
            return execute([g["spec"] for g in grants], self.options.sandbox)
        except Exception as exc:
            # Our fault, not the units': report it so they are retried now
            # rather than when their leases run out.
            log.exception("units_crashed", leases=[g["lease_id"] for g in grants])
            error = UnitResult(status="error", verdict=f"worker error: {exc!r}"[:4096])
            return [error] * len(grants)

    def _run_batch(self, grants: list[dict[str, Any]]) -> None:
        leases = [g["lease_id"] for g in grants]
        try:
            results = self._execute(grants)
            body = {
                "results": [
                    {"lease_id": lease, "result": result.model_dump(mode="json")}
                    for lease, result in zip(leases, results, strict=True)
                ]
            }
            for item in self.client.call("results/batch", body)["results"]:
                if item["error"]:
                    log.warning(
                        "result_refused", lease_id=item["lease_id"], **item["error"]
                    )
            log.debug("units_reported", count=len(leases))
        except CoordinatorRefused as exc:
            log.warning("results_refused", error=exc.code, detail=exc.detail)
        except Exception as exc:
            log.error("results_not_delivered", leases=leases, error=repr(exc))
        finally:
            with self._lock:
                self._running.difference_update(leases)
                self._busy -= 1
            self._slot_freed.set()

    def _await_approval(self) -> None:
        # Quick at first, since an operator often approves right away; then
        # no chattier than a heartbeat, for a node that waits for hours.
        if self._stop.wait(self._pending_wait):
            return
        self._pending_wait = min(self._pending_wait * 2, self.heartbeat_seconds)
        try:
            self._apply_status(self.client.call("heartbeat", {"running": []}))
        except CoordinatorRefused as exc:
            raise WorkerStopped(exc.detail) from exc

    def _free_slots(self) -> int:
        with self._lock:
            return self.options.slots - self._busy

    def _pull(self, pool: ThreadPoolExecutor, free: int) -> int:
        want = free * self.options.batch
        try:
            grants = self.client.call("pull", {"max_units": want})["units"]
        except CoordinatorRefused as exc:
            if exc.code == "node_not_active":
                self.state = "inactive"
                return 0
            raise WorkerStopped(exc.detail) from exc
        for batch in plan_batches(grants, free=free, most=self.options.batch):
            with self._lock:
                self._running.update(g["lease_id"] for g in batch)
                self._busy += 1
            pool.submit(self._run_batch, batch)
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


def plan_batches(
    grants: list[dict[str, Any]], *, free: int, most: int
) -> list[list[dict[str, Any]]]:
    """Split grants into per-workload batches, spread over the free slots."""
    by_workload: dict[str, list[dict[str, Any]]] = {}
    for grant in grants:
        by_workload.setdefault(grant["workload_id"], []).append(grant)
    batches: list[list[dict[str, Any]]] = []
    for group in by_workload.values():
        size = max(1, min(most, math.ceil(len(group) / free)))
        batches.extend(group[i : i + size] for i in range(0, len(group), size))
    return batches


def _memory_mb() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    except (ValueError, OSError):
        return 0
