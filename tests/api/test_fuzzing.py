"""The API fuzzing suite (issue 19): Schemathesis against `/api/v1/openapi.json`, in process.

The document is loaded from the WSGI application as a client would load it, and every
operation in it is tested as an administrator, an agent and the auditor (bearer tokens made
by the `world` fixture): examples from the document, Schemathesis' coverage cases (the
boundaries of every constraint, missing and wrong types, unexpected methods) and random
fuzzing, both schema-valid and schema-violating input. Every response must:

- not be a 5xx (`not_a_server_error`);
- have a documented status code, content type, headers and body (`status_code_conformance`,
  `content_type_conformance`, `response_headers_conformance`, `response_schema_conformance`);
- refuse schema-violating input (`negative_data_rejection`: `true` as an id, `0` as a date);
- not ignore authentication (`ignored_auth`: Schemathesis repeats requests without a token).

Left out: `positive_data_acceptance` — a schema-valid request may rightly be refused for
what the schema cannot say (an id that names no row, a step not possible from the current
status, If-Match naming an old version).

Bounded for CI (see docs/api.md): `MAX_EXAMPLES` per operation and role, no deadline,
derandomised (the same cases on every run), no example database. Path ids are steered to
the world's real rows two times in three, so that operations reach their services rather
than answering 404 throughout. `LEITPLANKE_FUZZ_EXAMPLES` raises the bound for a longer run;
`LEITPLANKE_FUZZ_LOG=<file>` appends one JSON line per operation and role (requests, statuses).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from leitplanke.accounts import services as accounts
from leitplanke.accounts.models import Team, User
from leitplanke.cases import services as cases
from leitplanke.cases.models import Case, Category
from leitplanke.customers import services as customers
from leitplanke.customers.models import Customer
from leitplanke.decisions import record_services as decisions
from leitplanke.decisions.models import DecisionTable
from leitplanke.processes.models import ProcessDefinition
from tests.decisions.tables import publish_shipped_tables

MAX_EXAMPLES = int(os.environ.get("LEITPLANKE_FUZZ_EXAMPLES", "25"))
ROLES = ("administrator", "agent", "auditor")
SCOPES = {"administrator": ["read", "write", "admin"], "agent": ["read", "write"], "auditor": ["read"]}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
# Query parameters and headers the document does not name are ignored, as HTTP intends (the
# case list reads its `cf.<key>` filters by name): sending them is no schema violation.
schema.config.generation.update(allow_extra_parameters=False)


@st.composite
def rfc822_messages(draw: st.DrawFn) -> bytes:
    """Raw e-mail for the mail gateway: well-formed headers around arbitrary text, or any bytes."""
    text = st.text(max_size=80)
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=300))
    subject, sender, body = draw(text), draw(st.emails() | text), draw(st.text(max_size=400))
    message_id = draw(st.uuids())
    head = f"From: {sender}\r\nTo: beschwerde@example.org\r\nSubject: {subject}\r\nMessage-ID: <{message_id}@example.org>\r\n"
    return (head + "\r\n" + body).encode("utf-8", "surrogatepass")


schemathesis.openapi.media_type("message/rfc822", rfc822_messages())

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture(autouse=True)
def keep_the_test_connection() -> Iterator[None]:
    """The WSGI handler closes the database connection after each request (request_finished),
    which inside the test's transaction loses it (PostgreSQL: "the connection is closed").
    Django's test client disconnects the same handler; so does this suite."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(make_user: Callable[..., User]) -> dict[str, Any]:
    """A small organisation: two teams, users of the three roles, customers with a contract,
    consent and product, cases on both teams (one with a note and an attachment)."""
    team, other_team = Team.objects.create(name="Fuzz team"), Team.objects.create(name="Other team")
    users = {role: make_user(role, teams=[team] if role != "auditor" else []) for role in ROLES}
    admin = users["administrator"]
    product = customers.product_create(actor=admin, code="strom-basis", name_de="Strom", name_en="Power", sector="energy")
    customer = customers.customer_create(
        actor=admin, last_name="Mustermann", first_name="Erika", emails=["erika@example.org"], phones=["+49 221 123456"]
    )
    duplicate = customers.customer_create(actor=admin, last_name="Mustermann", first_name="E.")
    contract = customers.contract_create(actor=admin, customer=customer, product=product, contract_number="V-2026-1")
    customers.consent_record(actor=admin, customer=customer, purpose="marketing", granted=True)
    case = cases.case_create(
        actor=admin, case_type="complaint", subject="Doppelt abgebucht", channel="phone", customer=customer, team=team
    )
    other_case = cases.case_create(actor=admin, case_type="inquiry", subject="Tarif", channel="email", team=other_team)
    cases.category_create(actor=None, parent=None, key="fuzz-billing", name_de="Abrechnung", name_en="Billing")
    note = cases.interaction_add(actor=admin, case=case, kind="internal_note", body_text="Rückruf vereinbart.")
    from django.core.files.uploadedfile import SimpleUploadedFile

    cases.attachment_add(
        actor=admin, case=case, uploaded_file=SimpleUploadedFile("beleg.pdf", PDF, "application/pdf"), interaction=note
    )
    publish_shipped_tables()
    record = decisions.decision_record(
        actor=users["agent"], case=case, table_key="goodwill_energy_billing", context={"disputed_amount": 0},
        kind="none", amount="0", currency="EUR",
    )  # fmt: skip
    tokens = {role: accounts.api_token_create(actor=user, name="fuzz", scopes=SCOPES[role])[1] for role, user in users.items()}
    approval = _pending_approval(make_user("agent", teams=[team]), case)
    ids = {
        "customer_id": [customer.pk, duplicate.pk],
        "contract_id": [contract.pk],
        "product_id": [product.pk],
        "user_id": [user.pk for user in users.values()],
        "case_id": [str(case.pk), case.reference, str(other_case.pk)],
        "case_pk": [case.pk, other_case.pk],
        "team_id": [team.pk, other_team.pk],
        "category_id": list(Category.objects.values_list("pk", flat=True)[:5]),
        # Process and decision-table keys, and their first versions.
        "key": ["complaint", "routing", "goodwill_energy_billing"],
        "version": [1],
        "record_id": [record.pk],
        "approval_id": [approval.pk],
    }
    return {"tokens": tokens, "ids": ids}


