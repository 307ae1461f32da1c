"""The double-entry journal on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from edgemesh.credits import journal
from edgemesh.db.engine import Database
from edgemesh.errors import InsufficientCredits, InvalidInput


@pytest.fixture
def db(database_url: str) -> Database:
    database = Database(database_url)
    yield database  # type: ignore[misc]
    database.dispose()


def test_hold_capture_release_balance_and_reconcile(db: Database) -> None:
    with db.transaction() as s:
        journal.grant(s, account_id="u", amount_mc=5000, reference="g1")
        journal.hold(s, account_id="u", amount_mc=3000, reference="w1")
        journal.capture(
            s,
            payer_id="u",
            payee_id="o",
            amount_mc=1000,
            fee_bps=1000,
            reference="unit:1",
        )
        journal.release(s, account_id="u", amount_mc=1000, reference="unit:2")

    with db.transaction() as s:
        assert journal.balances(s, "u") == journal.Balances(
            available_mc=3000, held_mc=1000
        )
        assert journal.balance(s, journal.WALLET, "o") == 900
        assert journal.balance(s, journal.FEE, journal.SITE) == 100
        assert journal.balance(s, journal.ISSUANCE, journal.SITE) == -5000
        assert journal.reconcile(s) == []


def test_same_reference_posts_once(db: Database) -> None:
    with db.transaction() as s:
        assert journal.grant(s, account_id="u", amount_mc=10, reference="same")
        assert not journal.grant(s, account_id="u", amount_mc=10, reference="same")
    with db.transaction() as s:
        assert journal.balances(s, "u").available_mc == 10


def test_overdraft_is_refused_and_writes_nothing(db: Database) -> None:
    with db.transaction() as s:
        journal.grant(s, account_id="u", amount_mc=10, reference="g")
    with pytest.raises(InsufficientCredits), db.transaction() as s:
        journal.hold(s, account_id="u", amount_mc=11, reference="w")
    with db.transaction() as s:
        assert journal.balances(s, "u") == journal.Balances(available_mc=10, held_mc=0)
        assert journal.reconcile(s) == []


def test_unbalanced_or_float_entries_are_refused(db: Database) -> None:
    with pytest.raises(InvalidInput), db.transaction() as s:
        journal.post(
            s,
            kind="x",
            reference="1",
            moves=[journal.Move(kind="wallet", owner_id="u", amount_mc=1)],
        )
    with pytest.raises(InvalidInput), db.transaction() as s:
        journal.post(
            s,
            kind="x",
            reference="2",
            moves=[
                journal.Move(kind="wallet", owner_id="u", amount_mc=0.5),  # type: ignore[arg-type]
                journal.Move(kind="wallet", owner_id="v", amount_mc=-0.5),  # type: ignore[arg-type]
            ],
        )


def test_reconcile_reports_a_tampered_balance(db: Database) -> None:
    with db.transaction() as s:
        journal.grant(s, account_id="u", amount_mc=10, reference="g")
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE credit_accounts SET balance_mc = 99 WHERE kind = 'wallet'"
        )
    with db.transaction() as s:
        [drift] = journal.reconcile(s)
    assert (drift.owner_id, drift.stored_mc, drift.journal_mc) == ("u", 99, 10)
