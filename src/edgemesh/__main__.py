"""`python -m edgemesh` runs the command-line interface."""

from edgemesh.cli.main import app

app(prog_name="edgemesh")
