"""`edgemesh worker`: join a site with a registration token."""

from __future__ import annotations

import os
import signal
from typing import Annotated, Any

import httpx
import typer

from edgemesh.cli.common import CoordinatorOption, errors
from edgemesh.errors import SandboxUnavailable
from edgemesh.logs import configure_logging, get_logger
from edgemesh.sandbox import detect_sandbox
from edgemesh.worker.runtime import Worker, WorkerOptions, WorkerStopped

log = get_logger(__name__)


def worker(
    coordinator: CoordinatorOption = "http://127.0.0.1:4301",
    token: Annotated[
        str,
        typer.Option(
            "--token",
            envvar="EDGEMESH_TOKEN",
            help="The node's registration token (or set EDGEMESH_TOKEN).",
        ),
    ] = "",
    slots: Annotated[
        int, typer.Option("--slots", min=1, max=256, help="Units to run at once.")
    ] = max(1, os.cpu_count() or 1),
    batch: Annotated[
        int,
        typer.Option(
            "--batch",
            min=1,
            max=64,
            help="HumanEval samples of one workload graded per sandbox.",
        ),
    ] = 8,
    sandbox: Annotated[
        str,
        typer.Option(
            "--sandbox",
            help="auto, bwrap, unshare, rlimits, or isolated (bwrap or unshare).",
        ),
    ] = "auto",
) -> None:
    """Run this machine as a node of a site until stopped."""
    configure_logging()
    if not token:
        errors.print(
            "[red]error:[/red] give the node's registration token with --token"
        )
        raise typer.Exit(2)
    try:
        box = detect_sandbox(None if sandbox == "auto" else sandbox)
    except SandboxUnavailable as exc:
        errors.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(2) from exc
    log.info("worker_starting", coordinator=coordinator, sandbox=box.kind, slots=slots)

    runtime = Worker(
        WorkerOptions(
            coordinator_url=coordinator,
            token=token,
            slots=slots,
            sandbox=box,
            batch=batch,
        )
    )

    def _stop(_signum: int, _frame: Any) -> None:
        runtime.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        runtime.run()
    except WorkerStopped as exc:
        errors.print(f"[red]error:[/red] the coordinator refused this node: {exc}")
        raise typer.Exit(3) from exc
    except httpx.TransportError as exc:
        errors.print(f"[red]error:[/red] cannot reach {coordinator}: {exc}")
        raise typer.Exit(4) from exc
    log.info("worker_stopped", node_id=runtime.node_id)
