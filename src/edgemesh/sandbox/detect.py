"""Finding the most isolating sandbox kind this machine can run."""

from __future__ import annotations

import threading

from edgemesh.errors import SandboxUnavailable
from edgemesh.logs import get_logger
from edgemesh.sandbox.limits import Limits
from edgemesh.sandbox.runner import KINDS, Sandbox

log = get_logger(__name__)

_REQUIREMENTS: dict[str | None, tuple[str, ...]] = {
    None: KINDS,
    "isolated": ("bwrap", "unshare"),
    **{kind: (kind,) for kind in KINDS},
}

_probed: dict[str, Sandbox | SandboxUnavailable] = {}
_probe_lock = threading.Lock()


def detect_sandbox(require: str | None = None) -> Sandbox:
    """Best available kind: bwrap, then unshare, then rlimits.

    `require` is "bwrap"/"unshare"/"rlimits"/"isolated" (bwrap or unshare) or None;
    raise SandboxUnavailable if it can't be met.
    """
    if require not in _REQUIREMENTS:
        raise ValueError(f"unknown sandbox requirement {require!r}")

    reasons = []
    for kind in _REQUIREMENTS[require]:
        found = _probe(kind)
        if isinstance(found, Sandbox):
            return found
        reasons.append(f"{kind}: {found.detail}")
    raise SandboxUnavailable("no usable sandbox; " + "; ".join(reasons))


def _probe(kind: str) -> Sandbox | SandboxUnavailable:
    """Try kind once per process."""
    with _probe_lock:
        if kind not in _probed:
            _probed[kind] = _try(kind)
        return _probed[kind]


def _try(kind: str) -> Sandbox | SandboxUnavailable:
    """The sandbox if an empty Python program runs in it, else why it can't."""
    try:
        sandbox = Sandbox(kind)
        outcome = sandbox.run(
            files={}, argv=["python", "-c", "pass"], limits=Limits(wall_seconds=30)
        )
    except (OSError, SandboxUnavailable) as exc:
        reason = str(exc)
    else:
        if outcome.ok:
            log.info("sandbox_detected", kind=kind)
            return sandbox
        reason = outcome.stderr.strip()[-300:] or f"exit {outcome.exit_status}"

    log.info("sandbox_unavailable", kind=kind, reason=reason)
    return SandboxUnavailable(reason)
