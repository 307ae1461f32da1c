"""What a sandboxed run may use, and what it did."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Resource limits applied to one sandboxed run."""

    wall_seconds: float = 10.0
    cpu_seconds: int = 10
    memory_bytes: int = 512 * 1024 * 1024
    processes: int = 64
    output_bytes: int = 64 * 1024


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What one sandboxed run produced and how it ended."""

    exit_status: int | None
    stdout: str
    stderr: str
    wall_ms: int
    cpu_ms: int
    limit_hit: str | None = None
    output_truncated: bool = False

    @property
    def ok(self) -> bool:
        """True when the program exited 0 within every limit."""
        return self.exit_status == 0 and self.limit_hit is None
