"""`edgemesh submit`, `status` and `results`: workloads from the terminal."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from edgemesh.cli.common import (
    ApiKeyOption,
    CoordinatorOption,
    JsonOption,
    console,
    errors,
    id_column,
    print_json,
    reported_errors,
)
from edgemesh.client import SiteClient
from edgemesh.credits.amounts import format_credits

DEFAULT_COORDINATOR = "http://127.0.0.1:4301"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        errors.print(f"[red]error:[/red] cannot read {path}: {exc}")
        raise typer.Exit(2) from exc


def _show_workload(view: dict[str, Any]) -> None:
    console.print(
        f"workload [bold]{view['workload_id']}[/bold] "
        f"({view['kind']}, {view['name']}): "
        f"{view['state']} — {view['done']} done ({view['passed']} passed), "
        f"{view['failed']} failed, {view['leased']} running, {view['queued']} queued "
        f"of {view['unit_count']}; "
        f"charged {format_credits(view['charged_mc'])} credits",
        highlight=False,
    )


def submit(
    source: Annotated[Path, typer.Argument(help="Python file to run.")],
    tests: Annotated[
        Path | None,
        typer.Option("--tests", help="Python tests; they `from main import *`."),
    ] = None,
    stdin: Annotated[
        Path | None, typer.Option("--stdin", help="File fed to standard input.")
    ] = None,
    name: Annotated[
        str, typer.Option("--name", help="A name to recognise it by.")
    ] = "",
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, max=300)] = 10.0,
    idempotency_key: Annotated[
        str | None,
        typer.Option("--idempotency-key", help="Retry-safe key; default: random."),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until it finishes.")
    ] = False,
    coordinator: CoordinatorOption = DEFAULT_COORDINATOR,
    api_key: ApiKeyOption = "",
    as_json: JsonOption = False,
) -> None:
    """Submit a code workload: a Python file, optionally with tests."""
    unit: dict[str, Any] = {"kind": "code", "source": _read(source), "timeout": timeout}
    if tests is not None:
        unit["tests"] = _read(tests)
    if stdin is not None:
        unit["stdin"] = _read(stdin)
    body = {
        "kind": "code",
        "name": name or source.name,
        "idempotency_key": idempotency_key or uuid.uuid4().hex,
        "units": [unit],
    }
    with reported_errors(), SiteClient(coordinator, api_key) as client:
        view = client.submit(body)
        while wait and view["state"] != "finished":
            time.sleep(0.2)
            view = client.workload(view["workload_id"])
    if as_json:
        print_json(view)
    else:
        _show_workload(view)


def status(
    workload_id: Annotated[
        str | None, typer.Argument(help="Omit to list your workloads.")
    ] = None,
    coordinator: CoordinatorOption = DEFAULT_COORDINATOR,
    api_key: ApiKeyOption = "",
    as_json: JsonOption = False,
) -> None:
    """Show a workload's progress, or list your workloads."""
    with reported_errors(), SiteClient(coordinator, api_key) as client:
        views = [client.workload(workload_id)] if workload_id else client.workloads()
    if as_json:
        print_json(views[0] if workload_id else views)
        return
    if workload_id:
        _show_workload(views[0])
        return
    table = Table(
        id_column("workload"),
        "name",
        "kind",
        "state",
        "done",
        "passed",
        "failed",
        "units",
        "charged",
    )
    for v in views:
        table.add_row(
            v["workload_id"],
            v["name"],
            v["kind"],
            v["state"],
            str(v["done"]),
            str(v["passed"]),
            str(v["failed"]),
            str(v["unit_count"]),
            format_credits(v["charged_mc"]),
        )
    console.print(table)


def results(
    workload_id: Annotated[str, typer.Argument()],
    coordinator: CoordinatorOption = DEFAULT_COORDINATOR,
    api_key: ApiKeyOption = "",
    as_json: JsonOption = False,
) -> None:
    """Show each unit's result: verdict, exit status, output and time."""
    with reported_errors(), SiteClient(coordinator, api_key) as client:
        units = list(client.units(workload_id))
    if as_json:
        print_json(units)
        return
    table = Table(
        "unit", "task", "state", "verdict", "exit", "wall ms", id_column("node")
    )
    for u in units:
        r = u["result"] or {}
        table.add_row(
            str(u["seq"]),
            u["task_id"] or "",
            u["state"],
            r.get("verdict") or u["error"] or "",
            str(r.get("exit_status", "")),
            str(r.get("wall_ms", "")),
            u["node_id"] or "",
        )
    console.print(table)
    if len(units) == 1 and units[0]["result"]:
        r = units[0]["result"]
        console.rule("stdout")
        console.print(r["stdout"], markup=False, highlight=False)
        console.rule("stderr")
        console.print(r["stderr"], markup=False, highlight=False)
