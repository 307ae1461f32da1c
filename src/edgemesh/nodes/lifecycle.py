"""The node lifecycle, from enrolment to approval, rejection or retirement."""

from __future__ import annotations

from enum import StrEnum

from edgemesh.lifecycle import machine

ENROLLED = "enrolled"
PENDING = "pending"
ACTIVE = "active"
REJECTED = "rejected"
DRAINING = "draining"
ISOLATED = "isolated"
RETIRED = "retired"

NODE = machine(
    "node",
    {
        "register": ({ENROLLED, PENDING}, PENDING),
        "approve": (PENDING, ACTIVE),
        "reject": ({ENROLLED, PENDING}, REJECTED),
        "drain": (ACTIVE, DRAINING),
        "isolate": ({ACTIVE, DRAINING}, ISOLATED),
        "resume": ({DRAINING, ISOLATED}, ACTIVE),
        "retire": ({ENROLLED, PENDING, ACTIVE, DRAINING, ISOLATED}, RETIRED),
    },
)


class NodeState(StrEnum):
    """Every state a node can be in, for filters and documentation."""

    ENROLLED = ENROLLED
    PENDING = PENDING
    ACTIVE = ACTIVE
    REJECTED = REJECTED
    DRAINING = DRAINING
    ISOLATED = ISOLATED
    RETIRED = RETIRED
