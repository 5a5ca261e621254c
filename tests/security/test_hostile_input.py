"""Hostile input through every free-text field: forms, the API, e-mail. Each payload of
tests/security/payloads.py is stored as typed or refused with a 4xx / form error (NUL and
lone surrogates are always refused, or replaced where the transport decodes them), never
a 500; the page that shows it afterwards escapes it; the exports never carry a live formula.

The browser half (nothing executes when the pages are opened) is
tests/browser/test_hostile_input_browser.py."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client

from leitplanke.cases import services as cases
from leitplanke.cases.models import Case, CaseType
from leitplanke.customers import services as customers
from leitplanke.intake import public
from leitplanke.intake.services import email_ingest
from leitplanke.maturity import services as maturity
from leitplanke.maturity.engine.model import DIMENSION_KEYS
from leitplanke.maturity.models import Assessment
from tests.maturity.conftest import answers_at
from tests.security.formfill import encode, form_data
from tests.security.matrix import in_savepoint
from tests.security.payloads import CORE, FORMULAS, PAYLOADS, SHORT, STORABLE, UNSTORABLE, unstorable
from tests.security.world import World, client_of, shared_world

pytestmark = pytest.mark.django_db

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
INVISIBLE = " \u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\n"


@pytest.fixture(scope="module")
def world(django_db_blocker: Any, tmp_path_factory: Any, django_db_setup: Any) -> Iterator[World]:
    yield from shared_world(django_db_blocker, tmp_path_factory)


@pytest.fixture(autouse=True)
def no_bot_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """The public form refuses submissions faster than a person; the suite is faster."""
    monkeypatch.setattr(public, "MIN_FILL_SECONDS", 0)


def escaped(payload: str, html: str) -> bool:
    """A payload with markup characters never appears unescaped in a page."""
    return not any(char in payload for char in "<>\"'") or payload not in html


@dataclass
class Target:
    """One form: where it is, which of its fields are free text, who fills it."""

    label: str
    page: Callable[[World], str]
    fields: list[str]
    action: str = ""
    principal: str = "administrator"
    unique: dict[str, Callable[[int], str]] = field(default_factory=dict)  # fields that must differ per post
    extra: dict[str, Any] = field(default_factory=dict)  # required fields the empty form leaves empty
    result_page: bool = False  # success renders a result page (200) instead of redirecting
    refuse_only: bool = False  # a structured field (dates): every payload is refused


def key(prefix: str) -> Callable[[int], str]:
    return lambda n: f"{prefix}{n}"


def _own(world: World) -> int:
    return world.cases["own"].pk


TEXT2 = {"name_de": "Text", "name_en": "Text"}
LABELS2 = {"label_de": "Text", "label_en": "Text"}

TARGETS = [
    Target("case create", lambda w: "/cases/new/", ["subject", "description", "tags", "customer_number"]),
    Target("case edit", lambda w: f"/cases/{_own(w)}/edit/", ["subject", "description", "tags", "cf_mx_note"]),
    Target("saved view", lambda w: "/cases/", ["name"], action="/cases/views/"),
    Target(
        "bulk add tag",
        lambda w: "/cases/",
        ["tag"],
        action="/cases/bulk/",
        extra={"action": "add_tag", "ids": lambda w: [_own(w)]},
        result_page=True,
    ),
    Target("API token name", lambda w: "/accounts/profile/", ["name"], action="/tokens/", principal="agent", result_page=True),
    Target("skill", lambda w: "/settings/skills/", ["name_de", "name_en"], unique={"key": key("hx_skill_")}, extra=TEXT2),
    Target("case note", lambda w: f"/cases/{_own(w)}/", ["body_text"], action="/notes/"),
    Target("reply", lambda w: f"/intake/cases/{_own(w)}/reply/", ["subject", "body"], extra={"action": "send"}),
    Target(
        "customer create",
        lambda w: "/customers/new/",
        ["first_name", "last_name", "organisation_name", "street", "postal_code", "city", "vulnerability_reason"],
    ),
    Target("customer edit", lambda w: f"/customers/{w.ids['customer_id']}/edit/", ["first_name", "last_name", "city"]),
    Target("customer consent", lambda w: f"/customers/{w.ids['customer_id']}/", ["source", "note"], action="/consents/"),
    Target("product", lambda w: f"/customers/products/{w.ids['product_id']}/edit/", ["name_de", "name_en"]),
    Target(
        "case type",
        lambda w: "/settings/catalog/case-types/new/",
        ["name_de", "name_en"],
        unique={"key": key("hx_ct_")},
        extra=TEXT2,
    ),
    Target(
        "category",
        lambda w: "/settings/catalog/categories/new/",
        ["name_de", "name_en"],
        unique={"key": key("hx-cat-")},
        extra=TEXT2,
    ),
    Target(
        "custom field",
        lambda w: f"/settings/catalog/case-types/{w.ids['case_type_id']}/",
        ["label_de", "label_en"],
        action="/fields/new/",
        unique={"key": key("hx_cf_")},
        extra={"label_de": "Text", "label_en": "Text", "kind": "text"},
    ),
    Target(
        "reply template",
        lambda w: "/intake/templates/new/",
        ["name", "subject", "body"],
        unique={"key": key("hx-tpl-")},
        extra={"subject": "Betreff", "body": "Text"},
    ),
    Target("team", lambda w: "/settings/teams/new/", ["name", "description"]),
    Target(
        "role",
        lambda w: "/settings/roles/new/",
        ["name_de", "name_en", "description"],
        unique={"key": key("hx_role_")},
        extra=TEXT2,
    ),
    Target(
        "organisation",
        lambda w: "/settings/organisation/",
        ["name", "public_name", "contact_phone", "contact_address", "imprint_url", "privacy_url", "contact_email"],
    ),
    Target(
        "brand",
        lambda w: "/settings/brands/new/",
        ["name", "display_name", "signature", "contact_phone", "reply_to", "contact_email", "from_address"],
        extra={"name": "Hx brand", "slug": "hx-brand", "display_name": "Hx", "from_address": "hx@example.org"},
    ),
    Target("brand edit", lambda w: f"/settings/brands/{w.ids['brand_id']}/", ["display_name", "signature"]),
    Target(
        "process draft",
        lambda w: f"/settings/processes/{w.ids['key']}/{w.ids['version']}/",
        ["name_de", "name_en"],
    ),
    Target(
        "process step",
        lambda w: f"/settings/processes/{w.ids['key']}/{w.ids['version']}/steps/{w.ids['transition']}/",
        ["label_de", "label_en", "guard_label_de", "guard_label_en", "guard"],
    ),
    Target(
        "process step checklist and effects",
        lambda w: f"/settings/processes/{w.ids['key']}/{w.ids['version']}/steps/{w.ids['transition']}/",
        ["checklist-0-label_de", "checklist-0-label_en", "checklist-0-key", "effects-0-value"],
        extra={
            "checklist-0-key": "hx_item",
            "checklist-0-label_de": "Geprüft",
            "checklist-0-label_en": "Checked",
            "effects-0-type": "set_field",
            "effects-0-field": "resolution_summary",
            "effects-0-value": "Text",
        },
    ),
    Target(
        "process state",
        lambda w: f"/settings/processes/{w.ids['key']}/{w.ids['version']}/new-state/",
        ["label_de", "label_en"],
        unique={"key": key("hx_state_")},
        extra=LABELS2,
    ),
    # keys: letters, digits, "_" and "-" only (a few plain payloads pass); each post runs in a
    # savepoint, so no key needs to differ
    Target(
        "process state key",
        lambda w: f"/settings/processes/{w.ids['key']}/{w.ids['version']}/new-state/",
        ["key"],
        extra=LABELS2,
    ),
    Target(
        "process step key",
        lambda w: f"/settings/processes/{w.ids['key']}/{w.ids['version']}/new-step/",
        ["key"],
        extra={**LABELS2, "sources": ["new"], "target": "closed"},
    ),
    # renaming a key in a draft's forms: the same key rules (a valid payload renames, in a savepoint)
    Target(
        "process state rename",
        lambda w: f"/settings/processes/{w.ids['key']}/{w.ids['version']}/states/{w.ids['state']}/",
        ["key"],
    ),
    Target(
        "process step rename",
        lambda w: f"/settings/processes/{w.ids['key']}/{w.ids['version']}/steps/{w.ids['transition']}/",
        ["key"],
    ),
    Target(
        "process state edit",
        lambda w: f"/settings/processes/{w.ids['key']}/{w.ids['version']}/states/{w.ids['state']}/",
        ["label_de", "label_en"],
    ),
    Target(
        "process new step",
        lambda w: f"/settings/processes/{w.ids['key']}/{w.ids['version']}/new-step/",
        ["label_de", "label_en"],
        unique={"key": key("hx_step_")},
        extra={**LABELS2, "sources": ["new"], "target": "closed"},
    ),
    Target(
        "process escalation levels",
        lambda w: f"/settings/processes/{w.ids['key']}/{w.ids['version']}/escalation/",
        ["levels-0-label_de", "levels-0-label_en"],
    ),
    # the decision table editor: a cell, a rule description or a column that does not compile
    # is stored in the draft with its problem (422, marked in the cell), shown escaped
    Target(
        "decision table draft",
        lambda w: f"/settings/decisions/{w.ids['table_key']}/{w.ids['table_version']}/",
        [
            "rule-0-description",
            "rule-0-description_de",
            "name_de",
            "name_en",
            "description",
            "rule-0-in-0",
            "rule-1-out-0",
            "in-0-name",
            "out-0-field",
        ],
    ),
    Target(
        "decision table test case",
        lambda w: f"/settings/decisions/{w.ids['table_key']}/{w.ids['table_version']}/",
        ["test-0-name", "test-0-inputs", "test-0-expected"],
    ),
    Target(
        "decision table new",
        lambda w: "/settings/decisions/",
        ["name_de", "name_en"],
        action="/new/",
        unique={"key": key("hx-table-")},
        extra={"name_de": "Hx", "name_en": "Hx", "decision_kind": "none"},
    ),
    Target(
        "decision table try",
        lambda w: f"/settings/decisions/{w.ids['table_key']}/{w.ids['table_version']}/",
        ["inputs"],
        action="/try/",
        result_page=True,
        refuse_only=True,  # JSON, not free text: no payload is a JSON object
    ),
    # closing days are dates, not free text: every payload is refused (no 500, shown escaped)
    Target("deadline settings", lambda w: "/settings/deadlines/", ["closures"], refuse_only=True),
    # the what-if simulation's period: dates, so every payload is refused
    Target("what-if simulation", lambda w: "/decisions/simulations/", ["start", "end"], refuse_only=True),
    # authority limits: the currency is three letters, the amounts are numbers — every payload is refused
    Target(
        "authority limit",
        lambda w: "/settings/authority/new/",
        ["currency", "per_decision"],
        extra={
            "role": lambda w: str(w.users["agent"].roles.get().pk),
            "kind": "redress",
            "currency": "EUR",
            "per_decision": "10",
        },
        refuse_only=True,
    ),
    # the yearly limit is optional (empty: no limit); a payload is no amount: refused
    Target(
        "authority limit per year",
        lambda w: "/settings/authority/new/",
        ["per_customer_year"],
        extra={
            "role": lambda w: str(w.users["agent"].roles.get().pk),
            "kind": "redress",
            "currency": "EUR",
            "per_decision": "10",
        },
        refuse_only=True,
    ),
    # the lead's comment on an approval (rejecting needs one; the decider reads it on the timeline)
    Target(
        "approval comment",
        lambda w: "/decisions/approvals/",
        ["comment"],
        action="/decide/",
        principal="team_lead",
        extra={"action": "reject"},
    ),
    Target(
        "reply composer",
        lambda w: f"/intake/cases/{_own(w)}/composer/",
        ["subject", "body", "cc"],
        extra={"action": "send", "to": "erika@example.org", "subject": "Betreff", "body": "Text"},
    ),
    Target("customer title", lambda w: f"/customers/{w.ids['customer_id']}/edit/", ["title"]),
    Target(
        "decision",
        lambda w: f"/cases/{_own(w)}/decisions/?table=goodwill_energy_billing&ctx_disputed_amount=300&evaluate=1",
        ["message_to_customer", "justification", "action"],
        action="/decisions/new/",
        principal="agent",
    ),
    Target(
        "decision reversal",
        lambda w: f"/cases/{_own(w)}/decisions/",
        ["justification", "message_to_customer"],
        action="/reversal/",
        principal="team_lead",
        extra={"justification": "Text"},
    ),
    Target(
        "decision correction",
        lambda w: f"/cases/{_own(w)}/decisions/",
        ["justification", "message_to_customer", "action"],
        action="/correction/",
        principal="agent",
        extra={"justification": "Text"},
    ),
    Target(
        "case close step",
        lambda w: f"/cases/{w.ids['resolved_case']}/steps/close/",
        ["resolution_summary", "note"],
        extra={"resolution_summary": "Text", "outcome": "upheld", "root_cause": "process"},
    ),
    Target("user", lambda w: "/settings/users/new/", ["full_name"], unique={"email": lambda n: f"hx{n}@example.org"}),
    Target(
        "webhook",
        lambda w: "/intake/webhooks/new/",
        ["description"],
        extra={"url": "https://hooks.example.org/hx", "events": ["case.created"]},
    ),
    Target("campaign", lambda w: "/maturity/campaigns/new/", ["name", "description"]),
    Target(
        "roadmap item",
        lambda w: f"/maturity/roadmaps/{w.ids['roadmap_id']}/items/{w.ids['item_id']}/",
        ["title", "goal", "owner", "indicator"],
    ),
    Target(
        "recommendation",
        lambda w: "/settings/maturity/recommendations/new/",
        ["title_de", "title_en", "text_de", "text_en", "owner_de", "owner_en", "indicator_de", "indicator_en"],
        unique={"key": key("hx_rec_")},
        extra={
            "dimension": DIMENSION_KEYS[0],
            "levels": ["1"],
            **dict.fromkeys(
                ("title_de", "title_en", "text_de", "text_en", "owner_de", "owner_en", "indicator_de", "indicator_en"), "Text"
            ),
        },
    ),
    Target(
        "public complaint form",
        lambda w: "/complaint/",
        ["subject", "description", "first_name", "last_name", "phone", "customer_number"],
        principal="anonymous",
        unique={"email": lambda n: f"hx{n}@example.org"},
        extra={"description": "Text", "first_name": "Erika", "last_name": "Muster", "consent": "on"},
    ),
    Target(
        "public status message",
        lambda w: f"/complaint/status/{w.status_tokens['own']}/",
        ["message"],
        principal="anonymous",
    ),
    Target(
        "maturity contact",
        lambda w: f"/check/r/{w.ids['maturity_token']}/result/",
        ["name", "organisation"],
        action="/contact/",
        principal="anonymous",
        unique={"email": lambda n: f"hx{n}@example.org"},
        extra={"consent": "on"},
    ),
]


@dataclass
class Tally:
    stored: int = 0
    refused: int = 0
    problems: list[str] = field(default_factory=list)


def _complete_public_check(world: World) -> None:
    assessment = Assessment.objects.get(pk=world.ids["public_assessment"])
    if not assessment.is_complete:
        maturity.assessment_answer(assessment=assessment, answers=answers_at(2))
        maturity.assessment_complete(assessment=assessment)


def _post_form(client: Client, url: str, data: dict[str, Any]) -> HttpResponse:
    return client.post(url, encode(data), content_type="application/x-www-form-urlencoded")


def _after(client: Client, response: HttpResponse) -> HttpResponse | None:
    if response.status_code in (301, 302, 303):
        return client.get(response["Location"])
    return None


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.label)
def test_form_fields_store_or_refuse_hostile_text(world: World, target: Target) -> None:
    _complete_public_check(world)
    client = client_of(world, target.principal)
    page_url = target.page(world)
    page = client.get(page_url)
    assert page.status_code == 200, (target.label, page.status_code)
    html = page.content.decode()
    tally = Tally()
    counter = 0
    for index, name in enumerate(target.fields):
        extra = {k: v(world) if callable(v) else v for k, v in target.extra.items()}
        base = {**form_data(html, field=name, action_contains=target.action), **extra}
        action = _action(html, name, target.action) or page_url
        for payload in PAYLOADS if index == 0 else CORE:
            counter += 1
            data = {**base, name: payload, **{k: make(counter) for k, make in target.unique.items()}}

            def send(data: dict[str, Any] = data, payload: str = payload, action: str = action) -> HttpResponse:
                response = _post_form(client, action, data)
                if any(char in payload for char in "<>\"'") or "\x00" in payload:
                    response.shown = _after(client, response)  # type: ignore[attr-defined]
                return response

            response = in_savepoint(send)
            _judge(tally, f"{target.label}.{name}", payload, response, result_page=target.result_page)
    assert not tally.problems, f"{target.label}: {len(tally.problems)} problems\n" + "\n".join(tally.problems[:30])
    if target.refuse_only:
        assert not tally.stored, f"{target.label}: {tally.stored} payloads stored in a structured field"
    else:
        assert tally.stored, f"{target.label}: no payload was stored at all (the base form is invalid?)"


def _action(html: str, field: str, contains: str) -> str:
    from tests.security.formfill import form_action

    action = form_action(html, field=field, action_contains=contains)
    return action


def _judge(tally: Tally, where: str, payload: str, response: HttpResponse, *, result_page: bool = False) -> None:
    label = f"{where} ← {payload[:40]!r}"
    if response.status_code >= 500:
        tally.problems.append(f"{label}: {response.status_code}")
        return
    shown = getattr(response, "shown", None)
    if shown is not None and shown.status_code >= 500:
        tally.problems.append(f"{label}: the page after it answered {shown.status_code}")
        return
    success = response.status_code in (301, 302, 303) and not _has_error_message(response)
    success = success or (result_page and response.status_code == 200 and b"Not found" not in response.content)
    if success and "\x00" in payload:
        tally.problems.append(f"{label}: NUL was accepted")
    if success:
        tally.stored += 1
    else:
        tally.refused += 1
    for page in (response, shown):
        html = page is not None and page.get("Content-Type", "").startswith("text/html")
        if html and not escaped(payload, page.content.decode()):  # type: ignore[union-attr]
            tally.problems.append(f"{label}: shown unescaped on {page.wsgi_request.path}")


def _has_error_message(response: HttpResponse) -> bool:
    from tests.security.matrix import _error_messages

    return bool(_error_messages(response))


# --- the API --------------------------------------------------------------------------------


DECISION = {"table_key": "goodwill_energy_billing", "context": {"disputed_amount": 300}, "kind": "goodwill", "amount": "45.00",
            "currency": "EUR", "justification": "x"}  # fmt: skip
API_TARGETS: list[tuple[str, str, str, Callable[[World, str], dict[str, Any]]]] = [
    ("POST", "/api/v1/cases", "subject", lambda w, p: {"case_type": "complaint", "channel": "email", "subject": p}),
    (
        "POST",
        "/api/v1/cases",
        "description",
        lambda w, p: {"case_type": "complaint", "channel": "email", "subject": "x", "description": p},
    ),
    ("POST", "/api/v1/cases", "tags", lambda w, p: {"case_type": "complaint", "channel": "email", "subject": "x", "tags": [p]}),
    (
        "POST",
        "/api/v1/cases",
        "custom_fields",
        lambda w, p: {"case_type": "complaint", "channel": "email", "subject": "x", "custom_fields": {"mx_note": p}},
    ),
    ("POST", "/api/v1/cases/{case}/interactions", "body_text", lambda w, p: {"kind": "internal_note", "body_text": p}),
    ("POST", "/api/v1/cases/{case}/interactions", "subject", lambda w, p: {"kind": "phone_note", "subject": p, "body_text": "x"}),
    ("POST", "/api/v1/cases/{case}/interactions", "body_html", lambda w, p: {"kind": "internal_note", "body_html": p}),
    ("POST", "/api/v1/cases/{case}/transitions", "note", lambda w, p: {"transition": "start", "note": p}),
    ("POST", "/api/v1/cases/{case}/escalations", "reason", lambda w, p: {"reason": p}),
    ("POST", "/api/v1/customers", "last_name", lambda w, p: {"kind": "person", "first_name": "x", "last_name": p}),
    ("POST", "/api/v1/customers", "first_name", lambda w, p: {"kind": "person", "first_name": p, "last_name": "x"}),
    ("POST", "/api/v1/customers/{customer}/consents", "note", lambda w, p: {"purpose": "marketing", "granted": True, "note": p}),
    ("POST", "/api/v1/cases/{case}/clocks/{clock}/extensions", "note", lambda w, p: {"event": "holding_reply", "note": p}),
    *[
        ("POST", "/api/v1/cases/{case}/decisions", name, lambda w, p, name=name: {**DECISION, name: p})
        for name in ("message_to_customer", "justification", "action")
    ],
    *[
        (
            "POST",
            "/api/v1/cases/{case}/decisions/{record}/correction",
            name,
            lambda w, p, name=name: {"kind": "goodwill", "amount": "10.00", "currency": "EUR", "justification": "x", name: p},
        )
        for name in ("justification", "message_to_customer", "action")
    ],
    (
        "POST",
        "/api/v1/cases/{case}/decisions/{record}/reversal",
        "justification",
        lambda w, p: {"justification": p},
    ),
    (
        "POST",
        "/api/v1/deadlines/rules",
        "name_de",
        lambda w, p: {
            "key": "psd2_de",
            "valid_from": "2031-01-01",
            "parameters": {"measure": "business_days", "duration": 15},
            "name_de": p,
            "name_en": p,
            "legal_basis": p,
        },
    ),
    (
        "POST",
        "/api/v1/deadlines/compute",
        "pauses.reason",
        lambda w, p: {
            "rule_key": "psd2_de",
            "received_at": "2026-01-05T10:00:00+01:00",
            "pauses": [{"start": "2026-01-06T10:00:00+01:00", "end": "2026-01-07T10:00:00+01:00", "reason": p}],
        },
    ),
    (
        "POST",
        "/api/v1/processes",
        "name_de",
        lambda w, p: {"key": "complaint", "name_de": p, "name_en": p, "definition": _labelled(p)},
    ),
    ("POST", "/api/v1/processes/validate", "definition", lambda w, p: {"key": "complaint", "definition": _labelled(p)}),
    (
        "POST",
        "/api/v1/decision-tables",
        "name_de",
        lambda w, p: {"key": "hostile_table", "name_de": p, "name_en": p, "jdm": _table(p), "tests": _table_tests(p)},
    ),
    (
        "POST",
        "/api/v1/decision-tables",
        "description",
        lambda w, p: {"key": "hostile_table", "name_de": "x", "name_en": "x", "description": p, "jdm": _table("x")},
    ),
    ("POST", "/api/v1/decision-tables/routing/evaluate", "inputs", lambda w, p: {"inputs": {"category": p, "segment": p}}),
    ("PATCH", "/api/v1/cases/{case}", "subject", lambda w, p: {"subject": p}),
    ("POST", "/api/v1/approvals/{approval}/reject", "comment", lambda w, p: {"comment": p}),
    ("PATCH", "/api/v1/customers/{customer}", "last_name", lambda w, p: {"last_name": p}),
]


def _labelled(payload: str) -> dict[str, Any]:
    """The shipped complaint process with the payload as a state's and a step's labels."""
    import copy

    from leitplanke.processes.shipped import COMPLAINT

    definition = copy.deepcopy(COMPLAINT)
    definition["states"][0]["label_en"] = definition["transitions"][0]["label_de"] = payload
    return definition


def _table(payload: str) -> dict[str, Any]:
    """The shipped routing table with the payload as the table's name and a rule's descriptions
    (English and German)."""
    from leitplanke.decisions import shipped

    jdm = shipped.jdm("routing")
    node = next(n for n in jdm["nodes"] if n["type"] == "decisionTableNode")
    node["name"] = node["content"]["rules"][0]["_description"] = payload
    node["content"]["rules"][1]["_description_de"] = payload
    return jdm


def _table_tests(payload: str) -> list[dict[str, Any]]:
    from leitplanke.decisions import shipped

    tests = shipped.tests("routing")
    tests[0]["name"] = payload
    return tests


@pytest.mark.parametrize(("method", "path", "name", "body"), API_TARGETS, ids=lambda v: v if isinstance(v, str) else "")
def test_api_fields_store_or_refuse_hostile_text(
    world: World, method: str, path: str, name: str, body: Callable[[World, str], dict[str, Any]]
) -> None:
    client = world.api_clients["administrator"]
    url = path.format(
        case=world.cases["own"].pk,
        customer=world.ids["customer_id"],
        clock=world.clocks["own"],
        approval=world.ids["approval_id"],
        record=world.records["own"],
    )
    problems = []
    stored = 0
    for payload in PAYLOADS:
        raw = json.dumps(body(world, payload))  # \ud800 goes out as the JSON escape a client would send
        headers = {"If-Match": str(client.get(url).headers.get("ETag", "*"))} if method == "PATCH" else {}
        response = in_savepoint(
            lambda raw=raw, headers=headers: client.generic(method, url, raw, content_type="application/json", headers=headers)
        )
        label = f"{method} {path} {name} ← {payload[:40]!r}"
        if response.status_code >= 500:
            problems.append(f"{label}: {response.status_code}")
        elif unstorable(payload) and response.status_code < 400:
            problems.append(f"{label}: accepted ({response.status_code}); must be 422")
        elif unstorable(payload) and response.headers.get("Content-Type", "").split(";")[0] != "application/problem+json":
            problems.append(f"{label}: refusal is not a problem document")
        elif response.status_code < 300:
            stored += 1
    assert not problems, "\n".join(problems[:30])
    assert stored, f"{method} {path} {name}: nothing stored"


# --- e-mail ---------------------------------------------------------------------------------


def _header(value: str) -> str:
    """An RFC 2047 encoded word, the way a mail client puts any text into a header."""
    from email.header import Header

    return Header(value.encode("utf-8", "surrogatepass").decode("utf-8", "replace"), "utf-8").encode()


def _mail(n: int, payload: str) -> bytes:
    body = payload.encode("utf-8", "surrogatepass")
    name = _header(payload[:200])
    return (
        (
            f"From: {name} <sender{n}@example.org>\r\n"
            f"To: service@example.org\r\n"
            f"Subject: {name}\r\n"
            f"Message-ID: <hostile{n}@example.org>\r\n"
            f"MIME-Version: 1.0\r\n"
            f'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
            f"--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        ).encode()
        + body
        + (
            f"\r\n--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename*=utf-8''"
            f"{_quote(payload[:150])}.txt\r\n\r\nattached\r\n--b--\r\n"
        ).encode()
    )


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def test_e_mail_headers_bodies_and_attachment_names_carry_hostile_text(world: World) -> None:
    """Subject, sender name, body and attachment name of incoming mail: every payload opens
    a case (mail cannot be refused; NUL and surrogates become U+FFFD), shown escaped."""
    admin = client_of(world, "administrator")
    problems = []
    for n, payload in enumerate(PAYLOADS):

        def deliver(n: int = n, payload: str = payload) -> HttpResponse:
            result = email_ingest(_mail(n, payload), source="api")
            if result.case is None:
                problems.append(f"mail {n} {payload[:30]!r}: {result.status}, no case")
                return HttpResponse()
            page = admin.get(f"/cases/{result.case.pk}/")
            if page.status_code != 200:
                problems.append(f"mail {n} {payload[:30]!r}: case page {page.status_code}")
            elif not escaped(payload, page.content.decode()):
                problems.append(f"mail {n} {payload[:30]!r}: shown unescaped")
            stored = Case.objects.get(pk=result.case.pk)
            if "\x00" in stored.subject + stored.description:
                problems.append(f"mail {n}: NUL stored")
            return page

        in_savepoint(deliver)
    assert not problems, "\n".join(problems[:30])


# --- exports --------------------------------------------------------------------------------


def live_formula(cell: str) -> bool:
    """A cell a spreadsheet would evaluate: its first visible character starts a formula."""
    if cell.startswith(("\t", "\r")):
        return True
    return cell.lstrip(INVISIBLE).startswith(FORMULA_START)


def xlsx_strings(content: bytes) -> tuple[list[str], list[str]]:
    """The text cells of an XLSX (shared and inline strings) and any formula elements."""
    import zipfile
    from xml.etree import ElementTree

    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    texts: list[str] = []
    formulas: list[str] = []
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if name == "xl/sharedStrings.xml" or name.startswith("xl/worksheets/sheet"):
                root = ElementTree.fromstring(archive.read(name))  # noqa: S314 - our own export
                for item in root.iter(f"{main}si"):
                    texts.append("".join(t.text or "" for t in item.iter(f"{main}t")))
                for item in root.iter(f"{main}is"):
                    texts.append("".join(t.text or "" for t in item.iter(f"{main}t")))
                formulas += [f.text or "" for f in root.iter(f"{main}f")]
    return texts, formulas


def test_formula_payloads_are_neutralised_in_every_export(world: World) -> None:
    """Subject, customer, team and responsible person carry each formula; the CSV and the
    XLSX of the case list and the roadmap CSV are read back cell by cell."""
    from leitplanke.accounts.models import Team
    from leitplanke.maturity.models import RoadmapItem

    admin = world.users["administrator"]
    complaint = CaseType.objects.get(key="complaint")
    for payload in FORMULAS:
        team = Team.objects.create(name=payload)
        customer = customers.customer_create(actor=admin, first_name=payload, last_name=payload)
        cases.case_create(actor=admin, case_type=complaint, team=team, subject=payload, channel="email", customer=customer)
    RoadmapItem.objects.filter(roadmap_id=world.ids["roadmap_id"]).update(
        title=FORMULAS[0], goal=FORMULAS[6], owner=FORMULAS[4], indicator=FORMULAS[9]
    )
    client = client_of(world, "administrator")

    csv_response = client.get("/cases/export.csv")
    assert csv_response.status_code == 200
    csv_text = b"".join(csv_response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    csv_cells = [cell for row in csv.reader(io.StringIO(csv_text)) for cell in row]

    xlsx_response = client.get("/cases/export.xlsx")
    assert xlsx_response.status_code == 200
    content = b"".join(xlsx_response.streaming_content) if xlsx_response.streaming else xlsx_response.content  # type: ignore[attr-defined]
    xlsx_cells, formulas = xlsx_strings(content)
    assert not formulas, f"the XLSX holds formula cells: {formulas}"

    roadmap_response = client.get(f"/maturity/roadmaps/{world.ids['roadmap_id']}/roadmap.csv")
    assert roadmap_response.status_code == 200
    roadmap_cells = [cell for row in csv.reader(io.StringIO(roadmap_response.content.decode("utf-8-sig"))) for cell in row]

    for name, cells in (("cases CSV", csv_cells), ("cases XLSX", xlsx_cells), ("roadmap CSV", roadmap_cells)):
        shown = [cell for cell in cells if any(payload.strip(INVISIBLE)[1:] in cell for payload in FORMULAS)]
        assert len(shown) >= 3, f"{name}: the payloads are not in the export at all"
        live = [cell for cell in cells if live_formula(cell)]
        assert not live, f"{name}: cells that a spreadsheet evaluates: {live}"


def test_every_payload_is_in_the_list(world: World) -> None:
    """The counts the report quotes: payloads in all, and how many must be refused."""
    assert len(PAYLOADS) >= 60
    assert len(UNSTORABLE) >= 4
    assert len(STORABLE) + len(UNSTORABLE) == len(PAYLOADS)


# --- attachment names and outgoing headers ---------------------------------------------------


def test_attachment_names_from_uploads_are_stored_shown_escaped_and_sent_back_safely(world: World) -> None:
    """Each short payload as the name of an uploaded file (web form and API): stored or
    refused, never a 500; the case page escapes it; the download's Content-Disposition
    carries no line break (no header injection)."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import TestCase

    admin = client_of(world, "administrator")
    api = world.api_clients["administrator"]
    case_id = world.cases["own"].pk
    problems = []
    stored = 0
    for payload in [*SHORT, "nul\x00name"]:
        name = payload.replace("/", "_")[:120] + ".txt"

        def upload(name: str = name, payload: str = payload) -> HttpResponse:
            nonlocal stored
            for send in (
                lambda: admin.post(f"/cases/{case_id}/attachments/", {"file": SimpleUploadedFile(name, b"text\n", "text/plain")}),
                lambda: api.post(
                    f"/api/v1/cases/{case_id}/attachments", {"file": SimpleUploadedFile(name, b"text\n", "text/plain")}
                ),
            ):
                with TestCase.captureOnCommitCallbacks(execute=True):  # the file moves into place on commit
                    response = send()
                if response.status_code >= 500:
                    problems.append(f"upload {payload[:30]!r}: {response.status_code}")
                elif response.status_code < 400:
                    stored += 1
            page = admin.get(f"/cases/{case_id}/")
            if not escaped(payload, page.content.decode()):
                problems.append(f"upload {payload[:30]!r}: shown unescaped")
            for attachment in world.cases["own"].attachments.order_by("-id")[:2]:
                download = admin.get(f"/cases/{case_id}/attachments/{attachment.pk}/")
                disposition = download.get("Content-Disposition", "")
                if download.status_code != 200 or "\r" in disposition or "\n" in disposition:
                    problems.append(f"download {payload[:30]!r}: {download.status_code} {disposition!r}")
            return page

        in_savepoint(upload)
    assert not problems, "\n".join(problems[:30])
    assert stored >= len(SHORT)


