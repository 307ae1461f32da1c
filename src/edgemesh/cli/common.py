"""What the commands share: options, output, and turning errors into exits."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Column

from edgemesh.client import ApiError
from edgemesh.config import Settings
from edgemesh.errors import EdgemeshError

console = Console()
errors = Console(stderr=True)

CoordinatorOption = Annotated[
    str,
    typer.Option(
        "--coordinator",
        envvar="EDGEMESH_COORDINATOR",
        help="Base URL of the site's coordinator.",
    ),
]
ControlPlaneOption = Annotated[
    str,
    typer.Option(
        "--control-plane",
        envvar="EDGEMESH_CONTROL_PLANE",
        help="Base URL of the site's control plane.",
    ),
]
ApiKeyOption = Annotated[
    str,
    typer.Option("--api-key", envvar="EDGEMESH_API_KEY", help="Your API key."),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", envvar="EDGEMESH_DATA_DIR", help="Where the site keeps its data."
    ),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="EDGEMESH_DATABASE_URL",
        help="SQLAlchemy URL; default: SQLite in the data directory.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def settings_for(
    data_dir: Path | None, database_url: str | None, **extra: Any
) -> Settings:
    """Site settings from the environment, overridden by command-line options."""
    overrides: dict[str, Any] = {k: v for k, v in extra.items() if v is not None}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if database_url is not None:
        overrides["database_url"] = database_url
    return Settings(**overrides)


def print_json(value: Any) -> None:
    """Print a value as indented JSON on stdout."""
    console.print_json(json.dumps(value, default=str))


@contextlib.contextmanager
def reported_errors() -> Iterator[None]:
    """Turn the site's refusals into a one-line message and exit status."""
    try:
        yield
    except ApiError as exc:
        errors.print(f"[red]error:[/red] {exc.detail} ({exc.code})")
        raise typer.Exit(2 if 400 <= exc.status < 500 else 1) from exc
    except EdgemeshError as exc:
        errors.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(2 if exc.status < 500 else 1) from exc
    except httpx.TransportError as exc:
        errors.print(f"[red]error:[/red] cannot reach {_target(exc)}: {exc}")
        raise typer.Exit(1) from exc


def _target(exc: httpx.TransportError) -> str:
    try:
        return str(exc.request.url.copy_with(query=None))
    except RuntimeError:
        return "the site"


def id_column(header: str) -> Column:
    """A table column for identifiers, which must never be cut short."""
    return Column(header, no_wrap=True, min_width=16)
