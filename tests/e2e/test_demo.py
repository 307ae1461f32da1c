"""`edgemesh demo`: the main job, end to end, as a newcomer runs it."""

from __future__ import annotations

import subprocess

from tests.support.sites import edgemesh_command


def test_demo_grades_all_164_problems_and_moves_credits() -> None:
    finished = subprocess.run(
        edgemesh_command("demo"),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert finished.returncode == 0, finished.stdout + finished.stderr
    out = finished.stdout
    assert "164/164" in out
    assert "charged to the user" in out and "164.000 credits" in out
    assert "coordinator fee" in out and "16.400 credits" in out
    assert out.count("earned by local-node-") == 2
    assert "journal reconciles" in out and "yes" in out