def test_reply_subjects_with_line_breaks_inject_no_header(world: World) -> None:
    """A subject typed with CR/LF and a header after it: the reply is sent (or refused), one
    subject line, no extra recipient."""
    from django.core import mail
    from django.test import TestCase

    admin = client_of(world, "administrator")
    case_id = world.cases["own"].pk
    sent = 0
    for payload in ("x\r\nBcc: victim@example.org", "x\nSubject: injected", "x\rX-Injected: 1", "\r\n\r\n<b>body</b>"):
        mail.outbox.clear()

        def send(payload: str = payload) -> HttpResponse:
            nonlocal sent
            with TestCase.captureOnCommitCallbacks(execute=True):  # the send task runs on commit
                response = admin.post(
                    f"/intake/cases/{case_id}/reply/",
                    {"action": "send", "to": "erika@example.org", "subject": payload, "body": "Guten Tag"},
                )
            assert response.status_code < 500, response.status_code
            sent += len(mail.outbox)
            for message in mail.outbox:
                assert message.recipients() == ["erika@example.org"], message.recipients()
                headers = message.message()
                assert headers["Bcc"] is None and headers["X-Injected"] is None, headers.as_string()[:500]
                assert len(headers.get_all("Subject") or []) == 1
                assert "\n" not in message.subject and "\r" not in message.subject
            return response

        in_savepoint(send)
    assert sent, "no reply was sent: the test proves nothing"


