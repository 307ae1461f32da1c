"""What a unit asks a worker to run, and what a worker reports back."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_SOURCE = 1_000_000
MAX_OUTPUT = 64 * 1024


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CodeSpec(_Frozen):
    """Python source, optionally with tests that import it as `main`."""

    kind: Literal["code"] = "code"
    language: Literal["python"] = "python"
    source: str = Field(max_length=MAX_SOURCE)
    tests: str | None = Field(default=None, max_length=MAX_SOURCE)
    stdin: str = Field(default="", max_length=MAX_SOURCE)
    timeout: float = Field(default=10.0, gt=0, le=300)
    memory_mb: int = Field(default=512, strict=True, ge=32, le=8192)


class HumanEvalSpec(_Frozen):
    """One HumanEval-format sample: a prompt, a completion and its test."""

    kind: Literal["humaneval"] = "humaneval"
    task_id: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")
    prompt: str = Field(max_length=MAX_SOURCE)
    completion: str = Field(max_length=MAX_SOURCE)
    test: str = Field(max_length=MAX_SOURCE)
    entry_point: str = Field(
        min_length=1, max_length=200, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$"
    )
    timeout: float = Field(default=3.0, gt=0, le=300)


UnitSpec = Annotated[CodeSpec | HumanEvalSpec, Field(discriminator="kind")]


class UnitResult(_Frozen):
    """A worker's report on one unit.

    `status` is `passed` or `failed` when the code ran (its verdict says how it
    went) and `error` when the worker could not run it at all, which sends the
    unit back to the queue.
    """

    status: Literal["passed", "failed", "error"]
    verdict: str = Field(max_length=4096)
    exit_status: int | None = Field(default=None, strict=True, ge=-(2**31), le=2**31)
    stdout: str = Field(default="", max_length=MAX_OUTPUT)
    stderr: str = Field(default="", max_length=MAX_OUTPUT)
    wall_ms: int = Field(default=0, strict=True, ge=0, le=10**9)
    cpu_ms: int = Field(default=0, strict=True, ge=0, le=10**9)
    limit_hit: str | None = Field(default=None, max_length=32)
    output_truncated: bool = False
    sandbox: str = Field(default="", max_length=16)
