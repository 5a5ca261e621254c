"""Fixtures for case tests: teams, case types, a case factory, a temporary MEDIA_ROOT."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from leitplanke.accounts.models import Team
from leitplanke.cases import services
from leitplanke.cases.models import Case, CaseType


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "files"
    return settings.MEDIA_ROOT


@pytest.fixture
def team_a(db: Any) -> Team:
    return Team.objects.create(name="Team A")


@pytest.fixture
def team_b(db: Any) -> Team:
    return Team.objects.create(name="Team B")


def ensure_default_case_types() -> None:
    """Transactional tests flush what data migrations created; put case types and categories back."""
    import importlib

    from django.apps import apps

    importlib.import_module("leitplanke.cases.migrations.0003_default_case_types").forward(apps, None)


@pytest.fixture
def complaint_type(db: Any) -> CaseType:
    ensure_default_case_types()
    return CaseType.objects.get(key="complaint")


@pytest.fixture
def make_case(db: Any, complaint_type: CaseType) -> Callable[..., Case]:
    def make(*, actor: Any = None, team: Team | None = None, **kwargs: Any) -> Case:
        defaults: dict[str, Any] = {
            "case_type": complaint_type,
            "subject": "Zählerstand falsch abgelesen",
            "description": "Der Zählerstand auf der Rechnung stimmt nicht.",
            "channel": "email",
        }
        defaults.update(kwargs)
        return services.case_create(actor=actor, team=team, **defaults)

    return make
