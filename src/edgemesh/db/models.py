"""Tables of a site. One class per stored domain noun; no behaviour here."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of every edgemesh table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class Account(Base):
    """A person using the site, in any of the four roles."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]


class AccountRole(Base):
    """One role held by one account."""

    __tablename__ = "account_roles"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class ApiKey(Base):
    """A bearer credential for the REST API; only its hash is stored."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Node(Base):
    """A contributor's machine, from enrolment to retirement."""

    __tablename__ = "nodes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    enrolled_at: Mapped[datetime]
    registered_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    last_heartbeat_at: Mapped[datetime | None]
    source_ip: Mapped[str | None] = mapped_column(String(64))
    sandbox_kind: Mapped[str | None] = mapped_column(String(16))
    runtime_version: Mapped[str | None] = mapped_column(String(32))
    slots: Mapped[int] = mapped_column(Integer, default=1)
    capabilities: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Workload(Base):
    """One submission by an application user, split into units."""

    __tablename__ = "workloads"
    __table_args__ = (UniqueConstraint("owner_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    unit_count: Mapped[int] = mapped_column(Integer)
    unit_price_mc: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class Unit(Base):
    """One subtask of a workload; the thing a worker leases and runs."""

    __tablename__ = "units"
    __table_args__ = (
        UniqueConstraint("workload_id", "seq"),
        Index("ix_units_claim", "state", "id"),
        Index("ix_units_workload_state", "workload_id", "state"),
        Index("ix_units_node", "node_id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    workload_id: Mapped[str] = mapped_column(ForeignKey("workloads.id"))
    seq: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    spec: Mapped[dict[str, Any]]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    lease_id: Mapped[int | None] = mapped_column(BigInteger)
    node_id: Mapped[str | None] = mapped_column(String(32))
    result: Mapped[dict[str, Any] | None]
    paid_mc: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class Lease(Base):
    """The right of one node to run one unit until a deadline."""

    __tablename__ = "leases"
    __table_args__ = (Index("ix_leases_active_deadline", "state", "deadline"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    node_id: Mapped[str] = mapped_column(ForeignKey("nodes.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    deadline: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class CreditAccount(Base):
    """One side of the double-entry journal: a wallet, a hold or a site account."""

    __tablename__ = "credit_accounts"
    __table_args__ = (UniqueConstraint("kind", "owner_id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[str] = mapped_column(String(32))
    balance_mc: Mapped[int] = mapped_column(BigInteger, default=0)


class JournalEntry(Base):
    """One balanced movement of credits; its postings sum to zero."""

    __tablename__ = "journal_entries"
    __table_args__ = (UniqueConstraint("kind", "reference"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(100))
    memo: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class JournalPosting(Base):
    """One line of a journal entry: an amount into (or out of) one account."""

    __tablename__ = "journal_postings"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    credit_account_id: Mapped[int] = mapped_column(
        ForeignKey("credit_accounts.id"), index=True
    )
    amount_mc: Mapped[int] = mapped_column(BigInteger)
