"""Fixtures for decision-table tests: a process owner, a case worker, someone with neither."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def owner(make_user: Callable[..., Any]) -> Any:
    return make_user("process_owner")


@pytest.fixture
def agent(make_user: Callable[..., Any]) -> Any:
    return make_user("agent")
