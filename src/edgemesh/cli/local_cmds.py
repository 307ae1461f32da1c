"""`edgemesh demo` and `edgemesh eval`: the main job on an embedded site."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from edgemesh.cli.common import (
    ApiKeyOption,
    console,
    errors,
    reported_errors,
    settings_for,
)
from edgemesh.client import SiteClient
from edgemesh.credits.amounts import format_credits
from edgemesh.evaluation import grading
from edgemesh.evaluation.samples import Sample, load_problems, read_samples
from edgemesh.logs import configure_logging

if TYPE_CHECKING:
    from edgemesh.site.local import LocalSite

WorkersOption = Annotated[
    int, typer.Option("--workers", min=1, max=64, help="Worker processes to start.")
]
SlotsOption = Annotated[
    int | None,
    typer.Option("--slots", min=1, max=256, help="Units each worker runs at once."),
]
LocalDataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Keep the site's data here (default: a temporary folder)."
    ),
]


def _default_slots(workers: int) -> int:
    return max(2, (os.cpu_count() or 1) * 2 // workers)


@contextlib.contextmanager
def local_site(
    data_dir: Path | None, *, workers: int, slots: int | None, units: int
) -> Iterator[LocalSite]:
    """A fresh embedded site with `workers` approved worker processes."""
    # Loaded here, not at start-up: a worker process never needs the site.
    from edgemesh.site.local import LocalSite

    scratch = None if data_dir else Path(tempfile.mkdtemp(prefix="edgemesh-"))
    settings = settings_for(data_dir or scratch, None)
    site = LocalSite(
        settings=settings,
        workers=workers,
        slots=slots or _default_slots(workers),
        log_dir=settings.data_dir / "logs",
    )
    try:
        with console.status("starting the site and its workers…"):
            site.start(credits_mc=units * settings.unit_price_mc)
        yield site
    finally:
        site.stop()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _grade_with_progress(
    client: SiteClient,
    samples: list[Sample],
    problems: dict[str, Any],
    *,
    timeout: float,
    name: str,
) -> grading.Graded:
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("passed {task.fields[passed]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("grading", total=len(samples), passed=0)

        def on_progress(view: dict[str, Any]) -> None:
            bar.update(
                task, completed=view["done"] + view["failed"], passed=view["passed"]
            )

        return grading.grade(
            client,
            samples,
            problems,
            timeout=timeout,
            name=name,
            on_progress=on_progress,
        )


def _load(path: Path) -> tuple[list[Sample], dict[str, Any]]:
    problems = load_problems()
    with reported_errors():
        return read_samples(path, problems), problems


def eval_(
    samples_file: Annotated[Path, typer.Argument(metavar="SAMPLES.jsonl")],
    workers: WorkersOption = 2,
    slots: SlotsOption = None,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, max=300)] = 3.0,
    coordinator: Annotated[
        str | None, typer.Option("--coordinator", help="Use a running site instead.")
    ] = None,
    api_key: ApiKeyOption = "",
    data_dir: LocalDataDir = None,
) -> None:
    """Grade HumanEval samples on the mesh into SAMPLES.jsonl_results.jsonl."""
    configure_logging("WARNING")
    began = time.perf_counter()
    samples, problems = _load(samples_file)
    out = Path(str(samples_file) + "_results.jsonl")

    with contextlib.ExitStack() as stack:
        if coordinator:
            if not api_key:
                errors.print(
                    "[red]error:[/red] --coordinator needs --api-key "
                    "(or EDGEMESH_API_KEY)"
                )
                raise typer.Exit(2)
            client = stack.enter_context(SiteClient(coordinator, api_key))
            startup = 0.0
        else:
            site = stack.enter_context(
                local_site(data_dir, workers=workers, slots=slots, units=len(samples))
            )
            assert site.user is not None
            client, startup = site.user, site.started_in
        with reported_errors():
            graded = _grade_with_progress(
                client, samples, problems, timeout=timeout, name=samples_file.name
            )
        grading.write_results(out, graded.records)

    counts = grading.verdict_counts(graded.records)
    console.print(
        f"{len(samples)} samples: {counts['passed']} passed, "
        f"{counts['failed']} failed, "
        f"{counts['timed out']} timed out — results in {out}",
        highlight=False,
    )
    for name, value in graded.pass_at_k.items():
        console.print(f"{name}: {value:.4f}", highlight=False)
    console.print(
        f"graded in {graded.seconds:.2f}s (site start-up {startup:.2f}s, "
        f"total {time.perf_counter() - began:.2f}s); "
        f"charged {format_credits(graded.charged_mc)} credits",
        highlight=False,
    )


def _canonical_samples(problems: dict[str, Any]) -> list[Sample]:
    return [
        Sample(
            line=i, record={"task_id": task_id, "completion": p["canonical_solution"]}
        )
        for i, (task_id, p) in enumerate(problems.items(), start=1)
    ]


def _summary(site: LocalSite, graded: grading.Graded, seconds: float) -> Table:
    assert (
        site.admin is not None
        and site.contributor is not None
        and site.user is not None
    )
    table = Table(title="edgemesh demo", show_header=False)
    passed = sum(r["passed"] for r in graded.records)
    table.add_row("HumanEval problems passed", f"{passed}/{len(graded.records)}")
    table.add_row("wall time", f"{seconds:.2f}s (grading {graded.seconds:.2f}s)")
    table.add_row("charged to the user", f"{format_credits(graded.charged_mc)} credits")
    for node in site.contributor.my_nodes():
        table.add_row(
            f"earned by {node['name']} "
            f"({node['units_done']} units, {node['sandbox_kind']})",
            f"{format_credits(node['earned_mc'])} credits",
        )
    owner = site.contributor.wallet()
    table.add_row(
        "node owner's wallet", f"{format_credits(owner['available_mc'])} credits"
    )
    books = site.admin.credits_summary()
    table.add_row("coordinator fee", f"{format_credits(books['fee_mc'])} credits")
    table.add_row(
        "journal reconciles", "yes" if not books["drift"] else f"NO: {books['drift']}"
    )
    return table


def demo(
    workers: WorkersOption = 2,
    slots: SlotsOption = None,
    data_dir: LocalDataDir = None,
) -> None:
    """Run all 164 HumanEval problems with their canonical solutions on a fresh site."""
    configure_logging("WARNING")
    began = time.perf_counter()
    problems = load_problems()
    samples = _canonical_samples(problems)
    with local_site(data_dir, workers=workers, slots=slots, units=len(samples)) as site:
        assert site.user is not None
        console.print(
            f"site up in {site.started_in:.2f}s: {workers} workers approved, "
            f"coordinator at {site.coordinator_url}",
            highlight=False,
        )
        with reported_errors():
            graded = _grade_with_progress(
                site.user, samples, problems, timeout=3.0, name="humaneval-canonical"
            )
            console.print(_summary(site, graded, time.perf_counter() - began))
    if not all(r["passed"] for r in graded.records):
        failed = [r["task_id"] for r in graded.records if not r["passed"]]
        errors.print(f"[red]not every problem passed:[/red] {', '.join(failed[:10])}")
        raise typer.Exit(1)
