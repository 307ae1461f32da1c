"""Enrolling nodes, registering their workers, and deciding on them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from edgemesh import clock
from edgemesh.credentials import (
    REGISTRATION_TOKEN_PREFIX,
    hash_secret,
    new_id,
    new_secret,
)
from edgemesh.db.models import Node, Unit
from edgemesh.errors import NodeRejected, NotFound, Unauthenticated
from edgemesh.logs import get_logger
from edgemesh.nodes.lifecycle import NODE, REJECTED, RETIRED

log = get_logger(__name__)


@dataclass(frozen=True, kw_only=True)
class WorkerInfo:
    """What a worker says about itself when it registers."""

    sandbox_kind: str
    runtime_version: str
    slots: int
    capabilities: dict[str, Any]


def enroll(session: Session, *, owner_id: str, name: str) -> tuple[Node, str]:
    """Enrol a node for its owner; the registration token is returned once."""
    token = new_secret(REGISTRATION_TOKEN_PREFIX)
    node = Node(
        id=new_id(),
        owner_id=owner_id,
        name=name,
        state="enrolled",
        token_hash=hash_secret(token),
        enrolled_at=clock.now(),
        slots=1,
        capabilities={},
    )
    session.add(node)
    session.flush()
    log.info("node_enrolled", node_id=node.id, owner_id=owner_id)
    return node, token


def node_for_token(session: Session, token: str, *, lock: bool = False) -> Node:
    """The node a registration token belongs to, if it may still talk to us."""
    query = select(Node).where(Node.token_hash == hash_secret(token))
    if lock:
        query = query.with_for_update()
    node = session.scalar(query)
    if node is None:
        raise Unauthenticated("the registration token is unknown or was rotated")
    if node.state in (REJECTED, RETIRED):
        raise NodeRejected(f"node {node.id} is {node.state}; it may not take work")
    return node


def register(session: Session, node: Node, *, info: WorkerInfo, source_ip: str) -> Node:
    """A worker presented the node's token: record it and await approval."""
    if NODE.can(node.state, "register"):
        node.state = NODE.next_state(node.state, "register")
    now = clock.now()
    node.registered_at = node.registered_at or now
    node.last_heartbeat_at = now
    node.source_ip = source_ip
    node.sandbox_kind = info.sandbox_kind
    node.runtime_version = info.runtime_version
    node.slots = info.slots
    node.capabilities = info.capabilities
    log.info(
        "node_registered", node_id=node.id, state=node.state, sandbox=info.sandbox_kind
    )
    return node


def get_node(session: Session, node_id: str, *, lock: bool = False) -> Node:
    """A node by id, or NotFound."""
    query = select(Node).where(Node.id == node_id)
    if lock:
        query = query.with_for_update()
    node = session.scalar(query)
    if node is None:
        raise NotFound(f"no node {node_id}")
    return node


def decide(
    session: Session, node_id: str, *, event: str, actor_id: str, reason: str = ""
) -> Node:
    """Apply an operator's decision (approve, reject, drain, …) to a node."""
    node = get_node(session, node_id, lock=True)
    node.state = NODE.next_state(node.state, event)
    node.decided_at = clock.now()
    node.decided_by = actor_id
    node.decision_reason = reason or None
    log.info(
        "node_decided", node_id=node.id, action=event, state=node.state, actor=actor_id
    )
    return node


def rotate_token(session: Session, node_id: str, *, owner_id: str) -> str:
    """Give a node a new registration token; the old one stops at once."""
    node = get_node(session, node_id, lock=True)
    if node.owner_id != owner_id:
        raise NotFound(f"no node {node_id}")
    token = new_secret(REGISTRATION_TOKEN_PREFIX)
    node.token_hash = hash_secret(token)
    log.info("node_token_rotated", node_id=node.id)
    return token


def list_nodes(
    session: Session, *, owner_id: str | None = None, state: str | None = None
) -> list[Node]:
    """Nodes, optionally only one owner's or only those in one state."""
    query = select(Node).order_by(Node.enrolled_at)
    if owner_id is not None:
        query = query.where(Node.owner_id == owner_id)
    if state is not None:
        query = query.where(Node.state == state)
    return list(session.scalars(query))


@dataclass(frozen=True, kw_only=True)
class NodeStats:
    """What a node has done: units completed and credits its owner earned."""

    units_done: int = 0
    earned_mc: int = 0


def stats(session: Session, node_ids: list[str]) -> dict[str, NodeStats]:
    """Units done and credits earned per node, for the given nodes."""
    rows = session.execute(
        select(Unit.node_id, func.count(), func.coalesce(func.sum(Unit.paid_mc), 0))
        .where(Unit.node_id.in_(node_ids))
        .group_by(Unit.node_id)
    ).all()
    found = {
        node_id: NodeStats(units_done=count, earned_mc=int(earned or 0))
        for node_id, count, earned in rows
        if node_id is not None
    }
    return {node_id: found.get(node_id, NodeStats()) for node_id in node_ids}
