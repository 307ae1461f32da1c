"""The control-plane service (port 4303)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, ConfigDict, Field

from edgemesh import __version__
from edgemesh.accounts import directory
from edgemesh.accounts.directory import Principal
from edgemesh.accounts.lifecycle import Role
from edgemesh.config import Settings
from edgemesh.coordinator.node_api import NodeView, node_view, node_views
from edgemesh.credits import journal
from edgemesh.db.engine import Database
from edgemesh.http.auth import require_roles
from edgemesh.http.errors import install_error_handlers
from edgemesh.http.health import health_router
from edgemesh.http.schemas import ERROR_RESPONSES, Label
from edgemesh.nodes import registry
from edgemesh.nodes.lifecycle import NodeState

admin = require_roles(Role.ADMIN)
operator = require_roles(Role.ADMIN, Role.COORDINATOR_OWNER)
router = APIRouter(prefix="/v1", tags=["control plane"], responses=ERROR_RESPONSES)


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Decision(_Body):
    """Why an operator approved or rejected a node."""

    reason: Label = Field(default="", max_length=2000)


class NewAccount(_Body):
    """An account an admin creates, with its roles."""

    email: Label = Field(min_length=3, max_length=320)
    roles: list[Role] = Field(min_length=1, max_length=4)
    password: Label | None = Field(default=None, min_length=8, max_length=1024)


class CreatedAccount(_Body):
    """A new account and its first API key, shown once."""

    account_id: str
    email: str
    roles: list[Role]
    api_key: str


class NewGrant(_Body):
    """Credits an admin mints into an account's wallet."""

    email: Label = Field(min_length=3, max_length=320)
    amount_mc: int = Field(strict=True, gt=0, le=10**15)
    reference: Label = Field(min_length=1, max_length=100)
    memo: Label = Field(default="", max_length=500)


class GrantResult(_Body):
    """Whether a grant moved credits (False: that reference was used before)."""

    account_id: str
    posted: bool
    available_mc: int


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


@router.get("/nodes")
def list_nodes(
    request: Request,
    _who: Principal = Depends(operator),
    state: NodeState | None = Query(default=None),
) -> list[NodeView]:
    """Nodes of every owner, optionally only those in one state."""
    with _db(request).transaction() as session:
        return node_views(session, registry.list_nodes(session, state=state))


def _decide(
    request: Request, node_id: str, event: str, who: Principal, why: str
) -> NodeView:
    with _db(request).transaction() as session:
        node = registry.decide(
            session, node_id, event=event, actor_id=who.account_id, reason=why
        )
        return node_view(node)


@router.post("/nodes/{node_id}/approve")
def approve(
    node_id: str,
    request: Request,
    body: Decision | None = None,
    who: Principal = Depends(operator),
) -> NodeView:
    """Approve a pending node: it may take work."""
    return _decide(request, node_id, "approve", who, body.reason if body else "")


@router.post("/nodes/{node_id}/reject")
def reject(
    node_id: str,
    request: Request,
    body: Decision | None = None,
    who: Principal = Depends(operator),
) -> NodeView:
    """Reject a node: its token stops working."""
    return _decide(request, node_id, "reject", who, body.reason if body else "")


@router.post("/accounts", status_code=201)
def create_account(
    body: NewAccount, request: Request, _who: Principal = Depends(admin)
) -> CreatedAccount:
    """Create an account with roles and an API key."""
    with _db(request).transaction() as session:
        account = directory.create_account(
            session, email=body.email, roles=set(body.roles), password=body.password
        )
        key = directory.issue_api_key(session, account.id)
        return CreatedAccount(
            account_id=account.id,
            email=account.email,
            roles=sorted(set(body.roles)),
            api_key=key,
        )


@router.post("/credits/grants")
def grant_credits(
    body: NewGrant, request: Request, _who: Principal = Depends(admin)
) -> GrantResult:
    """Mint credits into a wallet; the same reference twice mints once."""
    with _db(request).transaction() as session:
        account = directory.find_account(session, body.email)
        posted = journal.grant(
            session,
            account_id=account.id,
            amount_mc=body.amount_mc,
            reference=body.reference,
            memo=body.memo,
        )
        available = journal.balances(session, account.id).available_mc
    return GrantResult(account_id=account.id, posted=posted, available_mc=available)


class CreditsSummary(_Body):
    """Site-wide credit figures and any drift between balances and journal."""

    minted_mc: int
    fee_mc: int
    drift: list[dict[str, int | str]]


@router.get("/credits/summary")
def credits_summary(
    request: Request, _who: Principal = Depends(admin)
) -> CreditsSummary:
    """Credits minted, fees collected, and whether the journal reconciles."""
    with _db(request).transaction() as session:
        minted = -journal.balance(session, journal.ISSUANCE, journal.SITE)
        fee = journal.balance(session, journal.FEE, journal.SITE)
        drift = [d.__dict__ for d in journal.reconcile(session)]
    return CreditsSummary(minted_mc=minted, fee_mc=fee, drift=drift)


def create_control_plane(settings: Settings, db: Database) -> FastAPI:
    """Build the control plane's ASGI app over a migrated database."""
    app = FastAPI(
        title="edgemesh control plane",
        version=__version__,
        max_body_size=settings.max_body_bytes,
    )
    app.state.db = db
    app.state.settings = settings
    app.state.metrics = CollectorRegistry()
    install_error_handlers(app)
    app.include_router(health_router("control-plane"))
    app.include_router(router)
    return app
