"""Domain events: services announce what happened; other apps subscribe.

`emit` runs inside the service's transaction, so a subscriber's writes (for example
webhook delivery rows) commit or roll back together with the change itself.
Subscribers enqueue their background work on commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext_lazy as _

Handler = Callable[[str, dict[str, Any]], None]
_subscribers: list[Handler] = []

EVENTS = {
    "case.created": _("A case was created"),
    "case.transitioned": _("A case changed its status"),
    "case.assigned": _("A case got a new responsible person or team"),
    "case.escalated": _("A case was raised to a higher escalation level"),
    "message.received": _("A customer message arrived on a case"),
    "deadline.warning": _("A deadline reached its warning threshold"),
    "deadline.breached": _("A deadline passed"),
    "decision.recorded": _("A decision was recorded on a case"),
}


def subscribe(handler: Handler) -> None:
    if handler not in _subscribers:
        _subscribers.append(handler)


def emit(event: str, payload: dict[str, Any]) -> None:
    if event not in EVENTS:
        raise ValueError(f"unknown event {event}")
    for handler in list(_subscribers):
        handler(event, payload)
