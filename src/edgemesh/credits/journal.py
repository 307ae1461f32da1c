"""The double-entry journal: every movement is a balanced entry.

Amounts are integer milli-credits (1 credit = 1000 mc). Each credit account
keeps a running balance that is updated in the same transaction as the
postings, and `reconcile` recomputes every balance from the postings.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from edgemesh import clock
from edgemesh.credits.amounts import format_credits
from edgemesh.db.models import CreditAccount, JournalEntry, JournalPosting
from edgemesh.errors import InsufficientCredits, InvalidInput

SITE = "site"

WALLET = "wallet"
HOLD = "hold"
FEE = "fee"
ISSUANCE = "issuance"

# Issuance is where minted credits come from, so it is the one account that
# runs negative: its balance is minus everything ever minted.
MAY_GO_NEGATIVE = frozenset({ISSUANCE})


@dataclass(frozen=True, kw_only=True)
class Move:
    """One posting to be made: `amount_mc` into the account (negative: out of it)."""

    kind: str
    owner_id: str
    amount_mc: int


@dataclass(frozen=True, kw_only=True)
class Balances:
    """What an account holder has: spendable, and held for running work."""

    available_mc: int
    held_mc: int


@dataclass(frozen=True, kw_only=True)
class Drift:
    """A credit account whose stored balance differs from its postings."""

    credit_account_id: int
    kind: str
    owner_id: str
    stored_mc: int
    journal_mc: int


_ACCOUNTS = cast(Table, CreditAccount.__table__)
_ENTRIES = cast(Table, JournalEntry.__table__)
_POSTINGS = cast(Table, JournalPosting.__table__)

# Built once with bound parameters, so SQLAlchemy compiles each of them once.
_FIND_ACCOUNT = select(_ACCOUNTS.c.id).where(
    _ACCOUNTS.c.kind == bindparam("kind"), _ACCOUNTS.c.owner_id == bindparam("owner")
)
_ADD_TO_BALANCE = (
    update(_ACCOUNTS)
    .where(_ACCOUNTS.c.id == bindparam("account"))
    .values(balance_mc=_ACCOUNTS.c.balance_mc + bindparam("amount"))
    .returning(_ACCOUNTS.c.balance_mc)
)
_ADD_POSTING = insert(_POSTINGS)


@functools.cache
def _insert_ignoring_duplicates(dialect: str, table: Table, *keys: str) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, for this dialect."""
    insert_for = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert_for(table)
        .on_conflict_do_nothing(index_elements=keys)
        .returning(table.c.id)
    )


def _account_id(session: Session, kind: str, owner_id: str) -> int:
    """The id of a credit account, created on first use."""
    found = session.scalar(_FIND_ACCOUNT, {"kind": kind, "owner": owner_id})
    if found is not None:
        return int(found)

    # A concurrent transaction may be creating the same account: let it win.
    dialect = session.get_bind().dialect.name
    session.execute(
        _insert_ignoring_duplicates(dialect, _ACCOUNTS, "kind", "owner_id"),
        {"kind": kind, "owner_id": owner_id, "balance_mc": 0},
    )
    created = session.scalar(_FIND_ACCOUNT, {"kind": kind, "owner": owner_id})
    assert created is not None
    return int(created)


def post(
    session: Session, *, kind: str, reference: str, moves: list[Move], memo: str = ""
) -> bool:
    """Record one balanced entry; False if `(kind, reference)` was posted before."""
    if any(type(m.amount_mc) is not int for m in moves):
        raise InvalidInput("journal amounts are integer milli-credits")
    if sum(m.amount_mc for m in moves) != 0:
        raise InvalidInput(f"journal entry {kind}:{reference} does not balance")

    # The entry's unique (kind, reference) makes posting twice a no-op, even
    # when two transactions try at once.
    dialect = session.get_bind().dialect.name
    entry_id = session.scalar(
        _insert_ignoring_duplicates(dialect, _ENTRIES, "kind", "reference"),
        {"kind": kind, "reference": reference, "memo": memo, "created_at": clock.now()},
    )
    if entry_id is None:
        return False

    ids = {m: _account_id(session, m.kind, m.owner_id) for m in moves}
    # Updating in id order takes the row locks in one order everywhere, so
    # concurrent entries cannot deadlock.
    for move in sorted(moves, key=ids.__getitem__):
        balance_after = session.scalar(
            _ADD_TO_BALANCE, {"account": ids[move], "amount": move.amount_mc}
        )
        assert balance_after is not None
        if balance_after < 0 and move.kind not in MAY_GO_NEGATIVE:
            raise InsufficientCredits(
                f"{move.kind} of {move.owner_id} would fall to "
                f"{format_credits(balance_after)} credits"
            )
    session.execute(
        _ADD_POSTING,
        [
            {
                "entry_id": entry_id,
                "credit_account_id": ids[m],
                "amount_mc": m.amount_mc,
            }
            for m in moves
        ],
    )
    return True


