"""Who sees and changes which case: a matrix per role, through services and pages."""

from __future__ import annotations

from typing import Any

import pytest

from leitplanke.cases import selectors, services
from leitplanke.cases.models import Case
from leitplanke.core.errors import NotFound, PermissionDenied
from leitplanke.core.models import AuditEvent

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF"

# role, team ("a", "b" or None), sees the team-A case, may edit it
MATRIX = [
    ("agent", "a", True, True),
    ("agent", "b", False, False),
    ("team_lead", "a", True, True),
    ("team_lead", "b", False, False),
    ("quality_manager", None, True, True),
    ("auditor", None, True, False),
    ("process_owner", None, True, False),
    ("administrator", None, True, True),
]
IDS = [f"{role}-{team or 'none'}" for role, team, _s, _e in MATRIX]


@pytest.fixture
def world(make_user: Any, team_a: Any, team_b: Any, make_case: Any) -> dict[str, Any]:
    case = make_case(actor=None, team=team_a)
    attachment = services.attachment_add(actor=None, case=case, uploaded_file=PDF, name="Beleg.pdf")
    return {"case": case, "attachment": attachment, "teams": {"a": team_a, "b": team_b}}


def _user(make_user: Any, world: dict[str, Any], role: str, team: str | None) -> Any:
    return make_user(role, teams=[world["teams"][team]] if team else [])


@pytest.mark.parametrize(("role", "team", "sees", "edits"), MATRIX, ids=IDS)
def test_services_matrix(make_user: Any, world: dict[str, Any], role: str, team: str | None, sees: bool, edits: bool) -> None:
    user = _user(make_user, world, role, team)
    case: Case = world["case"]
    assert (case in selectors.visible_cases(actor=user)) is sees
    assert selectors.can_edit(user, case) is edits
    if sees:
        assert selectors.case_get(actor=user, case_id=case.pk) == case
        assert selectors.case_get(actor=user, reference=case.reference.lower()) == case
    else:
        with pytest.raises(NotFound):
            selectors.case_get(actor=user, case_id=case.pk)
    expected = None if edits else (PermissionDenied if sees else NotFound)
    writes = [
        lambda: services.case_update(actor=user, case=case, priority=3),
        lambda: services.case_transition(actor=user, case=case, transition="wait"),
        lambda: services.interaction_add(actor=user, case=case, kind="internal_note", body_text="Notiz"),
        lambda: services.attachment_add(actor=user, case=case, uploaded_file=PDF, name="x.pdf"),
        lambda: services.case_watch(actor=user, case=case, watching=True),
    ]
    events_before = AuditEvent.objects.count()
    for write in writes:
        case.refresh_from_db()
        if expected is None:
            write()
        else:
            with pytest.raises(expected):
                write()
    if expected is None:
        assert AuditEvent.objects.count() - events_before == len(writes)
    else:
        assert AuditEvent.objects.count() == events_before


@pytest.mark.parametrize(("role", "team", "sees", "edits"), MATRIX, ids=IDS)
def test_pages_matrix(
    make_user: Any, client_for: Any, world: dict[str, Any], role: str, team: str | None, sees: bool, edits: bool
) -> None:
    user = _user(make_user, world, role, team)
    client = client_for(user)
    case, attachment = world["case"], world["attachment"]
    hidden = 404
    assert client.get(f"/cases/{case.pk}/").status_code == (200 if sees else hidden)
    assert client.get(f"/cases/{case.pk}/attachments/{attachment.pk}/").status_code == (200 if sees else hidden)
    assert client.get(f"/cases/{case.pk}/edit/").status_code == (200 if edits else 403 if sees else hidden)
    response = client.post(f"/cases/{case.pk}/transition/", {"transition": "start", "version": case.version})
    assert response.status_code == (302 if edits else 403 if sees else hidden)
    response = client.post(f"/cases/{case.pk}/notes/", {"kind": "internal_note", "body_text": "Hallo"})
    assert response.status_code == (302 if edits else 403 if sees else hidden)
    case.refresh_from_db()
    assert case.status == ("in_progress" if edits else "new")
    assert client.get("/cases/new/").status_code == (200 if role not in ("auditor", "process_owner") else 403)


def test_responsible_and_watchers_see_cases_of_other_teams(make_user: Any, world: dict[str, Any], make_case: Any) -> None:
    outsider = _user(make_user, world, "agent", "b")
    watcher = _user(make_user, world, "agent", "b")
    admin = make_user("administrator")
    case = world["case"]
    services.case_update(actor=admin, case=case, responsible_user=outsider, watchers=[watcher])
    assert selectors.case_get(actor=outsider, case_id=case.pk) == case
    assert selectors.case_get(actor=watcher, case_id=case.pk) == case
    assert selectors.can_edit(watcher, case)


def test_users_without_case_capabilities_see_nothing(make_user: Any, world: dict[str, Any], client_for: Any) -> None:
    nobody = make_user(None)
    assert not selectors.visible_cases(actor=nobody).exists()
    assert client_for(nobody).get(f"/cases/{world['case'].pk}/").status_code == 404
    assert client_for(nobody).get("/cases/new/").status_code == 403


def test_anonymous_is_sent_to_login(client: Any, world: dict[str, Any]) -> None:
    response = client.get(f"/cases/{world['case'].pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_team_scope_query_has_no_join(make_user: Any, world: dict[str, Any]) -> None:
    """Index-friendly at scale: team IN (…) OR responsible = X OR id IN (watchers subquery)."""
    agent = _user(make_user, world, "agent", "a")
    sql = str(selectors.visible_cases(actor=agent).query).upper()
    assert " JOIN " not in sql
    assert 'TEAM_ID" IN (' in sql and 'RESPONSIBLE_USER_ID" =' in sql and "CASES_CASE_WATCHERS" in sql
