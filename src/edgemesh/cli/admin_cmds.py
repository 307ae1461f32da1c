"""`edgemesh admin …`: bootstrap accounts and decide on nodes."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from edgemesh.accounts.lifecycle import Role
from edgemesh.cli.common import (
    ApiKeyOption,
    ControlPlaneOption,
    DatabaseOption,
    DataDirOption,
    JsonOption,
    console,
    id_column,
    print_json,
    reported_errors,
    settings_for,
)
from edgemesh.client import SiteClient
from edgemesh.credits.amounts import MC_PER_CREDIT, format_credits

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# The database and the services are imported inside the commands that use
# them: every `edgemesh worker` start would otherwise pay for them.

app = typer.Typer(
    help="Operator commands: accounts, credits and node approvals.",
    no_args_is_help=True,
)
DEFAULT_CONTROL_PLANE = "http://127.0.0.1:4303"


@contextlib.contextmanager
def _site_database(
    data_dir: Path | None, database_url: str | None
) -> Iterator[Session]:
    """One transaction on the site's own database, migrated first if need be."""
    from edgemesh.site.services import open_database

    db = open_database(settings_for(data_dir, database_url))
    try:
        with db.transaction() as session:
            yield session
    finally:
        db.dispose()


@app.command("create-user")
def create_user(
    email: Annotated[str, typer.Option("--email")],
    role: Annotated[
        list[Role], typer.Option("--role", help="Repeat for several roles.")
    ],
    password: Annotated[
        str | None, typer.Option("--password", envvar="EDGEMESH_PASSWORD", hidden=True)
    ] = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Create an account directly in the site's database and print its API key."""
    from edgemesh.accounts import directory

    with reported_errors(), _site_database(data_dir, database_url) as session:
        account = directory.create_account(
            session, email=email, roles=set(role), password=password
        )
        key = directory.issue_api_key(session, account.id, name="created by admin CLI")
    console.print(
        f"account {account.id} ({account.email}) with roles {', '.join(sorted(role))}"
    )
    console.print(f"API key (shown once): [bold]{key}[/bold]", highlight=False)


@app.command("grant")
def grant(
    email: Annotated[str, typer.Option("--email")],
    credits: Annotated[
        int, typer.Option("--credits", min=1, help="Whole credits to mint.")
    ],
    reference: Annotated[
        str | None,
        typer.Option("--reference", help="Retry-safe reference; default: random."),
    ] = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Mint credits into an account's wallet, directly in the site's database."""
    from edgemesh.accounts import directory
    from edgemesh.credits import journal

    with reported_errors(), _site_database(data_dir, database_url) as session:
        account = directory.find_account(session, email)
        journal.grant(
            session,
            account_id=account.id,
            amount_mc=credits * MC_PER_CREDIT,
            reference=reference or uuid.uuid4().hex,
            memo="granted by admin CLI",
        )
        available = journal.balances(session, account.id).available_mc
    console.print(f"{account.email} now has {format_credits(available)} credits")


@app.command("nodes")
def nodes(
    state: Annotated[str | None, typer.Option("--state", help="e.g. pending")] = None,
    control_plane: ControlPlaneOption = DEFAULT_CONTROL_PLANE,
    api_key: ApiKeyOption = "",
    as_json: JsonOption = False,
) -> None:
    """List nodes of every owner."""
    with reported_errors(), SiteClient(control_plane, api_key) as client:
        rows = client.nodes(state)
    if as_json:
        print_json(rows)
        return
    table = Table(
        id_column("node"),
        "name",
        "state",
        id_column("owner"),
        "source ip",
        "sandbox",
        "slots",
        "units done",
    )
    for n in rows:
        table.add_row(
            n["node_id"],
            n["name"],
            n["state"],
            n["owner_id"],
            n["source_ip"] or "",
            n["sandbox_kind"] or "",
            str(n["slots"]),
            str(n["units_done"]),
        )
    console.print(table)


def _decide(
    event: str, node_id: str, reason: str, control_plane: str, api_key: str
) -> None:
    with reported_errors(), SiteClient(control_plane, api_key) as client:
        node = client.decide(node_id, event, reason)
    console.print(f"node {node['node_id']} is now {node['state']}")


@app.command("approve")
def approve(
    node_id: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason")] = "",
    control_plane: ControlPlaneOption = DEFAULT_CONTROL_PLANE,
    api_key: ApiKeyOption = "",
) -> None:
    """Approve a pending node so it can take work."""
    _decide("approve", node_id, reason, control_plane, api_key)


@app.command("reject")
def reject(
    node_id: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason")] = "",
    control_plane: ControlPlaneOption = DEFAULT_CONTROL_PLANE,
    api_key: ApiKeyOption = "",
) -> None:
    """Reject a node; its registration token stops working."""
    _decide("reject", node_id, reason, control_plane, api_key)
