"""A real site with real worker processes running real code in the sandbox."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from edgemesh.accounts.lifecycle import Role
from edgemesh.client import SiteClient
from tests.conftest import SiteFactory
from tests.support.sites import SiteProcess, WorkerProcess, edgemesh_command, wait_for


class People:
    """The three people of a small site."""

    def __init__(self, site: SiteProcess) -> None:
        _, admin_key = site.account("admin@example.org", Role.ADMIN)
        _, contributor_key = site.account("c@example.org", Role.CONTRIBUTOR)
        self.user_key = site.account("u@example.org", Role.USER, credits_mc=10_000)[1]
        self.admin = site.client("control-plane", admin_key)
        self.contributor = site.client("coordinator", contributor_key)
        self.user = site.client("coordinator", self.user_key)
        self.site = site

    def join(self, name: str, slots: int = 1) -> tuple[str, WorkerProcess]:
        """Enrol a node, start its worker process and approve it once pending."""
        credential = self.contributor.enroll(name)
        node_id = credential["node"]["node_id"]
        worker = self.site.start_worker(credential["token"], slots=slots, name=name)
        wait_for(
            lambda: any(
                n["node_id"] == node_id for n in self.admin.nodes(state="pending")
            ),
            what=f"{name} to register",
        )
        self.admin.decide(node_id, "approve")
        return node_id, worker


def finished(client: SiteClient, workload_id: str) -> dict[str, object]:
    return wait_for(
        lambda: (v := client.workload(workload_id))["state"] == "finished" and v,
        timeout=60,
        what="the workload to finish",
    )


def test_code_workload_with_tests_runs_in_the_sandbox(start_site: SiteFactory) -> None:
    people = People(start_site())
    people.join("box")
    body = {
        "kind": "code",
        "idempotency_key": "k1",
        "units": [
            {
                "kind": "code",
                "source": "def add(a, b):\n    return a + b\nprint('loaded')\n",
                "tests": (
                    "from main import add\nassert add(2, 3) == 5\nprint('tests ok')\n"
                ),
            }
        ],
    }

    workload = people.user.submit(body)
    view = finished(people.user, workload["workload_id"])

    [unit] = list(people.user.units(workload["workload_id"]))
    assert view["passed"] == 1
    assert unit["result"]["verdict"] == "passed"
    assert unit["result"]["stdout"] == "loaded\ntests ok\n"
    assert unit["result"]["sandbox"] in {"bwrap", "unshare", "rlimits"}
    [node] = people.contributor.my_nodes()
    assert node["sandbox_kind"] == unit["result"]["sandbox"]
    assert node["units_done"] == 1 and node["earned_mc"] == 900


def test_worker_killed_mid_lease_unit_finished_by_other_and_credited_once(
    start_site: SiteFactory,
) -> None:
    people = People(start_site(lease_seconds=2))
    first_id, first = people.join("doomed")
    body = {
        "kind": "code",
        "idempotency_key": "slow",
        "units": [
            {
                "kind": "code",
                "source": "import time\ntime.sleep(3)\nprint('slept')\n",
                "timeout": 30,
            }
        ],
    }
    workload = people.user.submit(body)
    wait_for(
        lambda: people.user.workload(workload["workload_id"])["leased"] == 1,
        what="a lease",
    )

    first.kill()
    second_id, _ = people.join("survivor")
    finished(people.user, workload["workload_id"])

    [unit] = list(people.user.units(workload["workload_id"]))
    assert unit["state"] == "done" and unit["node_id"] == second_id != first_id
    assert unit["attempts"] == 2
    assert unit["result"]["stdout"] == "slept\n"
    assert people.contributor.wallet()["available_mc"] == 900
    summary = people.admin.credits_summary()
    assert summary["fee_mc"] == 100 and summary["drift"] == []
    assert people.user.wallet()["available_mc"] == 9_000


def test_rejected_worker_process_exits_with_a_clear_error(
    start_site: SiteFactory,
) -> None:
    people = People(start_site())
    credential = people.contributor.enroll("unwanted")
    worker = people.site.start_worker(credential["token"], name="unwanted")
    wait_for(lambda: people.admin.nodes(state="pending"), what="registration")

    people.admin.decide(credential["node"]["node_id"], "reject", "not ours")

    assert worker.process.wait(timeout=30) == 3
    assert "rejected" in worker.output()


def test_cli_submit_status_results(start_site: SiteFactory, tmp_path: Path) -> None:
    people = People(start_site())
    people.join("cli")
    source = tmp_path / "hello.py"
    source.write_text("import sys\nprint('hello', sys.stdin.read())\nsys.exit(3)\n")
    stdin = tmp_path / "in.txt"
    stdin.write_text("world")
    common = ["--coordinator", people.site.coordinator, "--api-key", people.user_key]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            edgemesh_command(*args, *common),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "COLUMNS": "250"},
        )

    submitted = cli("submit", str(source), "--stdin", str(stdin), "--wait", "--json")
    assert submitted.returncode == 0, submitted.stderr
    workload_id = json.loads(submitted.stdout)["workload_id"]

    status = cli("status", workload_id)
    results = cli("results", workload_id)
    listing = cli("status")

    assert "finished" in status.stdout and "1 done (0 passed)" in status.stdout
    assert "hello world" in results.stdout
    assert "failed: exit status 3" in results.stdout
    assert workload_id in listing.stdout
    missing = cli("status", "nope")
    assert missing.returncode == 2 and "no workload nope" in missing.stderr
