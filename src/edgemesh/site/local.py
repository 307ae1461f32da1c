"""A whole site on this machine: services in a thread, workers as processes.

`edgemesh demo` and `edgemesh eval` use it so that a newcomer sees the real
path: accounts, enrolment, registration tokens, approval, leasing, credits.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from edgemesh.accounts import directory
from edgemesh.accounts.lifecycle import Role
from edgemesh.client import SiteClient
from edgemesh.config import Settings
from edgemesh.logs import get_logger
from edgemesh.site.services import BackgroundSite, prepare

log = get_logger(__name__)

ADMIN_EMAIL = "admin@edgemesh.local"
CONTRIBUTOR_EMAIL = "contributor@edgemesh.local"
USER_EMAIL = "user@edgemesh.local"


@dataclass(frozen=True, kw_only=True)
class LocalNode:
    """A node enrolled by the local contributor and the process serving it."""

    node_id: str
    name: str
    process: subprocess.Popen[bytes]


@dataclass
class LocalSite:
    """A running site with an admin, a contributor, a user and N workers."""

    settings: Settings
    workers: int
    slots: int
    log_dir: Path
    background: BackgroundSite | None = None
    admin: SiteClient | None = None
    contributor: SiteClient | None = None
    user: SiteClient | None = None
    nodes: list[LocalNode] = field(default_factory=list)
    started_in: float = 0.0

    @property
    def coordinator_url(self) -> str:
        """The coordinator's base URL."""
        assert self.background is not None
        return self.background.site.url("coordinator")

    def start(self, *, credits_mc: int) -> None:
        """Start services, create accounts, enrol and approve the workers."""
        began = time.perf_counter()
        site = prepare(self.settings, ephemeral_ports=True)
        self.background = BackgroundSite(site)
        self.background.start()

        with site.db.transaction() as session:
            admin = directory.create_account(
                session, email=ADMIN_EMAIL, roles={Role.ADMIN}
            )
            admin_key = directory.issue_api_key(session, admin.id, name="local site")
        self.admin = SiteClient(site.url("control-plane"), admin_key)
        self.contributor = self._account(CONTRIBUTOR_EMAIL, Role.CONTRIBUTOR)
        self.user = self._account(USER_EMAIL, Role.USER)
        self.admin.grant(USER_EMAIL, credits_mc, reference="local-site-welcome")

        for index in range(self.workers):
            self.nodes.append(self._start_worker(f"local-node-{index + 1}"))
        self._approve_all()
        self.started_in = time.perf_counter() - began

    def _account(self, email: str, role: Role) -> SiteClient:
        assert self.admin is not None
        created = self.admin.create_account(email, [role.value])
        return SiteClient(self.coordinator_url, created["api_key"])

    def _start_worker(self, name: str) -> LocalNode:
        assert self.contributor is not None
        enrolled = self.contributor.enroll(name)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_file = (self.log_dir / f"{name}.log").open("ab")
        env = {**os.environ, "EDGEMESH_TOKEN": enrolled["token"]}
        command = [
            sys.executable,
            "-m",
            "edgemesh",
            "worker",
            "--coordinator",
            self.coordinator_url,
            "--slots",
            str(self.slots),
        ]
        process = subprocess.Popen(
            command,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log_file.close()
        return LocalNode(
            node_id=enrolled["node"]["node_id"], name=name, process=process
        )

    def _approve_all(self, timeout: float = 60.0) -> None:
        assert self.admin is not None
        waiting = {n.node_id for n in self.nodes}
        deadline = time.monotonic() + timeout
        while waiting:
            for node in self.admin.nodes(state="pending"):
                if node["node_id"] in waiting:
                    self.admin.decide(node["node_id"], "approve", "local site")
                    waiting.discard(node["node_id"])
            dead = [n.name for n in self.nodes if n.process.poll() is not None]
            if dead:
                raise RuntimeError(
                    f"worker {dead[0]} exited; see {self.log_dir / (dead[0] + '.log')}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers did not register within {timeout:.0f}s")
            if waiting:
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop the workers, then the services."""
        for node in self.nodes:
            if node.process.poll() is None:
                node.process.terminate()
        for node in self.nodes:
            try:
                node.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                node.process.kill()
                node.process.wait()
        for client in (self.admin, self.contributor, self.user):
            if client is not None:
                client.close()
        if self.background is not None:
            self.background.stop()
