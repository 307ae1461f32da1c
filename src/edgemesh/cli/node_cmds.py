"""`edgemesh nodes …`: a contributor's own nodes."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from edgemesh.cli.common import (
    ApiKeyOption,
    CoordinatorOption,
    JsonOption,
    console,
    id_column,
    print_json,
    reported_errors,
)
from edgemesh.client import SiteClient
from edgemesh.credits.amounts import format_credits

app = typer.Typer(help="Enrol and list your nodes.", no_args_is_help=True)
DEFAULT_COORDINATOR = "http://127.0.0.1:4301"


@app.command("enroll")
def enroll(
    name: Annotated[str, typer.Argument(help="A name for the machine.")],
    coordinator: CoordinatorOption = DEFAULT_COORDINATOR,
    api_key: ApiKeyOption = "",
    as_json: JsonOption = False,
) -> None:
    """Enrol a node and print its registration token (shown once)."""
    with reported_errors(), SiteClient(coordinator, api_key) as client:
        credential = client.enroll(name)
    if as_json:
        print_json(credential)
        return
    console.print(f"node {credential['node']['node_id']} enrolled as {name}")
    console.print("registration token (shown once, keep it secret):", highlight=False)
    console.print(
        f"  {credential['token']}", highlight=False, markup=False, soft_wrap=True
    )
    console.print("start the worker on that machine with:")
    console.print(
        f"  {credential['command']}", highlight=False, markup=False, soft_wrap=True
    )


@app.command("list")
def list_nodes(
    coordinator: CoordinatorOption = DEFAULT_COORDINATOR,
    api_key: ApiKeyOption = "",
    as_json: JsonOption = False,
) -> None:
    """Your nodes, their state and what they have earned."""
    with reported_errors(), SiteClient(coordinator, api_key) as client:
        rows = client.my_nodes()
    if as_json:
        print_json(rows)
        return
    table = Table(
        id_column("node"),
        "name",
        "state",
        "last heartbeat",
        "sandbox",
        "units done",
        "earned",
    )
    for n in rows:
        table.add_row(
            n["node_id"],
            n["name"],
            n["state"],
            str(n["last_heartbeat_at"] or ""),
            n["sandbox_kind"] or "",
            str(n["units_done"]),
            format_credits(n["earned_mc"]),
        )
    console.print(table)
