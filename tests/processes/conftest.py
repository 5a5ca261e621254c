"""Fixtures for process tests: the case fixtures of the cases app, a process owner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.cases.conftest import complaint_type, make_case, media_root, team_a  # noqa: F401


@pytest.fixture
def owner(make_user: Callable[..., Any]) -> Any:
    return make_user("process_owner")


@pytest.fixture
def agent(make_user: Callable[..., Any], team_a: Any) -> Any:  # noqa: F811
    return make_user("agent", teams=[team_a])
