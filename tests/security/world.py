"""One shared set of objects for the security suites: a user per role, two teams, a case in
each scope (own team, other team, no team) and one of every other object a URL can name.

`build_world()` runs inside a transaction the module fixture rolls back at its end
(`shared_world`), so a whole test module pays for it once."""

from __future__ import annotations

import copy
import datetime as dt
import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.test import Client, TestCase, override_settings
from django.utils import timezone

from leitplanke.accounts import services as accounts
from leitplanke.accounts.models import Role, Team, User
from leitplanke.cases import catalog_services, clock_services, list_services
from leitplanke.cases import services as cases
from leitplanke.cases.models import Attachment, Case, CaseClock, CaseType, Category, SavedView
from leitplanke.core.errors import DomainError
from leitplanke.core.inserts import insert_rows
from leitplanke.customers import services as customers
from leitplanke.decisions import shipped as shipped_tables
from leitplanke.decisions import table_services
from leitplanke.decisions.models import DecisionRecord, DecisionTable, Simulation
from leitplanke.intake import admin_services, public, replies, webhooks
from leitplanke.intake.models import PublicContact, ReplyTemplate, WebhookDelivery
from leitplanke.intake.services import email_ingest
from leitplanke.maturity import links
from leitplanke.maturity import services as maturity
from leitplanke.maturity.models import Recommendation
from leitplanke.processes import services as process_services
from leitplanke.processes.shipped import COMPLAINT
from tests.conftest import PASSWORD, REFERENCE_DATA, ROLE_KEYS, ensure_default_roles
from tests.decisions.tables import publish_shipped_tables
from tests.maturity.conftest import answers_at

# Who asks: anonymous, then every shipped role (tests/conftest.py ROLE_KEYS).
PRINCIPALS = ["anonymous", *ROLE_KEYS]


@dataclass
class World:
    team_own: Team
    team_other: Team
    users: dict[str, User]  # role key -> user in the own team
    other_user: User  # an agent of the other team
    cases: dict[str, Case]  # own / other / none
    attachments: dict[str, Attachment]
    status_tokens: dict[str, str]  # case scope -> status link token
    ids: dict[str, Any] = field(default_factory=dict)  # single objects by URL kwarg name
    own: dict[str, dict[str, Any]] = field(default_factory=dict)  # per principal: kwarg -> own object id
    other: dict[str, Any] = field(default_factory=dict)  # kwarg -> another user's object id
    sessions: dict[str, str] = field(default_factory=dict)  # principal -> session key
    api_clients: dict[str, Client] = field(default_factory=dict)
    clocks: dict[str, int] = field(default_factory=dict)  # case scope -> id of one of its clocks
    records: dict[str, int] = field(default_factory=dict)  # case scope -> id of a final decision record on it


def _reference_data() -> None:
    for module, function in REFERENCE_DATA:
        getattr(importlib.import_module(module), function)(apps, None)


def _token(user: User) -> str:
    for scopes in (["read", "write", "admin"], ["read", "write"], ["read"]):
        try:
            _row, plain = accounts.api_token_create(actor=user, name="matrix", scopes=scopes)
        except DomainError:  # a role may not hold the scope: the next smaller set
            pass
        else:
            return plain
    raise AssertionError(f"no API token for {user}")


def _completed_check(user: User) -> Any:
    assessment, _ = maturity.assessment_start(actor=user)
    maturity.assessment_answer(assessment=assessment, answers=answers_at(2))
    return maturity.assessment_complete(assessment=assessment)


def _png() -> Any:
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 0, 80)).save(buffer, format="PNG")
    return SimpleUploadedFile("logo.png", buffer.getvalue(), content_type="image/png")


