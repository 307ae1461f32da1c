"""Creating accounts, granting roles, issuing and checking API keys."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from edgemesh import clock
from edgemesh.accounts.lifecycle import ACTIVE, Role
from edgemesh.credentials import API_KEY_PREFIX, hash_secret, new_id, new_secret
from edgemesh.db.models import Account, AccountRole, ApiKey
from edgemesh.errors import Conflict, InvalidInput, NotFound, Unauthenticated

_hasher = PasswordHasher()


@dataclass(frozen=True, kw_only=True)
class Principal:
    """Who is calling: an account, its state and its roles."""

    account_id: str
    email: str
    state: str
    roles: frozenset[Role]

    def has(self, *roles: Role) -> bool:
        """Whether the caller holds any of `roles`."""
        return bool(self.roles.intersection(roles))


def normalise_email(email: str) -> str:
    """The one spelling of an address that the site stores and compares."""
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email or len(email) > 320:
        raise InvalidInput(f"'{email}' is not an email address")
    return email


def create_account(
    session: Session,
    *,
    email: str,
    roles: set[Role],
    password: str | None = None,
    state: str = ACTIVE,
) -> Account:
    """Create an account holding `roles`; the email must be new."""
    email = normalise_email(email)
    if session.scalar(select(Account.id).where(Account.email == email)):
        raise Conflict(f"an account for {email} already exists")

    account = Account(
        id=new_id(),
        email=email,
        password_hash=_hasher.hash(password) if password else None,
        state=state,
        created_at=clock.now(),
    )
    session.add(account)
    session.flush()
    for role in sorted(roles):
        session.add(AccountRole(account_id=account.id, role=role.value))
    return account


def find_account(session: Session, email: str) -> Account:
    """The account for `email`, or NotFound."""
    account = session.scalar(
        select(Account).where(Account.email == normalise_email(email))
    )
    if account is None:
        raise NotFound(f"no account for {email}")
    return account


def roles_of(session: Session, account_id: str) -> frozenset[Role]:
    """The roles an account holds."""
    rows = session.scalars(
        select(AccountRole.role).where(AccountRole.account_id == account_id)
    )
    return frozenset(Role(r) for r in rows)


def issue_api_key(session: Session, account_id: str, name: str = "default") -> str:
    """Create an API key for the account and return it; it is not stored."""
    key = new_secret(API_KEY_PREFIX)
    session.add(
        ApiKey(
            id=new_id(),
            account_id=account_id,
            name=name,
            key_hash=hash_secret(key),
            created_at=clock.now(),
            revoked_at=None,
        )
    )
    return key


def principal_for_api_key(session: Session, key: str) -> Principal:
    """The account behind a live API key, or Unauthenticated."""
    row = session.execute(
        select(Account)
        .join(ApiKey, ApiKey.account_id == Account.id)
        .where(ApiKey.key_hash == hash_secret(key), ApiKey.revoked_at.is_(None))
    ).scalar_one_or_none()
    if row is None:
        raise Unauthenticated("the API key is unknown or revoked")
    return Principal(
        account_id=row.id,
        email=row.email,
        state=row.state,
        roles=roles_of(session, row.id),
    )
