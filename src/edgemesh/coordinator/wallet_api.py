"""The caller's credits."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from edgemesh.accounts.directory import Principal
from edgemesh.accounts.lifecycle import Role
from edgemesh.coordinator.state import coordinator_state
from edgemesh.credits import journal
from edgemesh.http.auth import require_roles
from edgemesh.http.schemas import ERROR_RESPONSES

router = APIRouter(prefix="/v1/wallet", tags=["wallet"], responses=ERROR_RESPONSES)
anyone = require_roles(*Role)


class WalletView(BaseModel):
    """Spendable and held credits, in milli-credits."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    available_mc: int
    held_mc: int


@router.get("")
def wallet(request: Request, principal: Principal = Depends(anyone)) -> WalletView:
    """The caller's balance and holds."""
    with coordinator_state(request).db.transaction() as session:
        b = journal.balances(session, principal.account_id)
    return WalletView(
        account_id=principal.account_id, available_mc=b.available_mc, held_mc=b.held_mc
    )
