"""`edgemesh up` and the single-service commands."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from edgemesh.cli.common import DatabaseOption, DataDirOption, console, settings_for
from edgemesh.logs import configure_logging
from edgemesh.site import ALL_IN_ONE

HostOption = Annotated[
    str | None,
    typer.Option("--host", envvar="EDGEMESH_HOST", help="Address to listen on."),
]


def _serve(
    names: list[str],
    data_dir: DataDirOption,
    database_url: DatabaseOption,
    host: str | None,
) -> None:
    from edgemesh.site.services import prepare, write_site_file

    configure_logging()
    settings = settings_for(data_dir, database_url, host=host)
    site = prepare(settings, services=names)
    urls = {name: site.url(name) for name in names}
    write_site_file(settings.data_dir, urls)
    console.print(f"[bold]edgemesh[/bold] data in {settings.data_dir}", highlight=False)
    for name, url in urls.items():
        console.print(f"  {name:<14} {url}", highlight=False)
    try:
        asyncio.run(site.serve())
    except KeyboardInterrupt:
        pass
    finally:
        site.db.dispose()


def up(
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
    host: HostOption = None,
) -> None:
    """Run the site's services in one process until stopped (Ctrl-C)."""
    _serve(list(ALL_IN_ONE), data_dir, database_url, host)


def coordinator(
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
    host: HostOption = None,
) -> None:
    """Run only the coordinator (port 4301)."""
    _serve(["coordinator"], data_dir, database_url, host)


def control_plane(
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
    host: HostOption = None,
) -> None:
    """Run only the control plane (port 4303)."""
    _serve(["control-plane"], data_dir, database_url, host)
