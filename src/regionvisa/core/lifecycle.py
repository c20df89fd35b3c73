"""Declared life cycles: one table per kind of subject says which move leads where, who may make it,
whether it needs a reason and what else it changes.

A `Lifecycle` is a list of `Edge`s. An edge names one move from some states to one state (or
none, when the move keeps the state), the policy action (`regionvisa.accounts.policy.ACTIONS`)
the actor must hold, whether the move needs a reason, and its effects on other records, for
example `{"quota": "reserve"}`. A move may have several edges when its effects depend on the
state it starts from (a withdrawal releases a place only if the application held one); its action
and reason rule never do, so they can be checked before the state is read under a lock.

The domain services look their edge up with `Lifecycle.edge(move, state)` (which raises the
domain's own refusal, a 409, for a move the table lacks) and apply its effects; `docs/lifecycles.md`
is `to_markdown()` of every table. Pure: no database, no web framework, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

# What each effect means, by kind of record it touches. An edge may only name these.
EFFECTS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "quota": MappingProxyType(
            {
                "reserve": "takes one place of the programme's ledger (reserved +1), or 409 when none is left",
                "release": "gives the application's reservation back (reserved −1)",
                "use": "turns the application's reservation into a used place (reserved −1, used +1)",
                "unuse": "gives the used place back (used −1)",
                "open": "opens each selected design's ledger with the confirmed quota",
            }
        ),
        "records": MappingProxyType(
            {
                "grant": "writes the status grant (and the person, if new) into the immigration records",
                "end_grant": "ends the status grant on the day of the move",
            }
        ),
        "programmes": MappingProxyType(
            {"approve": "stores each selected design as an approved programme version"},
        ),
    }
)

# How each quota effect of one application changes the ledger's counters: (reserved, used).
QUOTA_DELTAS: Mapping[str, tuple[int, int]] = MappingProxyType(
    {"reserve": (1, 0), "release": (-1, 0), "use": (-1, 1), "unuse": (0, -1)}
)

# (move, state, allowed moves, context) -> the exception a service raises for a move the table lacks
Refusal = Callable[[str, str, tuple[str, ...], Mapping[str, Any]], Exception]
# (move, context) -> the exception for a move name no edge has, or for a missing reason
MoveError = Callable[[str, Mapping[str, Any]], Exception]


def _check(condition: bool, problem: str) -> None:
    """A malformed table is a programming error, found when the module defining it is imported."""
    if not condition:
        raise ValueError(problem)


@dataclass(frozen=True)
class Edge:
    """One row of a life cycle: `move` from any of `from_states` to `to_state` (None keeps it)."""

    move: str
    from_states: tuple[str, ...]
    to_state: str | None
    action: str
    needs_reason: bool = False
    effects: Mapping[str, str] = field(default_factory=dict)
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "effects", MappingProxyType(dict(self.effects)))

    def effect(self, kind: str) -> str | None:
        """The effect of this edge on one kind of record (`quota`, `records`, …), if any."""
        return self.effects.get(kind)


@dataclass(frozen=True)
class Lifecycle:
    """A closed table of edges over `states`; any (move, state) pair it lacks is refused."""

    name: str
    title: str
    states: tuple[str, ...]
    edges: tuple[Edge, ...]
    refuse: Refusal
    unknown: MoveError | None = None  # default: refused like a move the state does not allow
    missing_reason: MoveError | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        seen: dict[tuple[str, str], Edge] = {}
        rules: dict[str, tuple[str, bool]] = {}
        for edge in self.edges:
            _check(bool(edge.from_states), f"{self.name}.{edge.move}: no state to start from")
            for state in (*edge.from_states, *([edge.to_state] if edge.to_state else [])):
                _check(state in self.states, f"{self.name}.{edge.move}: unknown state {state!r}")
            for state in edge.from_states:
                _check((edge.move, state) not in seen, f"{self.name}.{edge.move}: two edges from {state}")
                seen[(edge.move, state)] = edge
            rule = rules.setdefault(edge.move, (edge.action, edge.needs_reason))
            _check(
                rule == (edge.action, edge.needs_reason),
                f"{self.name}.{edge.move}: the action and the reason rule must not depend on the state",
            )
            for kind, value in edge.effects.items():
                _check(value in EFFECTS.get(kind, {}), f"{self.name}.{edge.move}: unknown effect {kind}: {value}")

    # ------------------------------------------------------------------------------ reading

    @property
    def moves(self) -> tuple[str, ...]:
        """Every move name, in the order the table first declares it."""
        return tuple(dict.fromkeys(e.move for e in self.edges))

    def find(self, move: str, state: str) -> Edge | None:
        return next((e for e in self.edges if e.move == move and state in e.from_states), None)

    def allowed(self, state: str) -> tuple[str, ...]:
        """The moves the table allows from `state`, in table order."""
        return tuple(m for m in self.moves if self.find(m, state) is not None)

    def from_states(self, move: str) -> tuple[str, ...]:
        """Every state `move` may start from, in table order."""
        return tuple(dict.fromkeys(s for e in self.edges if e.move == move for s in e.from_states))

    def action(self, move: str) -> str:
        """The policy action of `move` (the same on every edge of the move)."""
        return self._first(move).action

    def needs_reason(self, move: str) -> bool:
        return self._first(move).needs_reason

    def moves_table(self) -> dict[str, tuple[tuple[str, ...], str | None, str]]:
        """move -> (states it starts from, state it leads to, action): the table folded per move."""
        return {m: (self.from_states(m), self._first(m).to_state, self.action(m)) for m in self.moves}

    # ------------------------------------------------------------------------------ checking

    def check_move(self, move: str, **context: Any) -> None:
        """The domain's error for a move name no edge has (a refusal when it declares none)."""
        if move not in self.moves:
            if self.unknown is not None:
                raise self.unknown(move, context)
            raise KeyError(f"{self.name}: no move {move!r}")

    def edge(self, move: str, state: str, **context: Any) -> Edge:
        """The edge `move` takes from `state`; the domain's 409 when the table has none."""
        if move not in self.moves and self.unknown is not None:
            raise self.unknown(move, context)
        found = self.find(move, state)
        if found is None:
            raise self.refusal(move, state, **context)
        return found

    def refusal(self, move: str, state: str, **context: Any) -> Exception:
        """The domain's refusal of `move` from `state` (raised by the caller, e.g. after a lost race)."""
        return self.refuse(move, state, self.allowed(state), context)

    def reason(self, move: str, reason: str | None, **context: Any) -> str:
        """The stripped reason; the domain's error when the move needs one and none was given."""
        self.check_move(move, **context)
        text = (reason or "").strip()
        if not text and self.needs_reason(move) and self.missing_reason is not None:
            raise self.missing_reason(move, context)
        return text

    def _first(self, move: str) -> Edge:
        for edge in self.edges:
            if edge.move == move:
                return edge
        raise KeyError(f"{self.name}: no move {move!r}")

    # ------------------------------------------------------------------------------ docs

    def to_markdown(self) -> str:
        """This table as a Markdown section (docs/lifecycles.md is every table's section)."""
        lines = [f"## {self.title}", "", f"States: {', '.join(f'`{s}`' for s in self.states)}.", ""]
        if self.notes:
            lines += [self.notes.strip(), ""]
        lines += [
            "| move | from | to | action | reason | effects | note |",
            "|---|---|---|---|---|---|---|",
        ]
        for e in self.edges:
            effects = "; ".join(f"{kind}: **{value}**" for kind, value in e.effects.items()) or "–"
            lines.append(
                f"| `{e.move}` | {', '.join(f'`{s}`' for s in e.from_states)} | "
                f"{f'`{e.to_state}`' if e.to_state else '(stays)'} | `{e.action}` | "
                f"{'required' if e.needs_reason else 'optional'} | {effects} | {e.note or ''} |"
            )
        return "\n".join(lines) + "\n"


def effects_markdown() -> str:
    """What every effect a table may name does, as a Markdown section."""
    lines = ["## Effects", "", "| kind | effect | what it does |", "|---|---|---|"]
    for kind, values in EFFECTS.items():
        lines += [f"| {kind} | **{value}** | {text} |" for value, text in values.items()]
    return "\n".join(lines) + "\n"
