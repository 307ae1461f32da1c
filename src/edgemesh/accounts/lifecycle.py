"""The account lifecycle and the four roles."""

from __future__ import annotations

from enum import StrEnum

from edgemesh.lifecycle import machine

SIGNED_UP = "signed_up"
VERIFIED = "verified"
ACTIVE = "active"
DISABLED = "disabled"

ACCOUNT = machine(
    "account",
    {
        "verify": (SIGNED_UP, VERIFIED),
        "activate": (VERIFIED, ACTIVE),
        "disable": ({SIGNED_UP, VERIFIED, ACTIVE}, DISABLED),
        "enable": (DISABLED, ACTIVE),
    },
)


class Role(StrEnum):
    """What a person may do on a site; a person may hold several."""

    ADMIN = "admin"
    COORDINATOR_OWNER = "coordinator_owner"
    CONTRIBUTOR = "contributor"
    USER = "user"