# --- filters (query strings) and answers that are choices ------------------------------------

FILTER_PAGES = [
    "/cases/",
    "/customers/",
    "/settings/users/",
    "/settings/audit/",
    "/intake/inbound/",
    "/decisions/consistency/",
]


@pytest.mark.parametrize("path", FILTER_PAGES)
def test_filter_fields_take_hostile_text_without_error(world: World, path: str) -> None:
    """Every field of the page's filter form (GET) gets each payload: a page or a 400 (NUL
    and lone surrogates), never a 500, and the filter value is shown escaped."""
    from urllib.parse import quote

    from tests.security.formfill import _FormParser

    client = client_of(world, "administrator")
    parser = _FormParser("", "")
    parser.feed(client.get(path).content.decode())
    names = sorted({name for form in parser.forms if form["method"] == "get" for name in form["names"]} - {"cursor"})
    assert names, f"{path}: no filter form"
    problems = []
    for name in names:
        for payload in CORE:
            query = f"{quote(name)}={quote(payload.encode('utf-8', 'surrogatepass'))}"
            response = client.get(f"{path}?{query}")
            if response.status_code >= 500:
                problems.append(f"{path}?{name}={payload[:30]!r}: {response.status_code}")
            elif unstorable(payload) and "\x00" in payload and response.status_code != 400:
                problems.append(f"{path}?{name}={payload[:30]!r}: NUL answered {response.status_code}")
            elif not escaped(payload, response.content.decode()):
                problems.append(f"{path}?{name}={payload[:30]!r}: shown unescaped")
    assert not problems, "\n".join(problems[:30])


def test_maturity_answers_that_are_not_choices_are_refused(world: World) -> None:
    """Answers are choices: any payload as an answer is refused (4xx), never a 500."""
    from leitplanke.maturity.engine.model import questions_of

    client = client_of(world, "anonymous")
    _assessment, token = maturity.assessment_start(language="en")
    question = questions_of(DIMENSION_KEYS[0])[0].key
    for payload in PAYLOADS:
        response = in_savepoint(
            lambda payload=payload: _post_form(client, f"/check/r/{token}/page/1/", {f"q-{question}": payload, "go": "next"})
        )
        assert 400 <= response.status_code < 500, (payload[:30], response.status_code)
