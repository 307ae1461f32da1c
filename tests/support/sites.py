"""Real sites and workers as separate processes, for integration tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from edgemesh.accounts import directory
from edgemesh.accounts.lifecycle import Role
from edgemesh.client import SiteClient
from edgemesh.credits import journal
from edgemesh.db.engine import Database
from tests.support.raw_worker import RawWorker


def wait_for(
    check: Callable[[], Any], *, timeout: float = 30.0, what: str = "condition"
) -> Any:
    """Poll `check` until it returns something truthy, or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def edgemesh_command(*args: str) -> list[str]:
    """The command line that runs `edgemesh` with this interpreter."""
    return [sys.executable, "-m", "edgemesh", *args]


@dataclass
class WorkerProcess:
    """An `edgemesh worker` process and its log file."""

    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        """Everything the worker has logged so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL: the worker dies mid-work, as a machine would."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@dataclass
class SiteProcess:
    """`edgemesh up` in a subprocess, with handy accounts and clients."""

    data_dir: Path
    database_url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    urls: dict[str, str] = field(default_factory=dict)
    db: Database | None = None
    workers: list[WorkerProcess] = field(default_factory=list)
    clients: list[SiteClient | RawWorker] = field(default_factory=list)

    def start(self) -> None:
        """Start the site and wait until every service answers."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "site.log").open("ab")
        env = {
            **os.environ,
            "EDGEMESH_COORDINATOR_PORT": "0",
            "EDGEMESH_CONTROL_PLANE_PORT": "0",
            "EDGEMESH_INFERENCE_PORT": "0",
            "EDGEMESH_PORTAL_PORT": "0",
            **self.env,
        }
        self.process = subprocess.Popen(
            edgemesh_command(
                "up",
                "--data-dir",
                str(self.data_dir),
                "--database-url",
                self.database_url,
            ),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        site_file = self.data_dir / "site.json"
        wait_for(
            lambda: site_file.exists() or self.process.poll() is not None,
            what="site.json",
        )
        assert self.process.poll() is None, (self.data_dir / "site.log").read_text()
        self.urls = json.loads(site_file.read_text())
        for url in self.urls.values():
            wait_for(lambda u=url: _answers(u), what=f"{url}/health/ready")
        self.db = Database(self.database_url)

    @property
    def coordinator(self) -> str:
        """The coordinator's base URL."""
        return self.urls["coordinator"]

    @property
    def control_plane(self) -> str:
        """The control plane's base URL."""
        return self.urls["control-plane"]

    def account(self, email: str, *roles: Role, credits_mc: int = 0) -> tuple[str, str]:
        """Create an account directly in the database; (account id, API key)."""
        assert self.db is not None
        with self.db.transaction() as session:
            account = directory.create_account(session, email=email, roles=set(roles))
            key = directory.issue_api_key(session, account.id)
            if credits_mc:
                journal.grant(
                    session,
                    account_id=account.id,
                    amount_mc=credits_mc,
                    reference=f"test-{email}",
                )
        return account.id, key

    def client(self, service: str, key: str) -> SiteClient:
        """A REST client for one service, closed when the site stops."""
        client = SiteClient(self.urls[service], key)
        self.clients.append(client)
        return client

    def raw_worker(self, token: str) -> RawWorker:
        """A hand-driven worker for the node with `token`."""
        worker = RawWorker(self.coordinator, token)
        self.clients.append(worker)
        return worker

    def start_worker(
        self, token: str, *, slots: int = 1, name: str = "worker"
    ) -> WorkerProcess:
        """Start `edgemesh worker` for a node, token passed in the environment."""
        log_path = self.data_dir / f"{name}-{len(self.workers)}.log"
        log = log_path.open("ab")
        process = subprocess.Popen(
            edgemesh_command(
                "worker", "--coordinator", self.coordinator, "--slots", str(slots)
            ),
            env={**os.environ, "EDGEMESH_TOKEN": token},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        worker = WorkerProcess(process=process, log=log_path)
        self.workers.append(worker)
        return worker

    def stop(self) -> None:
        """Stop workers and the site; never leaves a process behind."""
        for client in self.clients:
            client.close()
        for proc in [w.process for w in self.workers] + [self.process]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in [w.process for w in self.workers] + [self.process]:
            if proc is None:
                continue
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.db is not None:
            self.db.dispose()


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
