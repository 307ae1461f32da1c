"""Bootstrapping a site from the command line: the first admin and credits."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.sites import edgemesh_command


def test_create_user_and_grant_credits(tmp_path: Path) -> None:
    def admin(*args: str) -> subprocess.CompletedProcess[str]:
        command = edgemesh_command("admin", *args, "--data-dir", str(tmp_path / "site"))
        return subprocess.run(
            command, capture_output=True, text=True, timeout=120, check=False
        )

    grant = ["grant", "--email", "ops@example.org", "--credits", "5"]

    created = admin(
        "create-user", "--email", "Ops@Example.org", "--role", "admin", "--role", "user"
    )
    again = admin("create-user", "--email", "ops@example.org", "--role", "user")
    granted = admin(*grant, "--reference", "r1")
    repeated = admin(*grant, "--reference", "r1")
    missing = admin("grant", "--email", "nobody@example.org", "--credits", "5")

    assert created.returncode == 0, created.stderr
    assert "emk_" in created.stdout and "ops@example.org" in created.stdout
    assert again.returncode == 2 and "already exists" in again.stderr
    assert "now has 5.000 credits" in granted.stdout
    assert "now has 5.000 credits" in repeated.stdout
    assert missing.returncode == 2 and "no account" in missing.stderr
    assert (tmp_path / "site").stat().st_mode & 0o777 == 0o700