def build_world() -> World:
    _reference_data()
    ensure_default_roles()
    own, other = Team.objects.create(name="Matrix own team"), Team.objects.create(name="Matrix other team")
    users: dict[str, User] = {}
    for key in ROLE_KEYS:
        users[key] = accounts.user_create(
            actor=None,
            email=f"matrix-{key}@example.org",
            full_name=f"Matrix {key}",
            password=PASSWORD,
            language="en",
            roles=[Role.objects.get(key=key)],
            teams=[own],
        )
    other_user = accounts.user_create(
        actor=None,
        email="matrix-other@example.org",
        full_name="Matrix other",
        password=PASSWORD,
        language="en",
        roles=[Role.objects.get(key="agent")],
        teams=[other],
    )
    admin = users["administrator"]
    customer = customers.customer_create(actor=admin, first_name="Erika", last_name="Mustermann", emails=["erika@example.org"])
    duplicate = customers.customer_create(actor=admin, first_name="Erika", last_name="Musterfrau")
    complaint = CaseType.objects.get(key="complaint")
    case_map: dict[str, Case] = {}
    attachments: dict[str, Attachment] = {}
    tokens: dict[str, str] = {}
    for scope, team in (("own", own), ("other", other), ("none", None)):
        case = cases.case_create(
            actor=admin, case_type=complaint, team=team, subject=f"Matrix {scope}", channel="email", customer=customer
        )
        attachments[scope] = cases.attachment_add(actor=admin, case=case, uploaded_file=("note.txt", b"plain text\n"))
        case_map[scope] = case
        tokens[scope] = replies.status_link_token(case)
    world = World(own, other, users, other_user, case_map, attachments, tokens)

    product = customers.product_create(actor=admin, code="MX-1", name_de="Strom", name_en="Power")
    contract = customers.contract_create(actor=admin, customer=customer, product=product, contract_number="MX-C-1")
    skill = accounts.skill_create(actor=admin, key="mx-skill", name_de="Skill", name_en="Skill", kind="language")
    accounts.user_skill_set(actor=admin, user=users["agent"], skill=skill, level=2)
    absence = accounts.absence_create(
        actor=admin, user=users["agent"], starts_on=dt.date(2030, 1, 1), ends_on=dt.date(2030, 1, 2), kind="vacation"
    )
    field_def = catalog_services.custom_field_create(
        actor=admin, case_type=complaint, key="mx_note", label_de="Notiz", label_en="Note", kind="text"
    )
    mailbox = admin_services.mailbox_create(
        actor=admin,
        password="Imap-Geheim-2026",
        name="Matrix",
        address="matrix@example.org",
        host="127.0.0.1",
        port=9,
        use_ssl=False,
        username="matrix",
        folder="INBOX",
        default_case_type=complaint,
    )
    endpoint = webhooks.webhook_endpoint_create(actor=admin, url="https://hooks.example.org/mx", events=["case.created"])
    endpoint2 = webhooks.webhook_endpoint_create(actor=admin, url="https://hooks.example.org/mx2", events=["case.created"])
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="case.created", payload={})
    inbound = email_ingest(b"garbage", source="api").inbound
    template = ReplyTemplate.objects.order_by("id").first()
    assert template is not None
    campaign = maturity.campaign_create(actor=admin, name="Matrix campaign")
    completed = _completed_check(admin)
    roadmap = maturity.roadmap_create(actor=admin, title="Matrix roadmap", assessment=completed)
    roadmap2 = maturity.roadmap_create(actor=admin, title="Matrix roadmap 2", assessment=completed)
    other_type = CaseType.objects.exclude(pk=complaint.pk).order_by("id").first()
    item = roadmap.items.order_by("id").first()
    category = Category.objects.order_by("id").first()
    public_assessment, public_token = maturity.assessment_start(language="en")
    world.ids = {
        "customer_id": customer.pk,
        "duplicate_id": duplicate.pk,
        "product_id": product.pk,
        "contract_id": contract.pk,
        "user_id": users["agent"].pk,
        "skill_id": skill.pk,
        "absence_id": absence.pk,
        "team_id": own.pk,
        "role_id": Role.objects.get(key="agent").pk,
        "case_type_id": complaint.pk,
        "field_id": field_def.pk,
        "category_id": category.pk if category else 1,
        "template_id": template.pk,
        "number": 1,
        "mailbox_id": mailbox.pk,
        "inbound_id": inbound.pk,
        "endpoint_id": endpoint.pk,
        "delivery_id": delivery.pk,
        "campaign_id": campaign.pk,
        "roadmap_id": roadmap.pk,
        "item_id": item.pk if item else 1,
        "recommendation_id": Recommendation.objects.order_by("id").first().pk,  # type: ignore[union-attr]
        "maturity_token": public_token,
        "invitation": links.invitation_token(campaign, "service_team"),
    }
    # Objects that belong to one user: each principal's own, and another user's.
    for key, user in users.items():
        assessment, _ = maturity.assessment_start(actor=user)
        token_row, _ = accounts.api_token_create(actor=user, name="own", scopes=["read"])
        try:
            view = list_services.saved_view_create(actor=user, name="Mine", filters={})
        except DomainError:  # read-only roles may not save views (issue 19 item 10): one of their own anyway
            view = SavedView.objects.create(owner=user, name="Mine", filters={})
        world.own[key] = {"assessment_id": assessment.pk, "token_id": token_row.pk, "view_id": view.pk}
    other_assessment, _ = maturity.assessment_start(actor=other_user)
    other_token, _ = accounts.api_token_create(actor=other_user, name="other", scopes=["read"])
    other_view = list_services.saved_view_create(actor=other_user, name="Theirs", filters={})
    world.other = {"assessment_id": other_assessment.pk, "token_id": other_token.pk, "view_id": other_view.pk}
    world.ids["public_assessment"] = public_assessment.pk
    # A respondent of the public check who asked to be contacted (Settings → maturity contacts).
    contact_assessment, _ = maturity.assessment_start(language="en")
    maturity.assessment_contact(assessment=contact_assessment, name="Mia Matrix", email="mia@example.org", consent=True)
    world.ids["contact_assessment"] = contact_assessment.pk
    # A draft of the complaint process (the editor's pages), one of its transitions.
    draft = process_services.definition_create(
        actor=admin, key="complaint", name_de="Beschwerde", name_en="Complaint", definition=copy.deepcopy(COMPLAINT)
    )
    world.ids.update(key=draft.key, version=draft.version, transition="start", state="acknowledged")
    # A decision table under the same key, published (v1) with a draft (v2), for the
    # decision-table API's `{key}` and `{version}`.
    table = table_services.table_import(
        actor=admin, key=draft.key, jdm=shipped_tables.jdm("routing"), tests=shipped_tables.tests("routing")
    )
    table_services.table_publish(actor=admin, table=table, revision=table.revision)
    table_draft = table_services.table_new_version(actor=admin, key=draft.key)
    assert table_draft.version == draft.version
    world.ids.update(table_key=table_draft.key, table_version=table_draft.version)  # the table editor's pages
    # A brand with a logo, and the organisation's logo (the public pages serve them).
    brand = accounts.brand_create(
        actor=admin, name="Matrix brand", slug="matrix", display_name="Matrix", from_address="service@matrix.example"
    )
    accounts.brand_logo_set(actor=admin, brand=brand, upload=_png())
    accounts.organisation_logo_set(actor=admin, upload=_png())
    world.ids.update(brand=brand.slug, brand_id=brand.pk)
    # Each scope's case gets a PSD2 clock (a rule with a holding reply, so an extension can be recorded).
    for scope, case in case_map.items():
        psd2 = clock_services.new_clocks(case, at=case.received_at, keys=["psd2_de"])
        for clock in psd2:
            clock.case_id = clock.case.pk
        insert_rows(psd2)
        world.clocks[scope] = CaseClock.objects.filter(case=case, rule_key="psd2_de").get().pk
    # The shipped goodwill tables, published; each scope's case gets a final decision record of
    # an agent (the own team's agent on the own case, the other team's agent elsewhere).
    publish_shipped_tables()
    for scope, case in case_map.items():
        decider = world.users["agent"] if scope == "own" else other_user
        world.records[scope] = DecisionRecord.objects.create(
            case=case, kind="goodwill", amount=10, currency="EUR", status="final", decided_by=decider,
            decided_at=timezone.now(), team=case.team,
        ).pk  # fmt: skip
    # A resolved case of the own team: its close step asks for the closing fields.
    resolved = cases.case_create(actor=admin, case_type=complaint, team=own, subject="Matrix resolved", channel="email")
    world.ids["resolved_case"] = cases.case_transition(actor=admin, case=resolved, transition="resolve").pk
    # An unconfirmed contact of the public form on a case of its own (the confirmation link).
    public_case = cases.case_create(actor=admin, case_type=complaint, team=own, subject="Matrix public", channel="email")
    contact = PublicContact.objects.create(case=public_case, first_name="Paul", last_name="Matrix", email="paul@example.org")
    world.ids["confirm_token"] = public.contact_confirm_token(contact)
    world.ids["completed_check"] = completed.pk
    # Second parents, for children named under the wrong one (test_a_child_under_another_parent…)
    world.ids["endpoint2_id"] = endpoint2.pk
    world.ids["roadmap2_id"] = roadmap2.pk
    world.ids["case_type2_id"] = other_type.pk if other_type else complaint.pk
    # A finished what-if simulation of a decision table (docs/decisions.md).
    goodwill = DecisionTable.objects.create(
        key="matrix-whatif",
        version=1,
        name_de="Kulanz",
        name_en="Goodwill",
        jdm=shipped_tables.jdm("goodwill_energy_billing"),
        tests=shipped_tables.tests("goodwill_energy_billing"),
    )
    simulation = Simulation.objects.create(
        table=goodwill,
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 3, 31),
        status="done",
        requested_at=timezone.now(),
        result={"evaluated": 0, "changed": 0, "counts": {}, "totals": [], "segments": [], "examples": {}},
    )
    world.ids["simulation_id"] = simulation.pk

    # Authority limits (agent 100, lead 1,000, administrator 5,000 EUR goodwill) and a pending
    # approval of a 250 EUR decision taken by the other team's agent on the own case.
    from leitplanke.decisions import approval_services, authority_services

    limit = authority_services.authority_limit_create(
        actor=admin, role=Role.objects.get(key="agent").pk, kind="goodwill", currency="EUR", per_decision="100"
    )
    authority_services.authority_limit_create(
        actor=admin, role=Role.objects.get(key="team_lead").pk, kind="goodwill", currency="EUR", per_decision="1000"
    )
    authority_services.authority_limit_create(
        actor=admin, role=Role.objects.get(key="administrator").pk, kind="goodwill", currency="EUR", per_decision="5000"
    )
    with transaction.atomic():
        record = DecisionRecord.objects.create(
            case=case_map["own"], kind="goodwill", amount=250, currency="EUR", status="pending",
            decided_by=other_user, decided_at=timezone.now(),
        )  # fmt: skip
        approval = approval_services.approval_request_open(record=record, reasons=["above_authority"], actor=other_user)
    world.ids.update(limit_id=limit.pk, approval_id=approval.pk)

    world.api_clients["anonymous"] = Client()
    for key, user in users.items():
        client = Client()
        client.force_login(user)
        world.sessions[key] = client.session.session_key or ""
        world.api_clients[key] = Client(headers={"Authorization": f"Bearer {_token(user)}"})
    return world


def client_of(world: World, principal: str) -> Client:
    """A fresh client with the principal's session: a request that logs out, changes the
    password or sets cookies does not change what the next request sends."""
    client = Client()
    if principal in world.sessions:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[principal]
    return client


def shared_world(django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[World]:
    """The module fixture's body: builds the world in a transaction that is rolled back at
    the end of the module (each test runs in a savepoint inside it)."""
    media = Path(tmp_path_factory.mktemp("matrix-files"))
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        from django.db import connection

        from leitplanke.core.audit_guards import install_guards

        install_guards(connection)
        with TestCase.captureOnCommitCallbacks(execute=True):
            world = build_world()
        try:
            yield world
        finally:
            transaction.set_rollback(True)
