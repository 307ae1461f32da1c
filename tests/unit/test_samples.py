"""Reading samples files: every malformed line is named."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from edgemesh.evaluation.samples import SamplesError, read_samples

PROBLEMS = {"HumanEval/0": {}, "HumanEval/1": {}}


def write(tmp_path: Path, lines: list[str], name: str = "s.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def good(task: str = "HumanEval/0") -> str:
    return json.dumps({"task_id": task, "completion": "    return 1\n"})


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (json.dumps({"completion": "x"}), 'missing "task_id"'),
        (json.dumps({"task_id": "HumanEval/0"}), 'missing "completion"'),
        (
            json.dumps({"task_id": "HumanEval/0", "completion": 3}),
            '"completion" must be a string',
        ),
        (json.dumps({"task_id": "HumanEval/999", "completion": ""}), "unknown task_id"),
    ],
)
def test_malformed_line_is_named(tmp_path: Path, bad: str, message: str) -> None:
    path = write(tmp_path, [good(), good("HumanEval/1"), bad])
    with pytest.raises(SamplesError) as refused:
        read_samples(path, PROBLEMS)
    assert f"{path}:3:" in refused.value.detail
    assert message in refused.value.detail


def test_blank_lines_skipped_extra_fields_kept_and_order_kept(tmp_path: Path) -> None:
    extra = json.dumps({"task_id": "HumanEval/1", "completion": "", "model": "m"})
    path = write(tmp_path, [good(), "", extra, good()])
    samples = read_samples(path, PROBLEMS)
    assert [s.line for s in samples] == [1, 3, 4]
    assert samples[1].record["model"] == "m"


def test_gzip_empty_missing_and_binary(tmp_path: Path) -> None:
    gz = tmp_path / "s.jsonl.gz"
    gz.write_bytes(gzip.compress((good() + "\n").encode()))
    assert len(read_samples(gz, PROBLEMS)) == 1
    with pytest.raises(SamplesError, match="no samples"):
        read_samples(write(tmp_path, [""], "empty.jsonl"), PROBLEMS)
    with pytest.raises(SamplesError, match="no such file"):
        read_samples(tmp_path / "missing.jsonl", PROBLEMS)
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SamplesError, match="not UTF-8"):
        read_samples(binary, PROBLEMS)


def test_byte_order_mark_and_crlf_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "windows.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + (good() + "\r\n" + good() + "\r\n").encode())

    assert [s.task_id for s in read_samples(path, PROBLEMS)] == ["HumanEval/0"] * 2
