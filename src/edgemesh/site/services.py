"""Running a site's services in one process, each on its own port."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from edgemesh.config import Settings
from edgemesh.control_plane.app import create_control_plane
from edgemesh.coordinator.app import create_coordinator
from edgemesh.db import migrate
from edgemesh.db.engine import Database
from edgemesh.logs import get_logger
from edgemesh.site import ALL_IN_ONE

log = get_logger(__name__)

AppFactory = Callable[[Settings, Database], FastAPI]

SERVICES: dict[str, tuple[AppFactory, str]] = {
    "coordinator": (create_coordinator, "coordinator_port"),
    "control-plane": (create_control_plane, "control_plane_port"),
}
assert tuple(SERVICES) == ALL_IN_ONE, "every all-in-one service has a factory"


def open_database(settings: Settings) -> Database:
    """Create the data directory, migrate the database and connect to it."""
    # The database holds every account and balance: only the site may read it.
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    url = settings.resolved_database_url()
    migrate.upgrade(url)
    database_file = settings.data_dir / "edgemesh.db"
    if url.startswith("sqlite") and database_file.exists():
        database_file.chmod(0o600)
    return Database(url)


SITE_FILE = "site.json"

# Longer than clients keep an idle connection (httpx: 5 s). With equal
# timeouts the server may close a connection just as a client reuses it, and
# that request fails with "server disconnected".
KEEP_ALIVE_SECONDS = 65


def write_site_file(data_dir: Path, urls: dict[str, str]) -> None:
    """Record where each service listens, for tools on the same machine."""
    partial = data_dir / (SITE_FILE + ".partial")
    partial.write_text(json.dumps(urls, indent=2))
    partial.replace(data_dir / SITE_FILE)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket; port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # asyncio turns Nagle off only on sockets that say they are TCP; without
    # that, every small response waits for a delayed ACK (~40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


@dataclass
class RunningSite:
    """Services listening on bound sockets, served from one event loop."""

    settings: Settings
    db: Database
    sockets: dict[str, socket.socket]
    servers: list[uvicorn.Server] = field(default_factory=list)

    def url(self, service: str) -> str:
        """The base URL a client uses to reach `service`."""
        host, port = self.sockets[service].getsockname()[:2]
        return f"http://{host}:{port}"

    async def serve(self) -> None:
        """Serve every service until asked to stop."""
        tasks = []
        for name, sock in self.sockets.items():
            factory, _ = SERVICES[name]
            app = factory(self.settings, self.db)
            config = uvicorn.Config(
                app,
                log_config=None,
                access_log=False,
                lifespan="on",
                timeout_keep_alive=KEEP_ALIVE_SECONDS,
            )
            server = uvicorn.Server(config)
            self.servers.append(server)
            tasks.append(server.serve(sockets=[sock]))
            log.info("service_listening", service=name, url=self.url(name))
        await asyncio.gather(*tasks)

    def stop(self) -> None:
        """Ask every server to finish its requests and stop."""
        for server in self.servers:
            server.should_exit = True


def prepare(
    settings: Settings,
    *,
    services: list[str] | None = None,
    ephemeral_ports: bool = False,
) -> RunningSite:
    """Migrate and bind; nothing is served until `serve` runs."""
    names = services or list(SERVICES)
    db = open_database(settings)
    sockets = {
        name: bind(
            settings.host,
            0 if ephemeral_ports else getattr(settings, SERVICES[name][1]),
        )
        for name in names
    }
    return RunningSite(settings=settings, db=db, sockets=sockets)


class BackgroundSite:
    """A site served from a thread of this process, for `demo` and `eval`."""

    def __init__(self, site: RunningSite) -> None:
        self.site = site
        self._thread = threading.Thread(
            target=self._run, name="edgemesh-site", daemon=True
        )

    def _run(self) -> None:
        asyncio.run(self.site.serve())

    def start(self) -> None:
        """Serve in the background and return once every service is started."""
        self._thread.start()
        while not (
            len(self.site.servers) == len(self.site.sockets)
            and all(s.started for s in self.site.servers)
        ):
            if not self._thread.is_alive():
                raise RuntimeError("the embedded site stopped while starting")
            threading.Event().wait(0.02)

    def stop(self) -> None:
        """Stop serving and close the database."""
        self.site.stop()
        self._thread.join(timeout=10)
        self.site.db.dispose()
