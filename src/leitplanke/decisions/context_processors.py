"""The approvals badge in the navigation: how many decisions wait on the user's approval."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import cached_property

from . import approval_selectors


class ApprovalsWaiting:
    """Counted when a template first asks (the navigation), at most once per request; a
    fragment that does not show the navigation (an htmx swap) costs nothing."""

    def __init__(self, user: Any) -> None:
        self._user = user

    @cached_property
    def count(self) -> int:
        return approval_selectors.waiting_count(self._user)

    @property
    def label(self) -> str:
        """The number as shown: "99+" beyond the counted maximum."""
        n = self.count
        return f"{approval_selectors.WAITING_SHOWN_MAX}+" if n > approval_selectors.WAITING_SHOWN_MAX else str(n)

    def __bool__(self) -> bool:
        return self.count > 0


def approvals_waiting(request: HttpRequest) -> dict[str, Any]:
    return {"approvals_waiting": ApprovalsWaiting(getattr(request, "user", None))}
