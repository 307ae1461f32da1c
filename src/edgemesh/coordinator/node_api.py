"""Routes node contributors call to enrol and look after their nodes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from edgemesh.accounts.directory import Principal
from edgemesh.accounts.lifecycle import Role
from edgemesh.coordinator.state import coordinator_state
from edgemesh.db.models import Node
from edgemesh.http.auth import require_roles
from edgemesh.http.schemas import ERROR_RESPONSES, Label
from edgemesh.nodes import registry

router = APIRouter(prefix="/v1/nodes", tags=["nodes"], responses=ERROR_RESPONSES)
contributor = require_roles(Role.CONTRIBUTOR)


class Enrolment(BaseModel):
    """A contributor's request to enrol a node."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Label = Field(min_length=1, max_length=200)


class NodeView(BaseModel):
    """A node as its owner and the operators see it."""

    model_config = ConfigDict(frozen=True)

    node_id: str
    name: str
    owner_id: str
    state: str
    enrolled_at: datetime
    registered_at: datetime | None
    last_heartbeat_at: datetime | None
    source_ip: str | None
    sandbox_kind: str | None
    runtime_version: str | None
    slots: int
    capabilities: dict[str, Any]
    decision_reason: str | None
    units_done: int = 0
    earned_mc: int = 0


class Credential(BaseModel):
    """A registration token, shown once, and the command that uses it."""

    model_config = ConfigDict(frozen=True)

    node: NodeView
    token: str
    command: str


def node_views(session: Session, nodes: list[Node]) -> list[NodeView]:
    """Public views of nodes, with what each has done."""
    done = registry.stats(session, [n.id for n in nodes])
    return [
        node_view(n).model_copy(
            update={
                "units_done": done[n.id].units_done,
                "earned_mc": done[n.id].earned_mc,
            }
        )
        for n in nodes
    ]


def node_view(node: Node) -> NodeView:
    """The public view of a node."""
    return NodeView(
        node_id=node.id,
        name=node.name,
        owner_id=node.owner_id,
        state=node.state,
        enrolled_at=node.enrolled_at,
        registered_at=node.registered_at,
        last_heartbeat_at=node.last_heartbeat_at,
        source_ip=node.source_ip,
        sandbox_kind=node.sandbox_kind,
        runtime_version=node.runtime_version,
        slots=node.slots,
        capabilities=node.capabilities,
        decision_reason=node.decision_reason,
    )


def _credential(request: Request, node: NodeView, token: str) -> Credential:
    url = str(request.base_url).rstrip("/")
    # In the environment, not in argv: other users can read argv with `ps`.
    return Credential(
        node=node,
        token=token,
        command=f"EDGEMESH_TOKEN={token} edgemesh worker --coordinator {url}",
    )


@router.post("", status_code=201)
def enroll(
    body: Enrolment, request: Request, principal: Principal = Depends(contributor)
) -> Credential:
    """Enrol a node; the registration token in the answer is never shown again."""
    with coordinator_state(request).db.transaction() as session:
        node, token = registry.enroll(
            session, owner_id=principal.account_id, name=body.name
        )
        return _credential(request, node_view(node), token)


@router.get("")
def my_nodes(
    request: Request, principal: Principal = Depends(contributor)
) -> list[NodeView]:
    """The caller's nodes."""
    with coordinator_state(request).db.transaction() as session:
        return node_views(
            session, registry.list_nodes(session, owner_id=principal.account_id)
        )


@router.post("/{node_id}/rotate-token")
def rotate(
    node_id: str, request: Request, principal: Principal = Depends(contributor)
) -> Credential:
    """Replace the node's registration token; the old one stops at once."""
    with coordinator_state(request).db.transaction() as session:
        token = registry.rotate_token(session, node_id, owner_id=principal.account_id)
        [view] = node_views(session, [registry.get_node(session, node_id)])
        return _credential(request, view, token)
