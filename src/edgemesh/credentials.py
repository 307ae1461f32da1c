"""Identifiers and bearer secrets; secrets are stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets

REGISTRATION_TOKEN_PREFIX = "emr_"
API_KEY_PREFIX = "emk_"


def new_id() -> str:
    """A random identifier, safe to show and to put in URLs."""
    return secrets.token_hex(8)


def new_secret(prefix: str) -> str:
    """A fresh high-entropy bearer secret, shown to its owner once."""
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """The stored form of a bearer secret.

    The secrets are 256-bit random strings, so a plain SHA-256 cannot be
    brute-forced; a slow password hash would only slow every request.
    """
    return hashlib.sha256(secret.encode()).hexdigest()
