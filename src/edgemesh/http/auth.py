"""Who is calling: bearer credentials turned into principals or nodes."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from edgemesh.accounts.directory import Principal, principal_for_api_key
from edgemesh.accounts.lifecycle import ACTIVE, Role
from edgemesh.db.engine import Database
from edgemesh.errors import Forbidden, Unauthenticated

token_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API key (emk_…) or, on /v1/worker, a registration token (emr_…).",
)
"""Declares `Authorization: Bearer` in the OpenAPI schema; checks happen below."""


def bearer(request: Request) -> str:
    """The bearer secret of a request, or Unauthenticated."""
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("send 'Authorization: Bearer <key or token>'")
    return secret.strip()


def source_ip(request: Request) -> str:
    """The address a request came from."""
    return request.client.host if request.client else "unknown"


def require_roles(*roles: Role) -> Callable[[Request], Principal]:
    """A dependency that admits active accounts holding one of `roles`."""

    def dependency(
        request: Request,
        _declared: HTTPAuthorizationCredentials | None = Depends(token_scheme),
    ) -> Principal:
        db: Database = request.app.state.db
        with db.transaction() as session:
            principal = principal_for_api_key(session, bearer(request))
        if principal.state != ACTIVE:
            raise Forbidden(f"account {principal.email} is {principal.state}")
        if not principal.has(*roles):
            names = ", ".join(r.value for r in roles)
            raise Forbidden(f"this needs one of the roles: {names}")
        return principal

    return dependency
