"""Explicit state machines: a table of named transitions, nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from edgemesh.errors import IllegalTransition


@dataclass(frozen=True, kw_only=True)
class StateMachine:
    """A lifecycle: for each event, the states it may start from and where it goes."""

    name: str
    states: frozenset[str]
    transitions: Mapping[str, tuple[frozenset[str], str]]

    def __post_init__(self) -> None:
        for event, (sources, target) in self.transitions.items():
            unknown = (sources | {target}) - self.states
            if unknown:
                raise ValueError(f"{self.name}.{event} names unknown {sorted(unknown)}")

    def next_state(self, current: str, event: str) -> str:
        """The state `event` leads to from `current`, or IllegalTransition."""
        if event not in self.transitions:
            raise IllegalTransition(f"{self.name} has no event '{event}'")
        sources, target = self.transitions[event]
        if current not in sources:
            allowed = ", ".join(sorted(sources))
            raise IllegalTransition(
                f"cannot {event} a {self.name} that is {current} (only from: {allowed})"
            )
        return target

    def can(self, current: str, event: str) -> bool:
        """Whether `event` is allowed from `current`."""
        return event in self.transitions and current in self.transitions[event][0]


def machine(name: str, table: Mapping[str, tuple[set[str] | str, str]]) -> StateMachine:
    """Build a StateMachine from `{event: (from-states, to-state)}`."""
    transitions = {
        event: (frozenset({s} if isinstance(s, str) else s), target)
        for event, (s, target) in table.items()
    }
    states: set[str] = set()
    for sources, target in transitions.values():
        states |= sources | {target}
    return StateMachine(name=name, states=frozenset(states), transitions=transitions)