def grant(
    session: Session, *, account_id: str, amount_mc: int, reference: str, memo: str = ""
) -> bool:
    """Mint credits into a wallet from issuance (an admin grant)."""
    if amount_mc <= 0:
        raise InvalidInput("a grant must be a positive number of milli-credits")
    return post(
        session,
        kind="grant",
        reference=reference,
        memo=memo,
        moves=[
            Move(kind=ISSUANCE, owner_id=SITE, amount_mc=-amount_mc),
            Move(kind=WALLET, owner_id=account_id, amount_mc=amount_mc),
        ],
    )


def hold(session: Session, *, account_id: str, amount_mc: int, reference: str) -> bool:
    """Set aside the quoted price of a submission."""
    return post(
        session,
        kind="hold",
        reference=reference,
        moves=[
            Move(kind=WALLET, owner_id=account_id, amount_mc=-amount_mc),
            Move(kind=HOLD, owner_id=account_id, amount_mc=amount_mc),
        ],
    )


def release(
    session: Session, *, account_id: str, amount_mc: int, reference: str
) -> bool:
    """Give back held credits for work that will not be done."""
    return post(
        session,
        kind="release",
        reference=reference,
        moves=[
            Move(kind=HOLD, owner_id=account_id, amount_mc=-amount_mc),
            Move(kind=WALLET, owner_id=account_id, amount_mc=amount_mc),
        ],
    )


def fee_of(amount_mc: int, fee_bps: int) -> int:
    """The coordinator's share of a payment, rounded down."""
    return amount_mc * fee_bps // 10_000


def capture(
    session: Session,
    *,
    payer_id: str,
    payee_id: str,
    amount_mc: int,
    fee_bps: int,
    reference: str,
) -> bool:
    """Pay held credits to a node's owner, minus the coordinator fee."""
    fee = fee_of(amount_mc, fee_bps)
    return post(
        session,
        kind="capture",
        reference=reference,
        moves=[
            Move(kind=HOLD, owner_id=payer_id, amount_mc=-amount_mc),
            Move(kind=WALLET, owner_id=payee_id, amount_mc=amount_mc - fee),
            Move(kind=FEE, owner_id=SITE, amount_mc=fee),
        ],
    )


def balance(session: Session, kind: str, owner_id: str) -> int:
    """The stored balance of one credit account (0 if it never moved)."""
    value = session.scalar(
        select(CreditAccount.balance_mc).where(
            CreditAccount.kind == kind, CreditAccount.owner_id == owner_id
        )
    )
    return value or 0


def balances(session: Session, account_id: str) -> Balances:
    """An account holder's spendable and held credits."""
    return Balances(
        available_mc=balance(session, WALLET, account_id),
        held_mc=balance(session, HOLD, account_id),
    )


def reconcile(session: Session) -> list[Drift]:
    """Every credit account whose stored balance disagrees with its postings."""
    sums = dict(
        session.execute(
            select(
                JournalPosting.credit_account_id, func.sum(JournalPosting.amount_mc)
            ).group_by(JournalPosting.credit_account_id)
        ).all()
    )
    drifts = []
    for account in session.scalars(select(CreditAccount).order_by(CreditAccount.id)):
        journal_mc = int(sums.get(account.id) or 0)
        if journal_mc != account.balance_mc:
            drifts.append(
                Drift(
                    credit_account_id=account.id,
                    kind=account.kind,
                    owner_id=account.owner_id,
                    stored_mc=account.balance_mc,
                    journal_mc=journal_mc,
                )
            )
    return drifts
