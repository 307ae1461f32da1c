"""The `edgemesh` command: one entry point for every role."""

from __future__ import annotations

import typer

from edgemesh.cli import admin_cmds, local_cmds, node_cmds, site_cmds, workload_cmds
from edgemesh.cli.worker_cmd import worker

app = typer.Typer(
    help="edgemesh: a self-hostable compute mesh.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("demo")(local_cmds.demo)
app.command("eval")(local_cmds.eval_)
app.command("up")(site_cmds.up)
app.command("coordinator")(site_cmds.coordinator)
app.command("control-plane")(site_cmds.control_plane)
app.command("worker")(worker)
app.command("submit")(workload_cmds.submit)
app.command("status")(workload_cmds.status)
app.command("results")(workload_cmds.results)
app.add_typer(admin_cmds.app, name="admin")
app.add_typer(node_cmds.app, name="nodes")
