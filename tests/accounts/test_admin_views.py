"""The administration screens under /settings/: permissions, forms, audit events, query counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from leitplanke.accounts import services
from leitplanke.accounts.models import Absence, Role, Skill, Team, User, UserSkill
from leitplanke.core.models import AuditEvent

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    ("settings:index", {}),
    ("settings:organisation", {}),
    ("settings:brands", {}),
    ("settings:brand_create", {}),
    ("settings:users", {}),
    ("settings:user_create", {}),
    ("settings:teams", {}),
    ("settings:team_create", {}),
    ("settings:roles", {}),
    ("settings:role_create", {}),
    ("settings:skills", {}),
    ("settings:absences", {}),
    ("settings:tasks", {}),
    ("settings:audit", {}),
]


@pytest.fixture
def admin_client(admin_user: User, client_for: Callable[[User], Client]) -> Client:
    return client_for(admin_user)


@pytest.fixture
def team(admin_user: User) -> Team:
    return services.team_create(actor=admin_user, name="Kfz-Schaden")


@pytest.fixture
def skill(admin_user: User) -> Skill:
    return services.skill_create(
        actor=admin_user, key="insurance_law", name_de="Versicherungsrecht", name_en="Insurance law", kind="qualification"
    )


def last_event(action: str) -> AuditEvent:
    event = AuditEvent.objects.filter(action=action).order_by("-id").first()
    assert event is not None, f"no audit event {action}"
    return event


# --- access ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kwargs"), ADMIN_PAGES)
def test_every_page_opens_for_the_administrator(name: str, kwargs: dict[str, Any], admin_client: Client) -> None:
    response = admin_client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200


@pytest.mark.parametrize(("name", "kwargs"), ADMIN_PAGES)
def test_every_page_is_forbidden_for_an_agent(
    name: str, kwargs: dict[str, Any], agent_user: User, client_for: Callable[[User], Client]
) -> None:
    response = client_for(agent_user).get(reverse(name, kwargs=kwargs))
    assert response.status_code == 403


def test_detail_pages_open_for_the_administrator(admin_client: Client, admin_user: User, team: Team) -> None:
    role = Role.objects.get(key="agent")
    for url in (
        reverse("settings:user_edit", args=[admin_user.pk]),
        reverse("settings:team_edit", args=[team.pk]),
        reverse("settings:role_edit", args=[role.pk]),
    ):
        assert admin_client.get(url).status_code == 200, url
    assert admin_client.get(reverse("settings:user_edit", args=[999_999])).status_code == 404


def test_anonymous_visitors_are_sent_to_the_login(client: Client) -> None:
    response = client.get(reverse("settings:users"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_audit_log_filters_by_the_calendars_first_and_last_days(admin_client: Client) -> None:
    for first, last in (("0001-01-01", "0001-01-01"), ("9999-12-31", "9999-12-31"), ("0001-01-01", "9999-12-31")):
        response = admin_client.get(reverse("settings:audit"), {"occurred_from": first, "occurred_until": last})
        assert response.status_code == 200


@pytest.mark.parametrize("role_key", ["auditor", "quality_manager"])
def test_auditors_read_the_audit_log_but_not_the_admin_pages(
    role_key: str, make_user: Callable[..., User], client_for: Callable[[User], Client]
) -> None:
    client = client_for(make_user(role_key))
    assert client.get(reverse("settings:audit")).status_code == 200
    index = client.get(reverse("settings:index"))
    assert index.status_code == 200
    assert reverse("settings:audit").encode() in index.content
    assert reverse("settings:users").encode() not in index.content
    assert client.get(reverse("settings:users")).status_code == 403
    assert client.get(reverse("settings:tasks")).status_code == 403


def test_index_links_every_section_for_the_administrator(admin_client: Client) -> None:
    content = admin_client.get(reverse("settings:index")).content.decode()
    for name in ("organisation", "users", "teams", "roles", "skills", "absences", "tasks", "audit"):
        assert reverse(f"settings:{name}") in content


def test_changes_need_post_and_csrf(admin_user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(reverse("settings:team_create"), {"name": "Ohne Token"})
    assert response.status_code == 403
    assert not Team.objects.filter(name="Ohne Token").exists()


# --- organisation -----------------------------------------------------------------------------


def test_organisation_settings_are_saved_and_audited(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("settings:organisation"),
        {
            "name": "Rheinfeld Versicherung",
            "time_zone": "Europe/London",
            "default_language": "en",
            "customer_languages": ["de", "en"],
            "calendar_region": "GB-SCT",
        },
    )
    assert response.status_code == 302
    organisation = services.organisation_get()
    assert (organisation.name, organisation.time_zone, organisation.calendar_region) == (
        "Rheinfeld Versicherung",
        "Europe/London",
        "GB-SCT",
    )
    assert organisation.customer_languages == ["de", "en"]
    assert last_event("organisation.update").after["calendar_region"] == "GB-SCT"


def test_organisation_rejects_an_unknown_region_and_keeps_input(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("settings:organisation"),
        {
            "name": "Neuer Name",
            "time_zone": "Europe/Berlin",
            "default_language": "de",
            "calendar_region": "XX-YY",
        },
    )
    assert response.status_code == 400
    assert 'value="Neuer Name"' in response.content.decode()
    assert services.organisation_get().name != "Neuer Name"


# --- users --------------------------------------------------------------------------------------


def test_create_user_with_password(admin_client: Client, team: Team) -> None:
    role = Role.objects.get(key="agent")
    response = admin_client.post(
        reverse("settings:user_create"),
        {
            "email": "Neu.Person@Example.org",
            "full_name": "Nora Neu",
            "language": "en",
            "roles": [role.pk],
            "teams": [team.pk],
            "password": "Lange-Sichere-Phrase-42",
        },
    )
    user = User.objects.get(email="neu.person@example.org")
    assert response.status_code == 302
    assert response["Location"] == reverse("settings:user_edit", args=[user.pk])
    assert user.check_password("Lange-Sichere-Phrase-42")
    assert list(user.roles.all()) == [role] and list(user.teams.all()) == [team]
    event = last_event("user.create")
    assert event.object_id == str(user.pk) and event.after["email"] == "neu.person@example.org"
    assert mail.outbox == []


def test_create_user_without_password_sends_a_link(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("settings:user_create"),
        {
            "email": "ohne@example.org",
            "full_name": "Olga Ohne",
            "language": "de",
        },
        follow=True,
    )
    assert response.status_code == 200
    user = User.objects.get(email="ohne@example.org")
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ohne@example.org"]
    assert "/accounts/password-reset/" in mail.outbox[0].body
    assert last_event("user.password_link_sent").object_id == str(user.pk)


def test_the_password_link_lets_the_new_user_choose_a_password(admin_client: Client) -> None:
    admin_client.post(reverse("settings:user_create"), {"email": "link@example.org", "full_name": "Lena Link", "language": "de"})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/password-reset/" in line)
    path = link.split("testserver", 1)[1]
    visitor = Client()
    form_page = visitor.get(path, follow=True)
    assert form_page.status_code == 200
    new_password = {"new_password1": "Neues-Passwort-2026!", "new_password2": "Neues-Passwort-2026!"}
    visitor.post(form_page.redirect_chain[-1][0], new_password)
    assert User.objects.get(email="link@example.org").check_password("Neues-Passwort-2026!")


def test_create_user_with_a_taken_email_keeps_input(admin_client: Client, agent_user: User) -> None:
    response = admin_client.post(
        reverse("settings:user_create"),
        {
            "email": agent_user.email,
            "full_name": "Doppel Gänger",
            "language": "de",
        },
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert 'value="Doppel Gänger"' in content
    assert "exists already" in content
    assert User.objects.filter(full_name="Doppel Gänger").count() == 0


def test_create_user_with_a_weak_password_is_refused(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("settings:user_create"),
        {
            "email": "weak@example.org",
            "full_name": "Willi Weak",
            "language": "de",
            "password": "123",
        },
    )
    assert response.status_code == 400
    assert not User.objects.filter(email="weak@example.org").exists()


def test_invalid_email_is_a_400_not_a_500(admin_client: Client) -> None:
    response = admin_client.post(reverse("settings:user_create"), {"email": "kein-at", "full_name": "X", "language": "de"})
    assert response.status_code == 400
    assert 'value="kein-at"' in response.content.decode()


def test_edit_user_changes_roles_teams_and_active_flag(admin_client: Client, agent_user: User, team: Team) -> None:
    lead_role = Role.objects.get(key="team_lead")
    response = admin_client.post(
        reverse("settings:user_edit", args=[agent_user.pk]),
        {
            "email": agent_user.email,
            "full_name": "Aaron Umbenannt",
            "language": "en",
            "roles": [lead_role.pk],
            "teams": [team.pk],  # is_active left out: unchecked
        },
    )
    assert response.status_code == 302
    agent_user.refresh_from_db()
    assert agent_user.full_name == "Aaron Umbenannt" and not agent_user.is_active
    assert list(agent_user.roles.all()) == [lead_role]
    event = last_event("user.update")
    assert event.after["full_name"] == "Aaron Umbenannt" and event.after["is_active"] is False


def test_admin_cannot_deactivate_themself(admin_client: Client, admin_user: User) -> None:
    role = Role.objects.get(key="administrator")
    response = admin_client.post(
        reverse("settings:user_edit", args=[admin_user.pk]),
        {
            "email": admin_user.email,
            "full_name": "Ada Admin",
            "language": "de",
            "roles": [role.pk],
        },
    )
    assert response.status_code == 400
    assert "cannot deactivate yourself" in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_user_list_search(admin_client: Client, make_user: Callable[..., User]) -> None:
    make_user("agent", name="Zacharias Zorn", email="zz@example.org")
    make_user("agent", name="Berta Blau")
    response = admin_client.get(reverse("settings:users"), {"q": "zorn"})
    content = response.content.decode()
    assert "Zacharias Zorn" in content and "Berta Blau" not in content
    by_mail = admin_client.get(reverse("settings:users"), {"q": "zz@"}).content.decode()
    assert "Zacharias Zorn" in by_mail


def test_user_list_pages_with_a_cursor(admin_client: Client, make_user: Callable[..., User]) -> None:
    for n in range(55):
        make_user("agent", name=f"Person {n:02d}")
    first = admin_client.get(reverse("settings:users"))
    assert "Person 00" in first.content.decode()
    next_url = first.context["next_url"]
    assert next_url and "cursor=" in next_url
    second = admin_client.get(reverse("settings:users") + next_url)
    assert second.status_code == 200
    assert "Person 54" in second.content.decode() and "Person 00" not in second.content.decode()
    assert admin_client.get(reverse("settings:users"), {"cursor": "forged"}).status_code == 400


def _count_list_queries(client: Client, url: str) -> int:
    # A first request loads reference data changed since (roles, case types): count the second.
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_user_list_query_count_does_not_grow(admin_client: Client, make_user: Callable[..., User]) -> None:
    teams = [Team.objects.create(name=f"Team {n}") for n in range(3)]
    for n in range(10):
        make_user("agent", teams=teams[:2], name=f"Early {n}")
    few = _count_list_queries(admin_client, reverse("settings:users"))
    for n in range(30):
        make_user("team_lead", teams=teams, name=f"Late {n}")
    many = _count_list_queries(admin_client, reverse("settings:users"))
    assert many == few


def test_audit_list_query_count_does_not_grow(admin_client: Client, admin_user: User) -> None:
    few = _count_list_queries(admin_client, reverse("settings:audit"))
    for n in range(30):
        services.team_create(actor=admin_user, name=f"Audit {n}")
    assert _count_list_queries(admin_client, reverse("settings:audit")) == few


# --- skills and absences on the user page -----------------------------------------------------


def test_add_and_remove_a_skill(admin_client: Client, agent_user: User, skill: Skill) -> None:
    url = reverse("settings:user_skill_add", args=[agent_user.pk])
    response = admin_client.post(url, {"skill-skill": skill.pk, "skill-level": "3", "skill-valid_until": "2030-12-31"})
    assert response.status_code == 302
    held = UserSkill.objects.get(user=agent_user, skill=skill)
    assert (held.level, held.valid_until) == (3, dt.date(2030, 12, 31))
    assert last_event("user.skill_set").after["skill"] == "insurance_law"
    page = admin_client.get(reverse("settings:user_edit", args=[agent_user.pk])).content.decode()
    assert "Versicherungsrecht" in page or "Insurance law" in page
    response = admin_client.post(reverse("settings:user_skill_remove", args=[agent_user.pk, skill.pk]))
    assert response.status_code == 302
    assert not UserSkill.objects.filter(user=agent_user).exists()
    assert last_event("user.skill_remove").before == {"skill": "insurance_law"}


def test_skill_level_out_of_range_is_refused(admin_client: Client, agent_user: User, skill: Skill) -> None:
    response = admin_client.post(
        reverse("settings:user_skill_add", args=[agent_user.pk]), {"skill-skill": skill.pk, "skill-level": "7"}
    )
    assert response.status_code == 400
    assert not UserSkill.objects.exists()


def test_add_and_remove_an_absence(admin_client: Client, agent_user: User) -> None:
    today = timezone.localdate()
    response = admin_client.post(
        reverse("settings:user_absence_add", args=[agent_user.pk]),
        {
            "absence-starts_on": (today + dt.timedelta(days=3)).isoformat(),
            "absence-ends_on": (today + dt.timedelta(days=10)).isoformat(),
            "absence-kind": "vacation",
            "absence-note": "Sommerurlaub",
        },
    )
    assert response.status_code == 302
    absence = Absence.objects.get(user=agent_user)
    assert last_event("absence.create").object_id == str(absence.pk)
    overview = admin_client.get(reverse("settings:absences")).content.decode()
    assert "Sommerurlaub" in overview and agent_user.full_name in overview
    response = admin_client.post(reverse("settings:absence_delete", args=[absence.pk]), {"next": "absences"})
    assert response["Location"] == reverse("settings:absences")
    assert not Absence.objects.exists()
    assert last_event("absence.delete").object_id == str(absence.pk)


def test_absence_ending_before_it_starts_keeps_input(admin_client: Client, agent_user: User) -> None:
    response = admin_client.post(
        reverse("settings:user_absence_add", args=[agent_user.pk]),
        {
            "absence-starts_on": "2031-05-10",
            "absence-ends_on": "2031-05-01",
            "absence-kind": "vacation",
            "absence-note": "verdreht",
        },
    )
    assert response.status_code == 400
    assert 'value="verdreht"' in response.content.decode()
    assert not Absence.objects.exists()


def test_past_absences_are_not_in_the_overview(admin_client: Client, admin_user: User, agent_user: User) -> None:
    services.absence_create(
        actor=admin_user,
        user=agent_user,
        starts_on=dt.date(2020, 1, 1),
        ends_on=dt.date(2020, 1, 5),
        kind="sick",
        note="lange her",
    )
    assert "lange her" not in admin_client.get(reverse("settings:absences")).content.decode()


# --- teams --------------------------------------------------------------------------------------


def test_create_team_with_lead_and_members(admin_client: Client, agent_user: User, make_user: Callable[..., User]) -> None:
    lead = make_user("team_lead", name="Lea Lead")
    response = admin_client.post(
        reverse("settings:team_create"),
        {
            "name": "Leben",
            "description": "Lebensversicherung",
            "email": "leben@example.org",
            "lead": lead.pk,
            "members": [agent_user.pk],
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    team = Team.objects.get(name="Leben")
    assert team.lead == lead and set(team.members.all()) == {lead, agent_user}
    assert last_event("team.create").after["name"] == "Leben"
    assert "Leben" in admin_client.get(reverse("settings:teams")).content.decode()


def test_edit_team(admin_client: Client, team: Team, agent_user: User) -> None:
    response = admin_client.post(
        reverse("settings:team_edit", args=[team.pk]),
        {
            "name": "Kfz",
            "description": "",
            "email": "",
            "members": [agent_user.pk],
        },
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.name == "Kfz" and not team.is_active and list(team.members.all()) == [agent_user]
    event = last_event("team.update")
    assert event.after["name"] == "Kfz" and event.after["members"] == [agent_user.pk]


def test_duplicate_team_name_keeps_input(admin_client: Client, team: Team) -> None:
    response = admin_client.post(reverse("settings:team_create"), {"name": "kfz-schaden", "description": "zweites Team"})
    assert response.status_code == 400
    assert "zweites Team" in response.content.decode()
    assert Team.objects.count() == 1


# --- roles ------------------------------------------------------------------------------------


def test_create_and_edit_a_role(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("settings:role_create"),
        {
            "key": "complaints_desk",
            "name_de": "Beschwerdestelle",
            "name_en": "Complaints desk",
            "description": "",
            "capabilities": ["cases.edit", "cases.view_team"],
        },
    )
    assert response.status_code == 302
    role = Role.objects.get(key="complaints_desk")
    assert role.capabilities == ["cases.edit", "cases.view_team"]
    assert last_event("role.create").after["key"] == "complaints_desk"
    response = admin_client.post(
        reverse("settings:role_edit", args=[role.pk]),
        {
            "name_de": "Beschwerdestelle",
            "name_en": "Complaints desk",
            "description": "Erste Stufe",
            "capabilities": ["cases.edit", "cases.view_team", "cases.export"],
        },
    )
    assert response.status_code == 302
    role.refresh_from_db()
    assert "cases.export" in role.capabilities
    assert last_event("role.update").after["description"] == "Erste Stufe"
    listing = admin_client.get(reverse("settings:roles")).content.decode()
    assert "complaints_desk" in listing


def test_role_form_shows_capabilities_as_labelled_checkboxes(admin_client: Client) -> None:
    content = admin_client.get(reverse("settings:role_create")).content.decode()
    assert 'type="checkbox" name="capabilities" value="org.manage"' in content
    assert "Administer users, teams, roles and settings" in content or "Administration" in content


def test_administrator_role_keeps_administration(admin_client: Client) -> None:
    role = Role.objects.get(key="administrator")
    response = admin_client.post(
        reverse("settings:role_edit", args=[role.pk]),
        {
            "name_de": "Administration",
            "name_en": "Administrator",
            "description": "gekürzt",
            "capabilities": ["cases.edit"],
        },
    )
    assert response.status_code == 400
    assert "gekürzt" in response.content.decode()
    role.refresh_from_db()
    assert "org.manage" in role.capabilities


def test_unknown_capability_is_refused(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("settings:role_create"),
        {
            "key": "bad",
            "name_de": "Böse",
            "name_en": "Bad",
            "capabilities": ["root.everything"],
        },
    )
    assert response.status_code == 400
    assert not Role.objects.filter(key="bad").exists()


# --- skills -----------------------------------------------------------------------------------


def test_create_skill(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("settings:skills"),
        {
            "key": "english",
            "name_de": "Englisch",
            "name_en": "English",
            "kind": "language",
        },
    )
    assert response.status_code == 302
    assert Skill.objects.get(key="english").kind == "language"
    assert last_event("skill.create").after["key"] == "english"


def test_duplicate_skill_key_keeps_input(admin_client: Client, skill: Skill) -> None:
    response = admin_client.post(
        reverse("settings:skills"),
        {
            "key": "insurance_law",
            "name_de": "Noch einmal",
            "name_en": "Again",
            "kind": "skill",
        },
    )
    assert response.status_code == 400
    assert 'value="Noch einmal"' in response.content.decode()


# --- background tasks -------------------------------------------------------------------------


def test_failed_tasks_show_exception_and_traceback(admin_client: Client) -> None:
    now = timezone.now()
    DBTaskResult.objects.create(
        task_path="leitplanke.core.tasks.prune_rate_limit_counters",
        args_kwargs={"args": [], "kwargs": {}},
        backend_name="default",
        run_after=now,
        status="FAILED",
        finished_at=now,
        exception_class_path="builtins.ValueError",
        traceback='Traceback (most recent call last):\n  File "x.py", line 1, in <module>\nValueError: disk <full>\n',
    )
    DBTaskResult.objects.create(
        task_path="leitplanke.core.tasks.prune_rate_limit_counters",
        args_kwargs={"args": [], "kwargs": {}},
        backend_name="default",
        run_after=now - dt.timedelta(minutes=1),
        status="READY",
        exception_class_path="",
        traceback="",
    )
    response = admin_client.get(reverse("settings:tasks"))
    content = response.content.decode()
    assert "prune_rate_limit_counters" in content
    assert "ValueError" in content and "disk &lt;full&gt;" in content
    assert "<details>" in content
    assert response.context["ready_count"] == 1


# --- audit log --------------------------------------------------------------------------------


def test_audit_log_filters(admin_client: Client, admin_user: User, agent_user: User) -> None:
    services.team_create(actor=admin_user, name="Gefiltert")
    response = admin_client.get(reverse("settings:audit"), {"action": "team."})
    events = response.context["page"].items
    assert events and all(event.action.startswith("team.") for event in events)
    assert "Gefiltert" in response.content.decode()
    by_object = admin_client.get(reverse("settings:audit"), {"object_type": "accounts.user", "object_id": str(agent_user.pk)})
    assert {event.object_id for event in by_object.context["page"].items} == {str(agent_user.pk)}
    by_actor = admin_client.get(reverse("settings:audit"), {"actor": admin_user.email.upper()})
    assert by_actor.context["page"].items and all(e.actor_label == admin_user.email for e in by_actor.context["page"].items)


def test_audit_log_pages(admin_client: Client, admin_user: User) -> None:
    for n in range(60):
        services.team_create(actor=admin_user, name=f"Seite {n}")
    first = admin_client.get(reverse("settings:audit"), {"action": "team.create"})
    assert len(first.context["page"].items) == 50
    second = admin_client.get(reverse("settings:audit") + first.context["next_url"])
    assert len(second.context["page"].items) == 10
    assert "action=team.create" in first.context["next_url"]
