"""The lifecycle every case followed before processes became data (issue 20).

Status changes now go through the case's process version (`cases/process.py`,
docs/processes.md); its states keep these keys and kinds in every shipped process. Only the
demo seed still reads the state kinds from here.
"""

from __future__ import annotations

from dataclasses import dataclass

OPEN, WAITING, RESOLVED, CLOSED = "open", "waiting", "resolved", "closed"


@dataclass(frozen=True)
class State:
    key: str
    kind: str  # open | waiting | resolved | closed
    label_de: str
    label_en: str


@dataclass(frozen=True)
class Transition:
    key: str
    sources: tuple[str, ...]
    target: str
    label_de: str
    label_en: str


@dataclass(frozen=True)
class Lifecycle:
    key: str
    initial: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]

    def state(self, key: str) -> State | None:
        return next((state for state in self.states if state.key == key), None)

    def transitions_from(self, state_key: str) -> list[Transition]:
        return [t for t in self.transitions if state_key in t.sources]

    def transition(self, key: str) -> Transition | None:
        return next((t for t in self.transitions if t.key == key), None)


DEFAULT_LIFECYCLE = Lifecycle(
    key="default",
    initial="new",
    states=(
        State("new", OPEN, "Neu", "New"),
        State("in_progress", OPEN, "In Bearbeitung", "In progress"),
        State("waiting_customer", WAITING, "Wartet auf Kunde", "Waiting for customer"),
        State("resolved", RESOLVED, "Gelöst", "Resolved"),
        State("closed", CLOSED, "Abgeschlossen", "Closed"),
    ),
    transitions=(
        Transition("start", ("new",), "in_progress", "Bearbeitung beginnen", "Start work"),
        Transition("wait", ("new", "in_progress"), "waiting_customer", "Auf Kunde warten", "Wait for customer"),
        Transition("resume", ("waiting_customer",), "in_progress", "Weiter bearbeiten", "Resume"),
        Transition("resolve", ("new", "in_progress", "waiting_customer"), "resolved", "Lösen", "Resolve"),
        Transition("close", ("resolved",), "closed", "Abschließen", "Close"),
        Transition("reopen", ("resolved", "closed"), "in_progress", "Wieder öffnen", "Reopen"),
    ),
)


def lifecycle_for(case_type_key: str | None = None) -> Lifecycle:
    """The lifecycle that applies to a case type (one default for now)."""
    return DEFAULT_LIFECYCLE
