"""The Actor type's predicates, and the services that needed a user but took any actor: the
system (None) or an anonymous visitor now gets a 403 / nothing instead of a crash (ADR 0022)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from leitplanke.accounts import selectors, services
from leitplanke.accounts.actors import acting_user, is_active_user, is_user, require_user
from leitplanke.accounts.models import User
from leitplanke.accounts.permissions import EDIT_CASES, capabilities_of, has_capability
from leitplanke.cases.permissions import team_ids_of
from leitplanke.core.actors import is_authenticated_user
from leitplanke.core.audit import audit_record
from leitplanke.core.errors import PermissionDenied
from leitplanke.core.models import AuditEvent

pytestmark = pytest.mark.django_db

NOT_USERS: list[Any] = [None, AnonymousUser(), "intake"]


def test_predicates_tell_a_user_from_the_system_and_anonymous_visitors(agent_user: User) -> None:
    assert is_user(agent_user) and is_active_user(agent_user) and is_authenticated_user(agent_user)
    assert acting_user(agent_user) is agent_user and require_user(agent_user) is agent_user
    for actor in NOT_USERS:
        assert not is_user(actor) and not is_active_user(actor) and not is_authenticated_user(actor)
        assert acting_user(actor) is None
        with pytest.raises(PermissionDenied):
            require_user(actor)
        assert capabilities_of(actor) == frozenset() and not has_capability(actor, EDIT_CASES)
        assert team_ids_of(actor) == []  # None raised AttributeError before


def test_an_inactive_user_is_a_user_but_not_an_active_one(make_user: Callable[..., User]) -> None:
    user = make_user("agent")
    user.is_active = False
    assert is_user(user) and not is_active_user(user) and not has_capability(user, EDIT_CASES)


def test_audit_record_keeps_user_label_and_system(agent_user: User) -> None:
    from django.db import transaction

    with transaction.atomic():
        by_user = audit_record(actor=agent_user, action="test.actor", object_type="x", object_id=1)
        by_label = audit_record(actor="intake", action="test.actor", object_type="x", object_id=2)
        by_system = audit_record(actor=None, action="test.actor", object_type="x", object_id=3)
        by_anonymous = audit_record(actor=AnonymousUser(), action="test.actor", object_type="x", object_id=4)
    rows = {e.object_id: e for e in AuditEvent.objects.filter(action="test.actor")}
    assert (rows["1"].actor_id, rows["1"].actor_label) == (agent_user.pk, agent_user.email)
    assert (rows["2"].actor_id, rows["2"].actor_label) == (None, "intake")
    assert (rows["3"].actor_id, rows["3"].actor_label) == (None, "system")
    assert rows["4"].actor_id is None
    assert by_user.pk and by_label.pk and by_system.pk and by_anonymous.pk


@pytest.mark.parametrize("actor", NOT_USERS[:2], ids=["system", "anonymous"])
def test_only_a_person_mints_an_api_token(actor: Any) -> None:
    # Before: a ValueError (AnonymousUser on the foreign key) or an IntegrityError (None).
    with pytest.raises(PermissionDenied):
        services.api_token_create(actor=actor, name="t", scopes=["read"])


@pytest.mark.parametrize("actor", NOT_USERS[:2], ids=["system", "anonymous"])
def test_the_system_and_visitors_see_no_tokens_and_no_absences(actor: Any, agent_user: User) -> None:
    services.absence_create(
        actor=agent_user, user=agent_user, starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 1, 2), kind="vacation"
    )
    assert list(selectors.api_token_list(actor=actor)) == []
    assert list(selectors.absence_list(actor=actor)) == []


@pytest.mark.parametrize("actor", NOT_USERS[:2], ids=["system", "anonymous"])
def test_user_only_services_refuse_the_system_and_visitors(actor: Any, agent_user: User) -> None:
    with pytest.raises(PermissionDenied):
        services.user_set_language(actor=actor, language="de")  # before: User.DoesNotExist / AttributeError
    with pytest.raises(PermissionDenied):  # before: AttributeError on actor.pk for None
        services.absence_create(
            actor=actor, user=agent_user, starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 1, 2), kind="vacation"
        )
    token, _plain = services.api_token_create(actor=agent_user, name="mine", scopes=["read"])
    with pytest.raises(PermissionDenied):  # before: AttributeError on actor.pk for None
        services.api_token_revoke(actor=actor, token=token)
