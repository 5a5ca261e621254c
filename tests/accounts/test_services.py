"""Accounts services: validation, self-protection rules, capabilities and the audit trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from leitplanke.accounts import services
from leitplanke.accounts.models import Absence, Role, SkillKind, Team, User
from leitplanke.accounts.permissions import EDIT_CASES, MANAGE_ORGANISATION, VIEW_AUDIT
from leitplanke.core.errors import PermissionDenied, ValidationFailed
from leitplanke.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def last_event(action: str) -> AuditEvent:
    event = AuditEvent.objects.filter(action=action).order_by("-id").first()
    assert event is not None, f"no audit event {action!r}"
    return event


def role(key: str) -> Role:
    return Role.objects.get(key=key)


# --- users ---------------------------------------------------------------------------------


def test_user_create_normalises_email_and_audits_after(admin_user: User) -> None:
    team = services.team_create(actor=admin_user, name="Energie")
    user = services.user_create(
        actor=admin_user,
        email="  Jana.Doe@Example.ORG ",
        full_name="Jana Doe",
        password="Another-Good-Pass-7",
        roles=[role("agent")],
        teams=[team],
    )
    assert user.email == "jana.doe@example.org"
    assert user.check_password("Another-Good-Pass-7")
    event = last_event("user.create")
    assert event.actor_id == admin_user.pk
    assert event.object_type == "accounts.user" and event.object_id == str(user.pk)
    assert event.before is None
    assert event.after == {
        "email": "jana.doe@example.org",
        "full_name": "Jana Doe",
        "language": "de",
        "is_active": True,
        "roles": [role("agent").pk],
        "teams": [team.pk],
    }


def test_user_create_without_password_cannot_log_in(admin_user: User) -> None:
    user = services.user_create(actor=admin_user, email="nopass@example.org", full_name="No Pass")
    assert not user.has_usable_password()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"email": "not-an-address", "full_name": "X"}, "email"),
        ({"email": "ok@example.org", "full_name": "   "}, "full_name"),
        ({"email": "ok@example.org", "full_name": "X" * 201}, "full_name"),
        ({"email": "ok@example.org", "full_name": "X", "language": "fr"}, "language"),
        ({"email": "ok@example.org", "full_name": "X", "password": "short"}, "password"),
    ],
)
def test_user_create_reports_field_errors(admin_user: User, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.user_create(actor=admin_user, **kwargs)
    assert field in caught.value.field_errors
    assert caught.value.field_errors[field]
    assert not User.objects.filter(email="ok@example.org").exists()


def test_duplicate_email_is_refused_case_insensitively(admin_user: User, make_user: Callable[..., User]) -> None:
    make_user("agent", email="dup@example.org")
    with pytest.raises(ValidationFailed) as caught:
        services.user_create(actor=admin_user, email="DUP@Example.org", full_name="Twin")
    assert "email" in caught.value.field_errors
    assert User.objects.filter(email__iexact="dup@example.org").count() == 1


def test_update_to_an_existing_email_is_refused(admin_user: User, make_user: Callable[..., User]) -> None:
    make_user("agent", email="taken@example.org")
    other = make_user("agent", email="other@example.org")
    with pytest.raises(ValidationFailed) as caught:
        services.user_update(actor=admin_user, user=other, email="TAKEN@example.org")
    assert "email" in caught.value.field_errors
    other.refresh_from_db()
    assert other.email == "other@example.org"


def test_user_update_audits_only_what_changed(admin_user: User, make_user: Callable[..., User]) -> None:
    user = make_user("agent", name="Old Name")
    services.user_update(actor=admin_user, user=user, full_name="New Name", language="en", roles=[role("team_lead")])
    event = last_event("user.update")
    assert event.actor_id == admin_user.pk
    assert event.before == {"full_name": "Old Name", "roles": [role("agent").pk]}
    assert event.after == {"full_name": "New Name", "roles": [role("team_lead").pk]}


def test_user_update_without_changes_writes_no_event(admin_user: User, make_user: Callable[..., User]) -> None:
    user = make_user("agent")
    services.user_update(actor=admin_user, user=user, full_name=user.full_name)
    assert not AuditEvent.objects.filter(action="user.update").exists()


def test_admin_cannot_remove_own_admin_role(admin_user: User) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.user_update(actor=admin_user, user=admin_user, roles=[role("agent")])
    assert "roles" in caught.value.field_errors
    assert list(admin_user.roles.values_list("key", flat=True)) == ["administrator"]
    assert not AuditEvent.objects.filter(action="user.update").exists()


def test_admin_may_remove_another_admins_role(admin_user: User, make_user: Callable[..., User]) -> None:
    other_admin = make_user("administrator")
    services.user_update(actor=admin_user, user=other_admin, roles=[role("agent")])
    assert list(other_admin.roles.values_list("key", flat=True)) == ["agent"]


def test_admin_cannot_deactivate_self(admin_user: User) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.user_update(actor=admin_user, user=admin_user, is_active=False)
    assert "is_active" in caught.value.field_errors
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_deactivating_another_user_is_audited(admin_user: User, agent_user: User) -> None:
    services.user_update(actor=admin_user, user=agent_user, is_active=False)
    agent_user.refresh_from_db()
    assert not agent_user.is_active
    event = last_event("user.update")
    assert event.before == {"is_active": True} and event.after == {"is_active": False}


def test_user_set_language_audits_before_and_after(agent_user: User) -> None:
    services.user_set_language(actor=agent_user, language="de")
    event = last_event("user.set_language")
    assert event.before == {"language": "en"} and event.after == {"language": "de"}


# --- capabilities --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda actor, other: services.user_create(actor=actor, email="x@example.org", full_name="X"),
        lambda actor, other: services.user_update(actor=actor, user=other, full_name="Hacked"),
        lambda actor, other: services.team_create(actor=actor, name="Shadow team"),
        lambda actor, other: services.role_create(
            actor=actor, key="boss", name_de="Chef", name_en="Boss", capabilities=[MANAGE_ORGANISATION]
        ),
        lambda actor, other: services.role_update(
            actor=actor, role=Role.objects.get(key="agent"), capabilities=[MANAGE_ORGANISATION]
        ),
        lambda actor, other: services.organisation_update(actor=actor, name="Taken over"),
        lambda actor, other: services.user_set_password(actor=actor, user=other, password="Brand-New-Pass-42"),
    ],
    ids=["user_create", "user_update", "team_create", "role_create", "role_update", "organisation_update", "set_others_password"],
)
def test_agent_cannot_call_admin_services(agent_user: User, make_user: Callable[..., User], call: Any) -> None:
    other = make_user("agent")
    events_before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        call(agent_user, other)
    assert AuditEvent.objects.count() == events_before


def test_auditor_is_read_only(make_user: Callable[..., User]) -> None:
    auditor = make_user("auditor")
    with pytest.raises(PermissionDenied):
        services.team_create(actor=auditor, name="Audit team")


def test_inactive_admin_has_no_capabilities(admin_user: User, make_user: Callable[..., User]) -> None:
    other_admin = make_user("administrator")
    services.user_update(actor=admin_user, user=other_admin, is_active=False)
    other_admin.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.team_create(actor=other_admin, name="Ghost team")


# --- teams ---------------------------------------------------------------------------------


def test_team_create_adds_the_lead_as_member_and_audits(admin_user: User, make_user: Callable[..., User]) -> None:
    lead, member = make_user("team_lead"), make_user("agent")
    team = services.team_create(actor=admin_user, name="Zahlungsdienste", lead=lead, members=[member], email="Team@Example.org")
    assert set(team.members.all()) == {lead, member}
    assert team.email == "team@example.org"
    event = last_event("team.create")
    assert event.actor_id == admin_user.pk
    assert event.after["name"] == "Zahlungsdienste"
    assert event.after["lead"] == lead.pk
    assert event.after["members"] == sorted([lead.pk, member.pk])


def test_team_names_are_unique_case_insensitively(admin_user: User) -> None:
    services.team_create(actor=admin_user, name="Energie")
    with pytest.raises(ValidationFailed) as caught:
        services.team_create(actor=admin_user, name="ENERGIE")
    assert "name" in caught.value.field_errors
    with pytest.raises(ValidationFailed) as caught:
        services.team_create(actor=admin_user, name="")
    assert "name" in caught.value.field_errors


def test_team_update_audits_before_and_after(admin_user: User, make_user: Callable[..., User]) -> None:
    member = make_user("agent")
    team = services.team_create(actor=admin_user, name="Energie", description="old")
    services.team_update(actor=admin_user, team=team, description="new", members=[member])
    event = last_event("team.update")
    assert event.before == {"description": "old", "members": []}
    assert event.after == {"description": "new", "members": [member.pk]}


def test_team_update_rejects_bad_email(admin_user: User) -> None:
    team = services.team_create(actor=admin_user, name="Energie")
    with pytest.raises(ValidationFailed) as caught:
        services.team_update(actor=admin_user, team=team, email="nope")
    assert "email" in caught.value.field_errors
    assert Team.objects.get(pk=team.pk).email == ""


# --- roles ---------------------------------------------------------------------------------


def test_role_create_and_update_are_audited(admin_user: User) -> None:
    new_role = services.role_create(
        actor=admin_user, key="Reviewer", name_de="Prüfung", name_en="Review", capabilities=[VIEW_AUDIT, VIEW_AUDIT]
    )
    assert new_role.key == "reviewer"
    assert new_role.capabilities == [VIEW_AUDIT]
    created = last_event("role.create")
    assert created.after["key"] == "reviewer" and created.after["capabilities"] == [VIEW_AUDIT]

    services.role_update(actor=admin_user, role=new_role, capabilities=[VIEW_AUDIT, EDIT_CASES], name_en="Reviewer")
    updated = last_event("role.update")
    assert updated.before == {"capabilities": [VIEW_AUDIT], "name_en": "Review"}
    assert updated.after == {"capabilities": sorted([VIEW_AUDIT, EDIT_CASES]), "name_en": "Reviewer"}


def test_role_validation(admin_user: User) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.role_create(actor=admin_user, key="agent", name_de="A", name_en="A", capabilities=[])
    assert "key" in caught.value.field_errors
    with pytest.raises(ValidationFailed) as caught:
        services.role_create(actor=admin_user, key="x", name_de="X", name_en="X", capabilities=["fly.to_moon"])
    assert "capabilities" in caught.value.field_errors
    with pytest.raises(ValidationFailed) as caught:
        services.role_update(actor=admin_user, role=role("administrator"), capabilities=[VIEW_AUDIT])
    assert "capabilities" in caught.value.field_errors
    assert MANAGE_ORGANISATION in role("administrator").capabilities


# --- organisation and passwords ------------------------------------------------------------


def test_organisation_update_validates_and_audits(admin_user: User) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.organisation_update(actor=admin_user, time_zone="Mars/Olympus")
    assert "time_zone" in caught.value.field_errors
    before_name = services.organisation_get().name
    services.organisation_update(actor=admin_user, name="Stadtwerke Test", calendar_region="DE-BY")
    event = last_event("organisation.update")
    assert event.before == {"calendar_region": "DE-NW", "name": before_name}
    assert event.after == {"calendar_region": "DE-BY", "name": "Stadtwerke Test"}


def test_user_changes_own_password_and_it_is_audited(agent_user: User) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.user_set_password(actor=agent_user, user=agent_user, password="12345678901")
    assert "password" in caught.value.field_errors
    services.user_set_password(actor=agent_user, user=agent_user, password="Fresh-Secret-Pass-1")
    agent_user.refresh_from_db()
    assert agent_user.check_password("Fresh-Secret-Pass-1")
    event = last_event("user.password_change")
    assert event.actor_id == agent_user.pk
    assert event.before is None and event.after is None  # never the password itself


def test_api_tokens_are_hashed_and_revocable(admin_user: User, agent_user: User) -> None:
    token, plain = services.api_token_create(actor=agent_user, name="CRM", scopes=["read"])
    assert plain.startswith("lpk_") and plain.split("_", 2)[2] not in token.token_hash
    assert services.api_token_authenticate(plain) == token
    assert services.api_token_authenticate(plain + "x") is None
    with pytest.raises(ValidationFailed):
        services.api_token_create(actor=agent_user, name="root", scopes=["admin"])
    services.api_token_revoke(actor=agent_user, token=token)
    assert services.api_token_authenticate(plain) is None
    assert last_event("api_token.revoke").actor_id == agent_user.pk


# --- skills and absences -------------------------------------------------------------------


def test_skills_are_set_and_removed_with_audit(admin_user: User, agent_user: User) -> None:
    skill = services.skill_create(actor=admin_user, key="PSD2", name_de="PSD2", name_en="PSD2", kind=SkillKind.QUALIFICATION)
    assert skill.key == "psd2"
    services.user_skill_set(actor=admin_user, user=agent_user, skill=skill, level=2)
    assert last_event("user.skill_set").after == {"skill": "psd2", "level": 2, "valid_until": None}
    services.user_skill_set(actor=admin_user, user=agent_user, skill=skill, level=3, valid_until=dt.date(2027, 1, 31))
    event = last_event("user.skill_set")
    assert event.before == {"level": 2, "valid_until": None}
    assert event.after == {"skill": "psd2", "level": 3, "valid_until": "2027-01-31"}
    with pytest.raises(ValidationFailed):
        services.user_skill_set(actor=admin_user, user=agent_user, skill=skill, level=4)
    with pytest.raises(PermissionDenied):
        services.user_skill_set(actor=agent_user, user=agent_user, skill=skill, level=3)
    services.user_skill_remove(actor=admin_user, user=agent_user, skill=skill)
    assert last_event("user.skill_remove").before == {"skill": "psd2"}
    assert not agent_user.skills.exists()


def test_absences_by_self_and_team_lead_only(admin_user: User, make_user: Callable[..., User]) -> None:
    lead, member, stranger = make_user("team_lead"), make_user("agent"), make_user("agent")
    services.team_create(actor=admin_user, name="Energie", lead=lead, members=[member])
    day = dt.date(2026, 3, 2)
    own = services.absence_create(actor=member, user=member, starts_on=day, ends_on=day, kind="vacation")
    assert last_event("absence.create").after == {
        "user": member.pk,
        "starts_on": "2026-03-02",
        "ends_on": "2026-03-02",
        "kind": "vacation",
        "note": "",
    }
    services.absence_create(actor=lead, user=member, starts_on=day, ends_on=day + dt.timedelta(days=2), kind="training")
    with pytest.raises(PermissionDenied):
        services.absence_create(actor=stranger, user=member, starts_on=day, ends_on=day, kind="sick")
    with pytest.raises(ValidationFailed) as caught:
        services.absence_create(actor=member, user=member, starts_on=day, ends_on=day - dt.timedelta(days=1), kind="other")
    assert "ends_on" in caught.value.field_errors
    with pytest.raises(PermissionDenied):
        services.absence_delete(actor=stranger, absence=own)
    services.absence_delete(actor=member, absence=own)
    assert not Absence.objects.filter(pk=own.pk).exists()
    assert last_event("absence.delete").before["starts_on"] == "2026-03-02"
