"""The double-entry journal: every movement is a balanced entry.

Amounts are integer milli-credits (1 credit = 1000 mc). Each credit account
keeps a running balance that is updated in the same transaction as the
postings, and `reconcile` recomputes every balance from the postings.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from edgemesh import clock
from edgemesh.db.models import CreditAccount, JournalEntry, JournalPosting
from edgemesh.errors import InsufficientCredits, InvalidInput

MC_PER_CREDIT = 1000
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


def format_credits(amount_mc: int) -> str:
    """Milli-credits as a human figure, e.g. 1234 -> '1.234'."""
    sign = "-" if amount_mc < 0 else ""
    whole, frac = divmod(abs(amount_mc), MC_PER_CREDIT)
    return f"{sign}{whole}.{frac:03d}"


def _locked_accounts(
    session: Session, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], CreditAccount]:
    """The credit accounts for `keys`, created if new, locked in id order."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    # Create missing accounts without racing a concurrent creator.
    session.execute(
        insert(CreditAccount)
        .values([{"kind": k, "owner_id": o, "balance_mc": 0} for k, o in sorted(keys)])
        .on_conflict_do_nothing(index_elements=["kind", "owner_id"])
    )
    wanted = tuple_(CreditAccount.kind, CreditAccount.owner_id).in_(sorted(keys))
    rows = session.scalars(
        select(CreditAccount).where(wanted).order_by(CreditAccount.id).with_for_update()
    )
    return {(a.kind, a.owner_id): a for a in rows}


def post(
    session: Session, *, kind: str, reference: str, moves: list[Move], memo: str = ""
) -> bool:
    """Record one balanced entry; False if `(kind, reference)` was posted before."""
    if sum(m.amount_mc for m in moves) != 0:
        raise InvalidInput(f"journal entry {kind}:{reference} does not balance")
    if any(type(m.amount_mc) is not int for m in moves):
        raise InvalidInput("journal amounts are integer milli-credits")
    existing = session.scalar(
        select(JournalEntry.id).where(
            JournalEntry.kind == kind, JournalEntry.reference == reference
        )
    )
    if existing is not None:
        return False

    locked = _locked_accounts(session, {(m.kind, m.owner_id) for m in moves})

    entry = JournalEntry(
        kind=kind, reference=reference, memo=memo, created_at=clock.now()
    )
    session.add(entry)
    session.flush()
    for move in moves:
        account = locked[(move.kind, move.owner_id)]
        account.balance_mc += move.amount_mc
        if account.balance_mc < 0 and account.kind not in MAY_GO_NEGATIVE:
            raise InsufficientCredits(
                f"{account.kind} of {account.owner_id} would fall to "
                f"{format_credits(account.balance_mc)} credits"
            )
        session.add(
            JournalPosting(
                entry_id=entry.id,
                credit_account_id=account.id,
                amount_mc=move.amount_mc,
            )
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
