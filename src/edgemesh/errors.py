"""The edgemesh error tree.

EdgemeshError
├── InvalidInput            400  well-formed, but asks for something impossible
├── Unauthenticated         401  no credential, or one nobody issued
├── Forbidden               403  a known caller who may not do this
│   ├── NodeRejected        403  the node was rejected or blacklisted
│   ├── NodeNotActive       403  the node may not take work in its current state
│   └── LeaseNotHeld        403  a result from a worker that does not hold the lease
├── NotFound                404  no such thing, or not yours
├── Conflict                409  the request clashes with the current state
│   ├── IllegalTransition   409  a lifecycle was asked to move where it cannot
│   ├── DuplicateSubmission 409  an idempotency key reused with other content
│   └── LeaseExpired        409  the lease ended before the result arrived
├── InsufficientCredits     402  the wallet cannot cover the hold
└── SandboxUnavailable      503  the required sandbox cannot run on this machine
"""

from __future__ import annotations


class EdgemeshError(Exception):
    """Root of every error edgemesh raises on purpose."""

    status = 500
    code = "internal"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(EdgemeshError):
    """The input is well-formed but cannot be accepted."""

    status = 400
    code = "invalid_input"


class Unauthenticated(EdgemeshError):
    """No credential, or a credential nobody issued."""

    status = 401
    code = "unauthenticated"


class Forbidden(EdgemeshError):
    """A known caller asked for something their role does not allow."""

    status = 403
    code = "forbidden"


class NodeRejected(Forbidden):
    """The node was rejected and may not register or take work."""

    code = "node_rejected"


class NodeNotActive(Forbidden):
    """The node is not active, so it may not take work."""

    code = "node_not_active"


class LeaseNotHeld(Forbidden):
    """A result came from a worker that does not hold the unit's lease."""

    code = "lease_not_held"


class NotFound(EdgemeshError):
    """The thing does not exist or is not the caller's."""

    status = 404
    code = "not_found"


class Conflict(EdgemeshError):
    """The request clashes with the current state."""

    status = 409
    code = "conflict"


class IllegalTransition(Conflict):
    """A lifecycle was asked for a transition its state machine forbids."""

    code = "illegal_transition"


class DuplicateSubmission(Conflict):
    """An idempotency key was reused for a different submission."""

    code = "duplicate_submission"


class LeaseExpired(Conflict):
    """The lease ended (expired or revoked) before its result arrived."""

    code = "lease_expired"


class InsufficientCredits(EdgemeshError):
    """The wallet balance cannot cover the requested hold."""

    status = 402
    code = "insufficient_credits"


class SandboxUnavailable(EdgemeshError):
    """The sandbox kind that policy requires cannot run here."""

    status = 503
    code = "sandbox_unavailable"
