"""Bootstrapping a site from the command line: the first admin and credits."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.sites import edgemesh_command


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        edgemesh_command(*args),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_create_user_and_grant_credits(tmp_path: Path) -> None:
    where = ["--data-dir", str(tmp_path / "site")]

    created = run(
        "admin",
        "create-user",
        "--email",
        "Ops@Example.org",
        "--role",
        "admin",
        "--role",
        "user",
        *where,
    )
    again = run(
        "admin", "create-user", "--email", "ops@example.org", "--role", "user", *where
    )
    granted = run(
        "admin",
        "grant",
        "--email",
        "ops@example.org",
        "--credits",
        "5",
        "--reference",
        "r1",
        *where,
    )
    repeated = run(
        "admin",
        "grant",
        "--email",
        "ops@example.org",
        "--credits",
        "5",
        "--reference",
        "r1",
        *where,
    )
    missing = run(
        "admin", "grant", "--email", "nobody@example.org", "--credits", "5", *where
    )

    assert created.returncode == 0, created.stderr
    assert "emk_" in created.stdout and "ops@example.org" in created.stdout
    assert again.returncode == 2 and "already exists" in again.stderr
    assert "now has 5.000 credits" in granted.stdout
    assert "now has 5.000 credits" in repeated.stdout
    assert missing.returncode == 2 and "no account" in missing.stderr
    assert (tmp_path / "site").stat().st_mode & 0o777 == 0o700
