"""Fixtures shared by every test layer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.databases import fresh_database
from tests.support.sites import SiteProcess

DB_KINDS = ["sqlite", "postgres"]


@pytest.fixture(params=DB_KINDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database; every test using it runs on both stores."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


SiteFactory = Callable[..., SiteProcess]


@pytest.fixture
def start_site(database_url: str, tmp_path: Path) -> Iterator[SiteFactory]:
    """Start `edgemesh up` in a subprocess; extra settings as EDGEMESH_* env."""
    sites: list[SiteProcess] = []

    def start(**settings: object) -> SiteProcess:
        env = {f"EDGEMESH_{k.upper()}": str(v) for k, v in settings.items()}
        site = SiteProcess(
            data_dir=tmp_path / f"site{len(sites)}", database_url=database_url, env=env
        )
        sites.append(site)
        site.start()
        return site

    yield start
    for site in sites:
        site.stop()
