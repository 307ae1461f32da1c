"""The lifecycles as plain state machines, with no I/O."""

from __future__ import annotations

import pytest

from edgemesh.accounts.lifecycle import ACCOUNT
from edgemesh.errors import IllegalTransition
from edgemesh.lifecycle import machine
from edgemesh.nodes.lifecycle import NODE
from edgemesh.workloads.lifecycle import LEASE, UNIT, WORKLOAD, retry_or_fail


@pytest.mark.parametrize(
    ("events", "end"),
    [
        (["register", "approve"], "active"),
        (["register", "reject"], "rejected"),
        (["reject"], "rejected"),
        (["register", "register", "approve", "drain", "resume"], "active"),
        (["register", "approve", "isolate", "resume", "retire"], "retired"),
    ],
)
def test_node_paths(events: list[str], end: str) -> None:
    state = "enrolled"
    for event in events:
        state = NODE.next_state(state, event)
    assert state == end


@pytest.mark.parametrize(
    ("state", "event"),
    [
        ("enrolled", "approve"),
        ("rejected", "approve"),
        ("rejected", "register"),
        ("active", "approve"),
        ("retired", "resume"),
        ("pending", "drain"),
    ],
)
def test_node_illegal_transitions_say_why(state: str, event: str) -> None:
    with pytest.raises(IllegalTransition) as refused:
        NODE.next_state(state, event)
    assert f"cannot {event} a node that is {state}" in str(refused.value)


def test_unit_lease_then_done_once() -> None:
    state = UNIT.next_state("queued", "lease")
    state = UNIT.next_state(state, "complete")
    assert state == "done"
    with pytest.raises(IllegalTransition):
        UNIT.next_state(state, "complete")
    with pytest.raises(IllegalTransition):
        UNIT.next_state(state, "requeue")


def test_unit_requeue_until_max_attempts_then_fail() -> None:
    assert retry_or_fail(attempts=1, max_attempts=3) == "requeue"
    assert retry_or_fail(attempts=3, max_attempts=3) == "fail"
    assert UNIT.next_state("leased", "requeue") == "queued"
    assert UNIT.next_state("leased", "fail") == "failed"


def test_lease_ends_once() -> None:
    assert LEASE.next_state("active", "expire") == "expired"
    for event in ("complete", "expire", "abandon"):
        with pytest.raises(IllegalTransition):
            LEASE.next_state("expired", event)


def test_workload_and_account() -> None:
    assert WORKLOAD.next_state("running", "finish") == "finished"
    assert (
        ACCOUNT.next_state(ACCOUNT.next_state("signed_up", "verify"), "activate")
        == "active"
    )
    with pytest.raises(IllegalTransition):
        ACCOUNT.next_state("signed_up", "activate")


def test_unknown_event_is_an_error() -> None:
    with pytest.raises(IllegalTransition, match="no event 'fly'"):
        NODE.next_state("active", "fly")


def test_machine_rejects_nothing_it_defines() -> None:
    toy = machine("toy", {"go": ({"a", "b"}, "c")})
    assert toy.states == frozenset({"a", "b", "c"})
    assert toy.can("a", "go") and not toy.can("c", "go")