def _pending_approval(decider: User, case: Case) -> Any:
    """A 250 EUR goodwill decision above the agent's authority, waiting for the administrator
    (who may give 5,000 EUR alone)."""
    from django.utils import timezone

    from leitplanke.accounts.models import Role
    from leitplanke.decisions import approval_services
    from leitplanke.decisions.models import AuthorityLimit, DecisionRecord

    AuthorityLimit.objects.create(role=Role.objects.get(key="administrator"), kind="goodwill", per_decision=5000)
    record = DecisionRecord.objects.create(
        case=case, kind="goodwill", amount=250, status="pending", decided_by=decider, decided_at=timezone.now()
    )
    return approval_services.approval_request_open(record=record, reasons=["above_authority"], actor=decider)


# Ids in request bodies → the kind of row they name (a key of `world["ids"]`).
BODY_IDS = {
    "customer_id": "customer_id",
    "duplicate_id": "customer_id",
    "contract_id": "contract_id",
    "product_id": "product_id",
    "team_id": "team_id",
    "responsible_user_id": "user_id",
    "parent_id": "case_pk",
    "category_id": "category_id",
}

# Keys in request bodies that name configured things → some that exist.
BODY_KEYS = {
    "case_type": ["complaint", "inquiry", "feedback", "data_protection"],
    "transition": ["start", "wait", "resume", "resolve", "close", "reopen"],
    "table_key": ["goodwill_energy_billing", "card_fee_refund"],
}


def current_etag(path: dict[str, Any]) -> str | None:
    """The ETag of the case, customer, process or decision table a path names, if it exists."""
    if "case_id" in path:
        key = str(path["case_id"])
        number = int(key) if key.isascii() and key.isdigit() and len(key) < 18 else None
        rows = Case.objects.filter(pk=number) if number is not None else Case.objects.filter(reference=key)
    elif "key" in path and "version" in path:
        version = path["version"] if type(path["version"]) is int and 0 < path["version"] < 2**31 else None
        rows = DecisionTable.objects.filter(key=str(path["key"]), version=version)
        if not rows.exists():
            rows = ProcessDefinition.objects.filter(key=str(path["key"]), version=version)
        revision = rows.values_list("revision", flat=True).first()
        return f'W/"{revision}"' if revision is not None else None
    elif "customer_id" in path and type(path["customer_id"]) is int and 0 < path["customer_id"] < 2**63:
        rows = Customer.objects.filter(pk=path["customer_id"])
    else:
        return None
    version = rows.values_list("version", flat=True).first()
    return f'W/"{version}"' if version is not None else None


def steer(case: Any, ids: dict[str, list[Any]]) -> None:
    """Two of three generated integer ids in the path or JSON body of a schema-valid case
    become ids of real rows, and case type and transition keys real keys (a schema-violating
    case stays as it is: it must be refused)."""
    meta = getattr(case, "meta", None)
    if meta is not None and meta.generation.mode != GenerationMode.POSITIVE:
        return
    for name, value in list((case.path_parameters or {}).items()):
        real = ids.get(name)
        if not real:
            continue
        number = value if isinstance(value, int) else int(value) if str(value).isascii() and str(value).isdigit() else None
        if number is not None and number % 3:
            case.path_parameters[name] = real[number % len(real)]
        elif number is None and len(str(value)) % 3:  # a case key: an id or a reference
            case.path_parameters[name] = real[len(str(value)) % len(real)]
    headers = getattr(case, "headers", None)
    if headers and "If-Match" in headers and len(str(headers["If-Match"])) % 3:
        etag = current_etag(case.path_parameters or {})
        if etag:
            headers["If-Match"] = etag
    body = getattr(case, "body", None)
    if isinstance(body, dict):
        for name, value in list(body.items()):
            real = ids.get(BODY_IDS.get(name, ""))
            if real and type(value) is int and value % 3:
                body[name] = int(real[value % len(real)])
            keys = BODY_KEYS.get(name)
            if keys and isinstance(value, str) and len(value) % 3:
                body[name] = keys[len(value) % len(keys)]


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Iterator[Counter[int]]:
    statuses: Counter[int] = Counter()
    yield statuses
    log = os.environ.get("LEITPLANKE_FUZZ_LOG")
    if log:
        line = {"item": request.node.name, "requests": sum(statuses.values()), "statuses": dict(statuses)}
        with open(log, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_api(case: Any, role: str, world: dict[str, Any], record: Counter[int]) -> None:
    steer(case, world["ids"])
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {world['tokens'][role]}"}, excluded_checks=[positive_data_acceptance]
    )
    record[response.status_code] += 1
