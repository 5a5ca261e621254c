"""Every write to cases: one transaction, one audit event per change.

`case_transition` is the one place a status changes; it asks the process engine
(processes/engine, through cases/process.py) which transitions exist and what they do.
Views and the API call these functions and never write case models themselves.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Iterable
from typing import Any

import nh3
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from leitplanke.accounts.actors import Actor, acting_user, is_user
from leitplanke.accounts.models import Language, Team, User
from leitplanke.core import events, storedfiles
from leitplanke.core.audit import audit_event, audit_record, changed_fields, snapshot
from leitplanke.core.errors import Conflict, NotFound, PermissionDenied, PreconditionFailed, ValidationFailed
from leitplanke.core.inserts import insert_family, insert_row
from leitplanke.core.models import AuditEvent
from leitplanke.core.text import is_storable
from leitplanke.core.transactions import service_atomic
from leitplanke.customers.models import Contract, Customer, Product
from leitplanke.customers.selectors import customer_search_terms
from leitplanke.processes import catalogue
from leitplanke.processes.engine import TransitionRefused
from leitplanke.processes.engine import apply as engine_apply
from leitplanke.processes.texts import reason_text

from . import attachments as attachment_files
from . import clock_services, field_values, permissions
from . import process as case_process
from .clock_effects import apply_clock_effect
from .models import (
    Attachment,
    Case,
    CaseLink,
    CaseLinkKind,
    CaseSearchDocument,
    CaseType,
    Category,
    Channel,
    CustomFieldDefinition,
    DeliveryStatus,
    FieldKind,
    Interaction,
    InteractionKind,
    Outcome,
    Priority,
    Severity,
    StatusKind,
    Tag,
    attachment_path,
    tag_key,
)
from .selectors import custom_field_definitions, is_visible, sees_unwatched

# What case_update may change, and what its audit snapshot contains.
EDITABLE_FIELDS = [
    "subject",
    "description",
    "case_type",
    "channel",
    "language",
    "received_at",
    "customer",
    "contract",
    "product",
    "category",
    "priority",
    "severity",
    "team",
    "responsible_user",
    "custom_fields",
    "parent",
    "tags",
    "watchers",
]
CASE_AUDIT_FIELDS = ["reference", *EDITABLE_FIELDS, "status", "status_kind", "closed_at", "version"]
# Many-valued fields can also be changed by a delta (`tags_add=["vip"]`), which case_update
# applies to the list it reads under the row lock: a bulk action that adds one tag must not
# write back a list it read before someone else's change committed.
DELTA_FIELDS = {f"{field}_{operation}": (field, operation) for field in ("tags", "watchers") for operation in ("add", "remove")}
TEXT_MAX = 2000
SEARCH_TEXT_MAX = 1_000_000
# Tags are short labels; commas separate them in forms.
TAG_RE = re.compile(r"^[^,<>]{1,60}$")

# nh3 allowlist: formatting only. No scripts, styles, event handlers or javascript: links
# (nh3 drops unknown attributes and unsafe URL schemes itself).
ALLOWED_TAGS = {
    "a",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "s",
    "p",
    "br",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "h1",
    "h2",
    "h3",
    "h4",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
    "span",
    "div",
    "sub",
    "sup",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel"}


def sanitize_html(html: str) -> str:
    if not html:
        return ""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def html_to_text(html: str) -> str:
    """Plain text of sanitised HTML, for search and previews."""
    text = nh3.clean(re.sub(r"(?i)<br\s*/?>|</p>|</li>|</div>", "\n", html or ""), tags=set())
    import html as html_module

    return html_module.unescape(text).strip()


class UnknownTransition(ValidationFailed):
    code = "unknown_transition"


class TransitionNotAvailable(ValidationFailed):
    code = "transition_not_available"


# --- permissions --------------------------------------------------------------------------


def _require_create(actor: Actor) -> None:
    if not permissions.may_edit_cases(actor):
        raise PermissionDenied()


def _require_edit(actor: Actor, case: Case) -> None:
    if not is_visible(actor, case):
        raise NotFound()
    if not permissions.may_edit_cases(actor):
        raise PermissionDenied()


# --- references ---------------------------------------------------------------------------


def next_reference(year: int, *, db: Any = None) -> str:
    """The next case reference of a year, e.g. LP-2026-000123.

    One atomic upsert per number (INSERT … ON CONFLICT DO UPDATE … RETURNING: the first
    number of a year creates the row): on PostgreSQL the row lock serialises concurrent
    writers, on SQLite the IMMEDIATE transaction does, so no two cases get the same number.
    The counter row is part of the caller's transaction, so a failed create rolls its
    number back and the sequence has no gaps. `db` is another connection (tests use it to
    run the counter on a file database).
    """
    with (db or connection).cursor() as cursor:
        cursor.execute(_COUNTER_SQL, [year])
        value = cursor.fetchone()[0]
    return _reference(year, value)


def _reference(year: int, value: int) -> str:
    return f"LP-{year}-{value:06d}"


# Written by the statement that writes the case (`_write_new_case`): the next number of the
# year, as `next_reference` takes it, and the reference `_reference` makes of it.
_COUNTER_SQL = (
    "INSERT INTO cases_referencecounter (year, last_value) VALUES (%s, 1) "
    "ON CONFLICT (year) DO UPDATE SET last_value = cases_referencecounter.last_value + 1 "
    "RETURNING last_value"
)
_NUMBERED_SQL = (
    "SELECT last_value, %s || lpad(last_value::text, greatest(6, length(last_value::text)), '0') AS reference FROM counter"
)
_NUMBERED_EXPRESSIONS = {
    Case: {"reference": "(SELECT reference FROM numbered)"},
    # The document was written without the reference at its head; JSONB keeps no key order,
    # so the event's `after` is the row `audit_record` writes.
    CaseSearchDocument: {"text": f"substr((SELECT reference FROM numbered) || %s, 1, {SEARCH_TEXT_MAX:d})"},  # noqa: S608
    AuditEvent: {
        "object_id": "(SELECT id FROM parent)::text",
        "after": "jsonb_set(%s, '{reference}', to_jsonb((SELECT reference FROM numbered)))",
    },
}


def _write_new_case(case: Case, children: list[tuple[str, list[Any]]], event: AuditEvent, year: int) -> None:
    """Writes a new case numbered with the year's next reference, the rows that point at it
    (`children`), its search document and the create's audit `event` (ADR 0032).

    The counter row of the year stays locked from the moment a number is taken until the
    transaction ends, so that a rolled-back create gives its number back (no gaps): every
    concurrent create waits for it, and the lock must not cover Python work (ADR 0015). On
    PostgreSQL the number is taken by the one statement that writes the case, its rows and
    its audit event: the lock covers the rest of that statement and the commit. On SQLite the
    IMMEDIATE transaction has held the database's write lock since BEGIN anyway: the number
    comes first, and the rows are written with it."""
    if connection.vendor == "postgresql":
        document = CaseSearchDocument(case=case, text=_search_head(case)[:SEARCH_TEXT_MAX])  # reference "": prepended
        value = insert_family(
            case,
            [*children, ("case", [document]), (None, [event])],
            lead=[("counter", _COUNTER_SQL, [year]), ("numbered", _NUMBERED_SQL, [f"LP-{year}-"])],
            expressions=_NUMBERED_EXPRESSIONS,
            report="(SELECT last_value FROM numbered)",
        )
        case.reference = _reference(year, value)
        document.text = (case.reference + document.text)[:SEARCH_TEXT_MAX]
    else:
        case.reference = next_reference(year)
        document = CaseSearchDocument(case=case, text=_search_head(case)[:SEARCH_TEXT_MAX])
        insert_family(case, [*children, ("case", [document])])
    event.object_id = str(case.pk)
    event.after = {**(event.after or {}), "reference": case.reference}
    if event.pk is None:
        insert_row(event)  # append-only: AuditEvent.save() only refuses updates


# --- validation ---------------------------------------------------------------------------


def _text(value: Any, field: str, *, max_length: int, required: bool = False) -> str:
    value = "" if value is None else str(value).replace("\r\n", "\n").strip()
    if required and not value:
        raise ValidationFailed(field_errors={field: [_("This field is required.")]})
    if len(value) > max_length:
        raise ValidationFailed(field_errors={field: [_("At most %(n)s characters.") % {"n": max_length}]})
    return value


def _choice(value: Any, field: str, choices: Iterable[Any], cast: Any = str) -> Any:
    try:
        value = cast(value)
    except (TypeError, ValueError):
        raise ValidationFailed(field_errors={field: [_("Choose one of the offered values.")]}) from None
    if value not in list(choices):
        raise ValidationFailed(field_errors={field: [_("Choose one of the offered values.")]})
    return value


def _instance(value: Any, model: Any, field: str, *, active_only: bool = False) -> Any:
    """A model instance from an instance or a primary key; None stays None."""
    if value in (None, ""):
        return None
    if isinstance(value, model):
        instance = value
    elif model is CaseType and isinstance(value, str) and not value.isdigit():
        instance = CaseType.objects.filter(key=value).first()
        if instance is None:
            raise ValidationFailed(field_errors={field: [_("This choice does not exist.")]})
    else:
        try:
            instance = model.objects.get(pk=int(value))
        except (model.DoesNotExist, TypeError, ValueError):
            raise ValidationFailed(field_errors={field: [_("This choice does not exist.")]}) from None
    if active_only and not getattr(instance, "is_active", True):
        raise ValidationFailed(field_errors={field: [_("This choice is no longer active.")]})
    return instance


def _received_at(value: Any) -> dt.datetime:
    if value in (None, ""):
        return timezone.now()
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValidationFailed(field_errors={"received_at": [_("Enter a valid date and time.")]}) from None
    if not isinstance(value, dt.datetime):
        raise ValidationFailed(field_errors={"received_at": [_("Enter a valid date and time.")]})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    # A little leeway for clocks of other machines (intake servers, browsers).
    if value > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationFailed(field_errors={"received_at": [_("The receipt time cannot be in the future.")]})
    if value.year < 2000:
        raise ValidationFailed(field_errors={"received_at": [_("Enter a realistic date.")]})
    return value


def _responsible(value: Any) -> User | None:
    user = _instance(value, User, "responsible_user")
    if user is not None and not user.is_active:
        raise ValidationFailed(field_errors={"responsible_user": [_("This user is inactive.")]})
    if user is not None and not permissions.may_edit_cases(user):
        raise ValidationFailed(field_errors={"responsible_user": [_("This user cannot work on cases.")]})
    return user


def _contract(value: Any, customer: Customer | None) -> Contract | None:
    contract = _instance(value, Contract, "contract")
    if contract is not None and (customer is None or contract.customer_id != customer.pk):
        raise ValidationFailed(field_errors={"contract": [_("The contract belongs to another customer.")]})
    return contract


def _tag_names(values: Any) -> list[str]:
    if isinstance(values, str):
        values = values.split(",")
    names: list[str] = []
    for value in values or ():
        name = value.name if isinstance(value, Tag) else str(value).strip()
        if not name:
            continue
        if not TAG_RE.match(name):
            raise ValidationFailed(field_errors={"tags": [_("Tags have at most 60 characters and no commas.")]})
        if name.casefold() not in {n.casefold() for n in names}:
            names.append(name)
    if len(names) > 30:
        raise ValidationFailed(field_errors={"tags": [_("At most 30 tags.")]})
    return names


def _tags(values: Any) -> list[Tag]:
    tags = []
    for name in _tag_names(values):
        tag = Tag.objects.filter(name_key=tag_key(name)).first()
        if tag is None:
            try:
                with transaction.atomic():
                    tag = Tag.objects.create(name=name)
            except IntegrityError:  # created meanwhile, perhaps spelt differently
                tag = Tag.objects.get(name_key=tag_key(name))
        tags.append(tag)
    return tags


def _users(values: Any, field: str) -> list[User]:
    return [user for user in (_instance(v, User, field) for v in values or ()) if user is not None]


NUMBER_MAX_DECIMALS = 6


def _custom_value(definition: CustomFieldDefinition, value: Any) -> Any:
    key, kind = definition.key, definition.kind
    invalid = ValidationFailed
    if kind == FieldKind.TEXT:
        text = str(value).strip()
        if len(text) > TEXT_MAX:
            raise invalid(field_errors={key: [_("At most %(n)s characters.") % {"n": TEXT_MAX}]})
        return text
    if kind == FieldKind.NUMBER:
        if isinstance(value, bool):
            raise invalid(field_errors={key: [_("Enter a number.")]})
        try:
            number = decimal.Decimal(str(value).strip().replace(",", "."))
        except (decimal.InvalidOperation, ValueError):
            raise invalid(field_errors={key: [_("Enter a number.")]}) from None
        exponent = number.as_tuple().exponent
        # Bounded like a money amount: "1e999999" is finite, but as a whole number it would be
        # a million digits in the case's JSON and no database column holds it.
        if not number.is_finite() or not isinstance(exponent, int) or exponent < -NUMBER_MAX_DECIMALS or abs(number) >= 10**15:
            raise invalid(field_errors={key: [_("Enter a number of at most 15 digits before and 6 after the decimal point.")]})
        # Stored as JSON: whole numbers as int, others as a decimal string (never a float).
        return int(number) if number == number.to_integral_value() else str(number)
    if kind == FieldKind.MONEY:
        currency = "EUR"
        amount = value
        if isinstance(value, dict):
            amount, currency = value.get("amount"), str(value.get("currency") or "EUR").upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise invalid(field_errors={key: [_("Enter a three-letter currency code, e.g. EUR.")]})
        if isinstance(amount, bool | float):
            raise invalid(field_errors={key: [_("Enter an amount such as 12.50.")]})
        try:
            parsed = decimal.Decimal(str(amount).strip().replace(",", "."))
        except (decimal.InvalidOperation, ValueError):
            raise invalid(field_errors={key: [_("Enter an amount such as 12.50.")]}) from None
        exponent = parsed.as_tuple().exponent
        if not parsed.is_finite() or not isinstance(exponent, int) or exponent < -2 or abs(parsed) >= 10**12:
            raise invalid(field_errors={key: [_("Enter an amount such as 12.50.")]})
        return {"amount": str(parsed.quantize(decimal.Decimal("0.01"))), "currency": currency}
    if kind == FieldKind.DATE:
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise invalid(field_errors={key: [_("Enter a date as YYYY-MM-DD.")]}) from None
    if kind == FieldKind.CHOICE:
        allowed = [str(choice.get("value")) for choice in definition.choices or [] if isinstance(choice, dict)]
        if str(value) not in allowed:
            raise invalid(field_errors={key: [_("Choose one of the offered values.")]})
        return str(value)
    if kind == FieldKind.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on", "ja"):
            return True
        if text in ("false", "0", "no", "off", "nein"):
            return False
        raise invalid(field_errors={key: [_("Choose yes or no.")]})
    raise invalid(field_errors={key: [_("Unknown field kind.")]})


def validate_custom_fields(case_type: CaseType, values: dict[str, Any] | None) -> dict[str, Any]:
    """Cleans custom field values for a case type; all errors at once, keyed by field key."""
    values = dict(values or {})
    definitions = {definition.key: definition for definition in custom_field_definitions(case_type)}
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for key in values:
        if key not in definitions:
            errors.setdefault(key, []).append(_("Unknown field “%(key)s” for this case type.") % {"key": key})
    for key, definition in definitions.items():
        value = values.get(key)
        empty = value is None or (isinstance(value, str) and not value.strip()) or value == {}
        if empty:
            if definition.required:
                errors.setdefault(key, []).append(_("This field is required."))
            continue
        try:
            cleaned[key] = _custom_value(definition, value)
        except ValidationFailed as error:
            for field, messages in error.field_errors.items():
                errors.setdefault(field, []).extend(str(m) for m in messages)
    if errors:
        raise ValidationFailed(
            field_errors={f"custom_fields.{k}" if k not in ("custom_fields",) else k: v for k, v in errors.items()}
        )
    return cleaned


# --- search and timeline helpers ----------------------------------------------------------


def _search_head(case: Case, terms: str | None = None) -> str:
    """The part of a search document that comes from the case and its customer: reference,
    the customer's words (names folded, number, e-mail addresses, phone numbers — before
    subject and description, so that the length limit never cuts them), subject, description."""
    if terms is None:
        # Read from the database, not from the customer instance the caller passed, and on
        # PostgreSQL under a key-share lock of the customer row (Django's foreign keys are
        # checked only at commit): a change of the customer either commits before this read
        # or waits for this transaction and then rewrites this case's document too
        # (customers.services.customer_update locks the row FOR UPDATE). SQLite has one
        # writer at a time. See test_a_case_created_while_its_customer_changes_is_found_by_the_new_name.
        if case.customer_id is not None and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM customers_customer WHERE id = %s FOR KEY SHARE", [case.customer_id])
        terms = customer_search_terms(case.customer_id)
    return (
        f"{case.reference}\n{terms}\n{case.subject}\n{case.description}"
        if terms
        else f"{case.reference}\n{case.subject}\n{case.description}"
    )


def _with_head(head: str, old_text: str) -> str:
    marker = SEARCH_MESSAGES_MARKER
    tail = old_text.split(marker, 1)[1] if marker in old_text else ""
    return (head + (marker + tail if tail else ""))[:SEARCH_TEXT_MAX]


def case_search_customer_refresh(*, customer_ids: Iterable[int]) -> int:
    """Brings the search documents of these customers' cases up to date after the customer
    changed (names, number, contact data, a merge); called in the customer's transaction
    (through `customers.services.customer_changed`). A fixed number of queries per
    customer and batch (merges count on it). Returns how many documents were rewritten."""
    count = 0
    now = timezone.now()
    for customer_id in sorted(set(customer_ids)):
        terms = customer_search_terms(customer_id)
        cases = list(
            Case.objects.filter(customer_id=customer_id).only("pk", "reference", "subject", "description", "customer_id")
        )
        for start in range(0, len(cases), 500):
            batch = cases[start : start + 500]
            documents = {d.pk: d for d in CaseSearchDocument.objects.filter(pk__in=[c.pk for c in batch])}
            changed, missing = [], []
            for case in batch:
                document = documents.get(case.pk)
                if document is None:
                    missing.append(CaseSearchDocument(case=case, text=_search_head(case, terms)[:SEARCH_TEXT_MAX]))
                    continue
                document.text, document.updated_at = _with_head(_search_head(case, terms), document.text), now
                changed.append(document)
            CaseSearchDocument.objects.bulk_update(changed, ["text", "updated_at"])
            CaseSearchDocument.objects.bulk_create(missing)
            count += len(batch)
    return count


SEARCH_MESSAGES_MARKER = "\n\u2063messages\u2063\n"
# Appends a message's text to a search document in one statement (the subject/description
# part is unchanged by a new message): `text || '\n' || extra` after the marker, or the
# marker and the text when it is the case's first message. Same result as the refresh below.
_SEARCH_APPEND_SQL = (
    "UPDATE cases_casesearchdocument SET text = substr(CASE WHEN {position}(text, %s) > 0 THEN text || %s "
    "ELSE text || %s END, 1, %s), updated_at = %s WHERE case_id = %s"
)
_TOUCH_SQL = "UPDATE cases_case SET last_activity_at = %s, updated_at = %s WHERE id = %s"


def _search_document_append(case: Case, text: str, now: dt.datetime) -> None:
    """A new message's text for the search, without reading the document first."""
    if connection.vendor not in ("sqlite", "postgresql") or not text:
        _search_document_refresh(case, extra_text=text)
        return
    sql = _SEARCH_APPEND_SQL.format(position="instr" if connection.vendor == "sqlite" else "strpos")
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(sql, [SEARCH_MESSAGES_MARKER, f"\n{text}", SEARCH_MESSAGES_MARKER + text, SEARCH_TEXT_MAX, stamp, case.pk])
        found = cursor.rowcount
    if not found:  # a case from before search documents existed
        _search_document_refresh(case, extra_text=text)


def _touch(case: Case, now: dt.datetime) -> None:
    """Records activity on a case in one UPDATE, which takes the row lock as `_lock` does
    (the system's own entries need no fresh copy of the case first)."""
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(_TOUCH_SQL, [stamp, stamp, case.pk])
        found = cursor.rowcount
    if not found:
        raise NotFound()
    case.last_activity_at = case.updated_at = now


def _search_document_refresh(case: Case, *, extra_text: str = "") -> None:
    """Rebuilds the subject/description part; message texts are appended after a marker."""
    document, _created = CaseSearchDocument.objects.get_or_create(case=case)
    head = _search_head(case)
    marker = SEARCH_MESSAGES_MARKER
    tail = document.text.split(marker, 1)[1] if marker in document.text else ""
    if extra_text:
        tail = f"{tail}\n{extra_text}".strip()
    document.text = (head + (marker + tail if tail else ""))[:SEARCH_TEXT_MAX]
    document.save()


def _timeline(case: Case, *, kind: str, actor: Actor, occurred_at: dt.datetime | None = None, **fields: Any) -> Interaction:
    author = acting_user(actor)
    entry = Interaction(case=case, kind=kind, occurred_at=occurred_at or timezone.now(), author=author, **fields)
    return insert_row(entry)


def _lock(case: Case) -> Case:
    try:
        return Case.objects.select_for_update(of=("self",)).select_related("case_type").get(pk=case.pk)
    except Case.DoesNotExist:
        raise NotFound() from None


def _check_version(case: Case, expected_version: Any) -> None:
    if expected_version is None or expected_version == "":
        return
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        raise PreconditionFailed() from None
    if expected != case.version:
        raise PreconditionFailed(current_version=case.version)


# --- cases --------------------------------------------------------------------------------


def case_create(
    *,
    actor: Actor,
    case_type: CaseType | int | str,
    subject: str,
    description: str = "",
    channel: str,
    received_at: dt.datetime | None = None,
    customer: Customer | None = None,
    contract: Contract | None = None,
    product: Product | None = None,
    category: Category | None = None,
    priority: int = Priority.NORMAL,
    severity: str = Severity.MINOR,
    team: Team | None = None,
    responsible_user: User | None = None,
    tags: Iterable[Any] = (),
    custom_fields: dict[str, Any] | None = None,
    language: str = Language.GERMAN,
    parent: Case | None = None,
) -> Case:
    """Registers a case; `actor=None` is the system (intake). Returns the saved case."""
    if actor is not None:
        # The actor's capabilities and teams are cached on the user object for the request;
        # reading them here, before the write transaction, keeps those reads out of
        # SQLite's write lock. Everything about the case itself is read inside it.
        _require_create(actor)
        if team in (None, "") and is_user(actor) and not permissions.sees_all(actor):
            permissions.team_ids_of(actor)
    # No savepoint when the caller's transaction fails as a whole anyway (the API's).
    with service_atomic():
        return _case_create(
            actor=actor,
            case_type=case_type,
            subject=subject,
            description=description,
            channel=channel,
            received_at=received_at,
            customer=customer,
            contract=contract,
            product=product,
            category=category,
            priority=priority,
            severity=severity,
            team=team,
            responsible_user=responsible_user,
            tags=tags,
            custom_fields=custom_fields,
            language=language,
            parent=parent,
        )


def _case_create(
    *,
    actor: Actor,
    case_type: CaseType | int | str,
    subject: str,
    description: str,
    channel: str,
    received_at: dt.datetime | None,
    customer: Customer | None,
    contract: Contract | None,
    product: Product | None,
    category: Category | None,
    priority: int,
    severity: str,
    team: Team | None,
    responsible_user: User | None,
    tags: Iterable[Any],
    custom_fields: dict[str, Any] | None,
    language: str,
    parent: Case | None,
) -> Case:
    errors: dict[str, list[str]] = {}

    def collect(func: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ValidationFailed as error:
            for field, messages in error.field_errors.items():
                errors.setdefault(field, []).extend(messages)
            return None

    the_type = collect(_instance, case_type, CaseType, "case_type", active_only=True)
    if the_type is None and "case_type" not in errors:
        errors["case_type"] = [_("This field is required.")]
    subject = collect(_text, subject, "subject", max_length=255, required=True)
    description = collect(_text, description, "description", max_length=100_000)
    channel = collect(_choice, channel, "channel", Channel.values)
    language = collect(_choice, language, "language", Language.values)
    priority = collect(_choice, priority, "priority", Priority.values, int)
    severity = collect(_choice, severity, "severity", Severity.values)
    received = collect(_received_at, received_at)
    the_customer = collect(_live_customer, customer)
    the_contract = collect(_contract, contract, the_customer)
    the_product = collect(_instance, product, Product, "product", active_only=True)
    if the_product is None and the_contract is not None:
        the_product = the_contract.product
    the_category = collect(_instance, category, Category, "category", active_only=True)
    the_team = collect(_instance, team, Team, "team", active_only=True)
    the_responsible = collect(_responsible, responsible_user)
    the_parent = collect(_instance, parent, Case, "parent")
    if the_parent is not None and actor is not None and not is_visible(actor, the_parent):
        errors.setdefault("parent", []).append(_("This choice does not exist."))
    tag_names = collect(_tag_names, tags)
    cleaned_custom = collect(validate_custom_fields, the_type, custom_fields) if the_type is not None else None
    if errors:
        raise ValidationFailed(field_errors=errors)
    # Without a team, a case created by an agent lands in the agent's (first) team so that
    # the agent keeps seeing it.
    if the_team is None and actor is not None and not permissions.sees_all(actor):
        team_ids = permissions.team_ids_of(actor)
        if team_ids:
            the_team = Team.objects.get(pk=team_ids[0])
    definition = case_process.current_definition(the_type)
    process = case_process.process_of_definition(definition, the_type)
    initial = process.state(process.initial)
    now = timezone.now()
    case = Case(
        reference="",  # numbered as it is written: _write_new_case
        case_type=the_type,
        subject=subject,
        description=description,
        channel=channel,
        language=language,
        received_at=received,
        customer=the_customer,
        contract=the_contract,
        product=the_product,
        category=the_category,
        priority=priority,
        severity=severity,
        status=process.initial,
        status_kind=initial.kind if initial else StatusKind.OPEN,
        process_version=definition,
        team=the_team,
        responsible_user=the_responsible,
        custom_fields=cleaned_custom or {},
        parent=the_parent,
        created_by=acting_user(actor),
        last_activity_at=now,
    )
    # The deadline clocks run from when the organisation received the complaint; the case
    # row carries the earliest due time for the list ("next due first").
    clocks = clock_services.new_clocks(case, at=received)
    case.next_due_at, case.next_warn_at = clock_services.next_due(clocks)
    backdated = received < now - dt.timedelta(minutes=5)
    created_entry = Interaction(
        case=case,
        kind=InteractionKind.SYSTEM,
        occurred_at=now,
        author=acting_user(actor),
        channel=channel,
        author_label="" if actor is not None else "system",
        data={"event": "created", "status": case.status, "received_at": received.isoformat(), "backdated": backdated},
    )
    tag_ids: list[int] = []
    the_tags: list[Tag] = []
    if tag_names:
        the_tags = _tags(tag_names)
        tag_ids = [tag.pk for tag in the_tags]
    # A creator without a team would lose sight of the case at once: they watch it.
    watcher_ids = [actor.pk] if is_user(actor) and not sees_unwatched(actor, case) else []
    # A new case has exactly these tags and watchers: no need to read them back.
    after = snapshot(case, [field for field in CASE_AUDIT_FIELDS if field not in ("tags", "watchers")])
    after.update({"tags": sorted(set(tag_ids)), "watchers": watcher_ids, "backdated": backdated})
    event = audit_event(actor=actor or "system", action="case.create", obj=case, after=after)
    _write_new_case(case, [("case", clocks), ("case", [created_entry])], event, timezone.localtime(now).year)
    field_values.sync(case, created=True)
    case.created_clocks = clocks  # type: ignore[attr-defined]  # for the acknowledgement of a new case (intake)
    if the_tags:
        case.tags.set(the_tags)
    if watcher_ids:
        case.watchers.add(*watcher_ids)
    events.emit("case.created", _event_payload(case))
    return case


def _live_customer(value: Any) -> Customer | None:
    """A customer that still exists on its own: merged or deactivated records are refused."""
    customer = _instance(value, Customer, "customer")
    if customer is not None and (customer.merged_into_id is not None or not customer.is_active):
        raise ValidationFailed(field_errors={"customer": [_("This customer was merged into another record; choose that one.")]})
    return customer


def _event_payload(case: Case) -> dict[str, Any]:
    return {
        "case_id": case.pk,
        "reference": case.reference,
        "case_type": case.case_type.key,
        "status": case.status,
        "status_kind": case.status_kind,
        "team_id": case.team_id,
        "responsible_user_id": case.responsible_user_id,
        "customer_id": case.customer_id,
        "version": case.version,
    }


def _apply_change(case: Case, field: str, value: Any, errors: dict[str, list[str]]) -> None:
    try:
        if field == "subject":
            case.subject = _text(value, "subject", max_length=255, required=True)
        elif field == "description":
            case.description = _text(value, "description", max_length=100_000)
        elif field == "case_type":
            case.case_type = _instance(value, CaseType, "case_type", active_only=True) or case.case_type
        elif field == "channel":
            case.channel = _choice(value, "channel", Channel.values)
        elif field == "language":
            case.language = _choice(value, "language", Language.values)
        elif field == "received_at":
            if value in (None, ""):
                raise ValidationFailed(field_errors={"received_at": [_("This field is required.")]})
            case.received_at = _received_at(value)
        elif field == "customer":
            case.customer = _live_customer(value)
        elif field == "product":
            case.product = _instance(value, Product, "product", active_only=True)
        elif field == "category":
            case.category = _instance(value, Category, "category", active_only=True)
        elif field == "priority":
            case.priority = _choice(value, "priority", Priority.values, int)
        elif field == "severity":
            case.severity = _choice(value, "severity", Severity.values)
        elif field == "team":
            case.team = _instance(value, Team, "team", active_only=True)
        elif field == "responsible_user":
            case.responsible_user = _responsible(value)
        elif field == "parent":
            parent = _instance(value, Case, "parent")
            if parent is not None and parent.pk == case.pk:
                raise ValidationFailed(field_errors={"parent": [_("A case cannot be its own parent.")]})
            case.parent = parent
    except ValidationFailed as error:
        for key, messages in error.field_errors.items():
            errors.setdefault(key, []).extend(messages)


_RELATED_MODELS: dict[str, Any] = {
    "case_type": CaseType,
    "customer": Customer,
    "contract": Contract,
    "product": Product,
    "category": Category,
    "team": Team,
    "responsible_user": User,
    "parent": Case,
}


def _readable(field: str, value: Any) -> str:
    """A short human-readable form of a snapshot value, stored with the timeline entry so the
    page never needs extra queries to show what changed."""
    if value is None or value == "" or value == []:
        return "—"
    model = _RELATED_MODELS.get(field)
    if model is not None:
        instance = model.objects.filter(pk=value).first()
        if instance is None:
            return f"#{value}"
        if model is User:
            return instance.full_name
        if model is Case:
            return instance.reference
        return str(instance)[:200]
    if field == "tags":
        return ", ".join(Tag.objects.filter(pk__in=value).order_by("name").values_list("name", flat=True))
    if field == "watchers":
        return ", ".join(User.objects.filter(pk__in=value).order_by("full_name").values_list("full_name", flat=True))
    if field == "priority":
        return str(Priority(value).label) if value in Priority.values else str(value)
    if field == "severity":
        return str(Severity(value).label) if value in Severity.values else str(value)
    if field == "channel":
        return str(Channel(value).label) if value in Channel.values else str(value)
    if field == "custom_fields" and isinstance(value, dict):
        return ", ".join(
            f"{k}: {v['amount'] + ' ' + v['currency'] if isinstance(v, dict) else v}" for k, v in sorted(value.items())
        )[:500]
    if field == "received_at":
        try:
            return timezone.localtime(dt.datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M")
        except (TypeError, ValueError):
            return str(value)
    text = str(value)
    return text if len(text) <= 300 else text[:297] + "…"


@transaction.atomic
def case_update(*, actor: Actor, case: Case, expected_version: int | None = None, **changes: Any) -> Case:
    """Changes editable fields; PreconditionFailed if the case changed since `expected_version`.

    Writes one FIELD_CHANGE timeline entry and one audit event listing what changed.
    Tags and watchers take the whole new list (`tags=[…]`) or a delta (`tags_add=[…]`,
    `tags_remove=[…]`, `watchers_add=[…]`, `watchers_remove=[…]`) applied under the row lock.
    """
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS) - set(DELTA_FIELDS))
    if unknown:
        raise ValidationFailed(field_errors={name: [_("This field cannot be changed here.")] for name in unknown})
    # Visibility on the locked row: the object passed in may be older than a reassignment.
    case = _lock(case)
    _require_edit(actor, case)
    _check_version(case, expected_version)
    changes = _apply_deltas(case, changes)
    before = snapshot(case, CASE_AUDIT_FIELDS)
    errors: dict[str, list[str]] = {}
    for field in EDITABLE_FIELDS:
        if field in changes and field not in ("tags", "watchers", "custom_fields", "contract"):
            _apply_change(case, field, changes[field], errors)
    if "parent" in changes and case.parent is not None and not is_visible(actor, case.parent):
        errors.setdefault("parent", []).append(_("This choice does not exist."))
    if "contract" in changes:
        try:
            case.contract = _contract(changes["contract"], case.customer)
        except ValidationFailed as error:
            errors.setdefault("contract", []).extend(error.field_errors["contract"])
    elif "customer" in changes and case.contract is not None and case.contract.customer_id != case.customer_id:
        case.contract = None
    if "custom_fields" in changes or "case_type" in changes:
        try:
            case.custom_fields = validate_custom_fields(case.case_type, changes.get("custom_fields", case.custom_fields))
        except ValidationFailed as error:
            for key, messages in error.field_errors.items():
                errors.setdefault(key, []).extend(messages)
    tags = watchers = None
    if "tags" in changes:
        try:
            tags = _tag_names(changes["tags"])
        except ValidationFailed as error:
            errors.setdefault("tags", []).extend(error.field_errors["tags"])
    if "watchers" in changes:
        try:
            watchers = _users(changes["watchers"], "watchers")
        except ValidationFailed as error:
            errors.setdefault("watchers", []).extend(error.field_errors["watchers"])
    if errors:
        raise ValidationFailed(field_errors=errors)
    if tags is not None:
        case.tags.set(_tags(tags))
    if watchers is not None:
        case.watchers.set(watchers)
    old, new = changed_fields(before, snapshot(case, CASE_AUDIT_FIELDS))
    if not new:
        return case
    now = timezone.now()
    case.version += 1
    case.last_activity_at = now
    case.save()
    new["version"], old["version"] = case.version, case.version - 1
    fields = [name for name in new if name != "version"]
    _timeline(
        case,
        kind=InteractionKind.FIELD_CHANGE,
        actor=actor,
        occurred_at=now,
        data=_field_change_data(fields, old, new),
    )
    if {"subject", "description", "customer"} & set(fields):
        _search_document_refresh(case)
    if {"custom_fields", "case_type"} & set(fields):
        field_values.sync(case)
    audit_record(actor=actor, action="case.update", obj=case, before=old, after=new)
    if {"team", "responsible_user"} & set(fields):
        events.emit("case.assigned", _event_payload(case))
    return case


def _apply_deltas(case: Case, changes: dict[str, Any]) -> dict[str, Any]:
    """Turns `<field>_add` / `<field>_remove` into the field's whole new list, computed from
    what the locked row holds now. Names (tags) compare case-insensitively, users by id."""
    deltas = {name: DELTA_FIELDS[name] for name in changes if name in DELTA_FIELDS}
    if not deltas:
        return changes
    result = {name: value for name, value in changes.items() if name not in deltas}
    for field in sorted({field for field, _operation in deltas.values()}):
        if field in changes:
            raise ValidationFailed(field_errors={field: [_("Send the whole list or changes to it, not both.")]})
        add, remove = changes.get(f"{field}_add") or [], changes.get(f"{field}_remove") or []
        if field == "tags":
            current: list[Any] = list(case.tags.values_list("name", flat=True))
            removed = {name.casefold() for name in _tag_names(remove)}
            kept = [name for name in current if name.casefold() not in removed]
            result["tags"] = kept + [name for name in _tag_names(add) if name.casefold() not in {n.casefold() for n in kept}]
        else:
            current = list(case.watchers.values_list("pk", flat=True))
            removed_ids = {user.pk for user in _users(remove, "watchers")}
            kept = [pk for pk in current if pk not in removed_ids]
            result["watchers"] = kept + [user.pk for user in _users(add, "watchers") if user.pk not in kept]
    return result


@transaction.atomic
def case_customer_attach(*, actor: Actor, case: Case, customer: Customer, reason: str) -> Case:
    """Attaches a customer to a case that has none (a public submission whose address was
    confirmed). `actor=None`: the customer confirmed by e-mail. An agent needs to see and
    edit the case, checked on the locked row. Conflict if the case has a customer already."""
    locked = _lock(case)
    if actor is not None:
        _require_edit(actor, locked)
    if locked.customer_id is not None:
        if locked.customer_id == customer.pk:
            return locked
        raise Conflict(_("This case has a customer already."))
    customer = _live_customer(customer)  # type: ignore[assignment]
    now = timezone.now()
    locked.customer = customer
    locked.version += 1
    locked.last_activity_at = now
    locked.save(update_fields=["customer", "version", "last_activity_at", "updated_at"])
    _timeline(
        locked,
        kind=InteractionKind.FIELD_CHANGE,
        actor=actor,
        occurred_at=now,
        data={
            "fields": ["customer"],
            "from": {"customer": None},
            "to": {"customer": customer.pk},
            "display_from": {"customer": _readable("customer", None)},
            "display_to": {"customer": _readable("customer", customer.pk)},
            "reason": reason,
        },
    )
    audit_record(
        actor=actor or "system",
        action="case.update",
        obj=locked,
        before={"customer": None, "version": locked.version - 1},
        after={"customer": customer.pk, "version": locked.version, "reason": reason},
    )
    return locked


@transaction.atomic
def case_customer_merge(*, actor: Actor, survivor: Customer, duplicate: Customer) -> list[int]:
    """The cases' part of merging `duplicate` into `survivor`: every case of the duplicate
    gets the survivor as its customer, each recorded like any change — row lock, new
    version and updated_at, a FIELD_CHANGE entry on its timeline and a `case.update` audit
    event. Returns the ids of the moved cases.

    A customer record is merged as a whole, so this moves cases the actor cannot see too:
    it needs customers.merge, not the right to edit those cases. Callers report only the
    cases the actor may see (`customer_services.customer_merge`)."""
    from leitplanke.accounts.permissions import MERGE_CUSTOMERS, has_capability

    if not has_capability(actor, MERGE_CUSTOMERS):
        raise PermissionDenied()
    cases = list(Case.objects.select_for_update(of=("self",)).filter(customer=duplicate).order_by("pk"))
    now = timezone.now()
    shown = {"from": {"customer": str(duplicate)[:200]}, "to": {"customer": str(survivor)[:200]}}
    for case in cases:
        case.customer = survivor
        case.version += 1
        case.save(update_fields=["customer", "version", "updated_at"])
        _timeline(
            case,
            kind=InteractionKind.FIELD_CHANGE,
            actor=actor,
            occurred_at=now,
            data={
                "fields": ["customer"],
                "from": {"customer": duplicate.pk},
                "to": {"customer": survivor.pk},
                "display_from": shown["from"],
                "display_to": shown["to"],
                "reason": "customer_merge",
            },
        )
        audit_record(
            actor=actor,
            action="case.update",
            obj=case,
            before={"customer": duplicate.pk, "version": case.version - 1},
            after={"customer": survivor.pk, "version": case.version, "reason": "customer.merge"},
        )
    return [case.pk for case in cases]


def _entered_values(fields: dict[str, Any] | None, case_type: CaseType) -> dict[str, Any]:
    """Values entered with a transition (closing fields, custom fields as `custom.<key>`,
    others a transition may ask for), checked like the case's own; empty ones count as not
    given."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    custom = {f"custom.{d.key}": d for d in custom_field_definitions(case_type)}
    for name, raw in (fields or {}).items():
        if name not in catalogue.SETTABLE and name not in custom:
            errors[name] = [_("This field cannot be changed.")]
            continue
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        try:
            out[name] = _custom_value(custom[name], raw) if name in custom else _settable_value(name, raw)
        except ValidationFailed as error:
            for messages in error.field_errors.values():
                errors.setdefault(name, []).extend(str(m) for m in messages)
    if errors:
        raise ValidationFailed(field_errors=errors)
    return out


def _settable_value(name: str, raw: Any) -> Any:
    if name == "outcome":
        return _choice(raw, name, Outcome.values)
    if name == "root_cause":
        return _choice(raw, name, [key for key, _de, _en in catalogue.ROOT_CAUSES])
    if name == "currency":
        return _choice(str(raw).upper(), name, catalogue.CURRENCIES)
    if name == "resolution_summary":
        return _text(raw, name, max_length=10_000)
    if name in ("redress_amount", "goodwill_amount"):
        try:
            amount = decimal.Decimal(str(raw).strip().replace(",", "."))
        except (decimal.InvalidOperation, ValueError):
            raise ValidationFailed(field_errors={name: [_("Enter an amount, e.g. 25.00.")]}) from None
        if (
            not amount.is_finite()
            or amount < 0
            or amount >= decimal.Decimal("1e10")
            or amount != amount.quantize(decimal.Decimal("0.01"))
        ):
            raise ValidationFailed(field_errors={name: [_("Enter an amount from 0 with at most two decimals.")]})
        return amount.quantize(decimal.Decimal("0.01"))
    if name == "priority":
        return _choice(raw, name, Priority.values, int)
    if name == "severity":
        return _choice(raw, name, Severity.values)
    raise ValidationFailed(field_errors={name: [_("This field cannot be changed.")]})  # pragma: no cover


class TransitionRequirementsMissing(ValidationFailed):
    code = "transition_requirements_missing"
    default_message = gettext_lazy("Some information is required for this step.")


def _refusal(refused: TransitionRefused, language: str) -> Exception:
    """The engine's refusal as the service's typed error, each reason under its field."""
    if refused.code == "unknown_transition":
        return UnknownTransition(field_errors={"transition": [_("Unknown transition.")]})
    if refused.code == "not_from_here":
        return TransitionNotAvailable(field_errors={"transition": [_("This step is not possible in the current status.")]})
    if any(reason.code == "role" for reason in refused.reasons):
        return PermissionDenied(_("Your role may not take this step."))
    if any(not reason.fixable for reason in refused.reasons):
        return TransitionNotAvailable(
            field_errors={"transition": [reason_text(r, language) for r in refused.reasons if not r.fixable]}
        )
    errors: dict[str, list[str]] = {}
    for reason in refused.reasons:
        name = reason.subject if reason.code == "requires" else f"checklist.{reason.subject}"
        errors.setdefault(name, []).append(reason_text(reason, language))
    return TransitionRequirementsMissing(field_errors=errors)


CLOSING_AUDIT_FIELDS = ["escalation_level", "custom_fields", *catalogue.SETTABLE]


@transaction.atomic
def case_transition(
    *,
    actor: Actor,
    case: Case,
    transition: str,
    expected_version: int | None = None,
    note: str = "",
    fields: dict[str, Any] | None = None,
    checklist: Iterable[str] = (),
) -> Case:
    """Moves the case along a transition of its process (the only place status changes).

    The engine decides (processes/engine): roles allowed, the guard, required fields and
    checklist items. `fields`: values entered with the step (the closing fields), stored
    with it; `checklist`: the keys of the items the user confirmed. A step refused for a
    missing field changes nothing (422 naming the field). The effects run here, in the
    same transaction: set a field, escalation level, clocks (`clock_effects`), templates
    and webhooks (announced with the `case.transitioned` event, which intake carries out)."""
    case = _lock(case)
    if actor is not None:
        _require_edit(actor, case)  # on the locked row, not on the object passed in
    _check_version(case, expected_version)
    language = (get_language() or "de")[:2]
    running = case_process.process_of(case)
    process = running.process
    key = str(transition or "")
    entered = _entered_values(fields, case.case_type)
    note = _text(note, "note", max_length=TEXT_MAX)
    roles = case_process.role_keys(actor) if actor is not None else case_process.all_roles(process)
    confirmed = {str(item) for item in checklist or ()}
    try:
        outcome = engine_apply(
            process,
            case.status,
            key,
            case_process.context(case, entered, reads=case_process.guard_reads(process, case.status)),
            roles,
            confirmed=confirmed,
            fields=case_process.known_fields(case.case_type),
        )
    except TransitionRefused as refused:
        raise _refusal(refused, language) from None
    step, target, source = outcome.transition, outcome.target, outcome.source
    before = snapshot(case, ["status", "status_kind", "closed_at", "version", "team", *CLOSING_AUDIT_FIELDS])
    now = timezone.now()
    from_status = case.status
    from_kind = case.status_kind
    for name, value in entered.items():
        if name.startswith("custom."):
            case.custom_fields = {**(case.custom_fields or {}), name[len("custom.") :]: value}
        else:
            setattr(case, name, value)
    announced: list[dict[str, Any]] = []
    clock_effects: list[dict[str, Any]] = []
    decide_effects: list[dict[str, Any]] = []
    before_team = case.team_id
    raise_to: int | None = None
    for effect in outcome.effects:
        if effect.type == "set_field":
            name = str(effect.params["field"])
            value = effect.params.get("value")
            if value is None or value == "":  # clears the field (validated: only where it may be empty)
                setattr(case, name, None if name in ("redress_amount", "goodwill_amount") else "")
            else:
                setattr(case, name, _settable_value(name, value))
        elif effect.type == "escalation":
            level = int(effect.params.get("level") or 0)
            if level > case.escalation_level and process.next_escalation_level(case.escalation_level) is not None:
                raise_to = level  # raised below, after the step is saved: handlers, reassignment, mail
            else:
                case.escalation_level = level
        elif effect.type == "clock":
            clock_effects.append(effect.as_dict())
        elif effect.type == "decide":
            decide_effects.append(effect.as_dict())
        else:  # send_template, webhook: intake carries them out (core.events subscriber)
            announced.append(effect.as_dict())
    # Decision steps (the decisions app): evaluated on the case as the step leaves it (entered
    # values and set fields included); their outputs set team, priority or severity with it.
    decided = _decide_effects(case, decide_effects, actor=actor, now=now, transition=step.key)
    assigned = before_team != case.team_id
    case.status = target.key
    case.status_kind = target.kind
    if case.status_kind == StatusKind.CLOSED:
        case.closed_at = now
    elif case.status_kind in (StatusKind.OPEN, StatusKind.WAITING):
        case.closed_at = None
    case.version += 1
    case.last_activity_at = now
    case.save()
    clock_changes = clock_services.clocks_follow_status(
        case, from_kind, case.status_kind, now, old_pauses=source.pauses, new_pauses=target.pauses
    )
    _timeline(
        case,
        kind=InteractionKind.STATUS_CHANGE,
        actor=actor,
        occurred_at=now,
        body_text=note,
        author_label="" if actor is not None else "system",
        data={
            "transition": step.key,
            "from": from_status,
            "to": case.status,
            "from_label_en": source.label_en,
            "to_label_en": target.label_en,
            "from_label_de": source.label_de,
            "to_label_de": target.label_de,
            **({"process": running.definition.key, "process_version": running.definition.version} if running.definition else {}),
        },
    )
    decisions = [step_done.finish(case) for step_done in decided]
    for clock_effect in clock_effects:
        clock_changes.update(apply_clock_effect(case=case, effect=clock_effect, at=now))
    if raise_to is not None:
        # As the job and a manual escalation do: the level's handlers watch and hear of it,
        # and its `assign_to` may hand the case on (ADR 0024).
        from . import escalation

        escalation.raise_level(
            case, process, actor=actor, now=now, cause={"cause": "transition", "transition": step.key}, to_level=raise_to
        )
    after = snapshot(case, ["status", "status_kind", "closed_at", "version", "team", *CLOSING_AUDIT_FIELDS])
    if after["custom_fields"] != before["custom_fields"]:
        field_values.sync(case)
    after["transition"] = step.key
    if confirmed:
        after["checklist"] = sorted(confirmed & {item.key for item in step.checklist})
    if outcome.effects:
        after["effects"] = [effect.as_dict() for effect in outcome.effects]
    if note:
        after["note"] = note
    if clock_changes:
        after["clocks"] = clock_changes
    if decisions:
        after["decisions"] = decisions
    audit_record(actor=actor or "system", action="case.transition", obj=case, before=before, after=after)
    events.emit(
        "case.transitioned",
        {**_event_payload(case), "transition": step.key, "from": from_status, **({"effects": announced} if announced else {})},
    )
    if assigned:
        events.emit("case.assigned", _event_payload(case))
    return case


class DecisionStepsUnavailable(ValidationFailed):
    code = "decision_step_unavailable"
    default_message = gettext_lazy("This step decides with a decision table, but decision tables are not available.")


def _decide_effects(
    case: Case, effects: list[dict[str, Any]], *, actor: Actor, now: dt.datetime, transition: str
) -> list[case_process.EffectStep]:
    """Runs the step's `decide` effects through the decisions app (registered in its ready():
    cases does not import it) and sets the case fields their outputs name; a field changed
    gets a field-change entry on the timeline (the step's audit event has it in before/after)."""
    if not effects:
        return []
    handler = case_process.effect_handler("decide")
    if handler is None:
        raise DecisionStepsUnavailable(field_errors={"transition": [str(DecisionStepsUnavailable.default_message)]})
    done = []
    for effect in effects:
        result = handler(case, effect, actor=actor, now=now, transition=transition)
        old: dict[str, Any] = {}
        new: dict[str, Any] = {}
        for name, value in result.changes.items():
            attname = "team_id" if name == "team" else name
            before = getattr(case, attname)
            setattr(case, name, value)
            after = getattr(case, attname)
            if after != before:
                old[name], new[name] = before, after
        if new:
            fields = list(new)
            _timeline(
                case,
                kind=InteractionKind.FIELD_CHANGE,
                actor=actor,
                occurred_at=now,
                data={**_field_change_data(fields, old, new), "by": "decision_step", "table": str(effect.get("table") or "")},
            )
        done.append(result)
    return done


def _field_change_data(fields: list[str], old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A field-change timeline entry's data: the fields, their stored and their readable values."""
    return {
        "fields": fields,
        "from": {k: old[k] for k in fields},
        "to": {k: new[k] for k in fields},
        "display_from": {k: _readable(k, old[k]) for k in fields},
        "display_to": {k: _readable(k, new[k]) for k in fields},
    }


class EscalationNotPossible(ValidationFailed):
    code = "escalation_not_possible"


ESCALATION_REASON_MAX = 2000


@transaction.atomic
def case_escalate(*, actor: Actor, case: Case, reason: str, expected_version: int | None = None) -> Case:
    """Raises the case by hand to the next escalation level of its process version, with a
    reason (required). Like `case_transition`: the case row is locked and the edit right
    checked on it, then the version; at the highest level (or in a process without levels)
    it is a 422 naming `escalation_level` and nothing changes. The handlers of the new level
    become watchers and are told (timeline entry, e-mail); audit event `case.escalate`,
    event `case.escalated` (cases/escalation.py)."""
    from . import escalation

    case = _lock(case)
    if actor is not None:
        _require_edit(actor, case)
    _check_version(case, expected_version)
    reason = _text(reason, "reason", max_length=ESCALATION_REASON_MAX, required=True)
    if not is_storable(reason):
        raise ValidationFailed(field_errors={"reason": [_("This text contains a character that cannot be stored.")]})
    process = case_process.process_of(case).process
    if process.next_escalation_level(case.escalation_level) is None:
        message = (
            _("This case is at the highest escalation level of its process.")
            if process.escalation_levels
            else _("The process of this case has no escalation levels.")
        )
        raise EscalationNotPossible(message, field_errors={"escalation_level": [message]})
    escalation.raise_level(case, process, actor=actor, now=timezone.now(), reason=reason, cause={"cause": "manual"})
    return case


# --- timeline -----------------------------------------------------------------------------


@transaction.atomic
def interaction_add(
    *,
    actor: Actor,
    case: Case,
    kind: str,
    body_text: str = "",
    body_html: str = "",
    subject: str = "",
    channel: str = "",
    is_internal: bool = True,
    author_label: str = "",
    data: dict[str, Any] | None = None,
    message_id: str = "",
    occurred_at: dt.datetime | None = None,
    delivery_status: str = "",
) -> Interaction:
    """Adds a note or message to the timeline. Agents add notes and outbound messages;
    inbound messages come from intake (`actor=None`, the system). `delivery_status`:
    an outbound message's initial status (queued)."""
    if actor is None:
        if kind not in (InteractionKind.INBOUND_MESSAGE, InteractionKind.SYSTEM, InteractionKind.OUTBOUND_MESSAGE):
            raise ValidationFailed(field_errors={"kind": [_("Choose one of the offered values.")]})
    else:
        _require_edit(actor, case)  # early answer; checked again on the locked row below
        if kind not in permissions.AGENT_NOTE_KINDS:
            raise ValidationFailed(field_errors={"kind": [_("Choose one of the offered values.")]})
    errors: dict[str, list[str]] = {}
    clean_html = sanitize_html(body_html)
    body_text = (body_text or "").strip()
    if not body_text and clean_html:
        body_text = html_to_text(clean_html)
    # An e-mail may carry no text of its own (only a scan, a forwarded message): it is still
    # the customer's message, so intake may add it empty.
    if not body_text and not clean_html and not (actor is None and kind == InteractionKind.INBOUND_MESSAGE):
        errors["body_text"] = [_("This field is required.")]
    if len(body_text) > 1_000_000:
        errors["body_text"] = [_("The text is too long.")]
    if channel and channel not in Channel.values:
        errors["channel"] = [_("Choose one of the offered values.")]
    if len(subject or "") > 255:
        errors["subject"] = [_("At most %(n)s characters.") % {"n": 255}]
    if delivery_status and delivery_status not in DeliveryStatus.values:
        errors["delivery_status"] = [_("Choose one of the offered values.")]
    if errors:
        raise ValidationFailed(field_errors=errors)
    now = timezone.now()
    if actor is None:
        _touch(case, now)
    else:
        case = _lock(case)
        _require_edit(actor, case)  # visibility on the locked row
    if kind == InteractionKind.PHONE_NOTE and not channel:
        channel = Channel.PHONE
    interaction = _timeline(
        case,
        kind=kind,
        actor=actor,
        occurred_at=occurred_at or now,
        body_text=body_text,
        body_html=clean_html,
        subject=(subject or "").strip()[:255],
        channel=channel or "",
        is_internal=bool(is_internal),
        author_label=(author_label or "")[:255],
        data=data or {},
        message_id=(message_id or "")[:500],
        delivery_status=delivery_status,
    )
    if actor is None and kind == InteractionKind.INBOUND_MESSAGE:
        clock_services.clocks_on_inbound(case, occurred_at or now)
    if actor is not None:
        case.last_activity_at = now
        case.save(update_fields=["last_activity_at", "updated_at"])
    if kind in (
        InteractionKind.INBOUND_MESSAGE,
        InteractionKind.OUTBOUND_MESSAGE,
        InteractionKind.PHONE_NOTE,
        InteractionKind.INTERNAL_NOTE,
    ):
        _search_document_append(case, f"{subject}\n{body_text}".strip(), now)
    audit_record(
        actor=actor or "system",
        action="interaction.add",
        obj=interaction,
        after={
            "case": case.pk,
            "kind": kind,
            "is_internal": interaction.is_internal,
            "subject": interaction.subject,
            "length": len(body_text),
        },
    )
    return interaction


@transaction.atomic
def attachment_add(
    *,
    actor: Actor,
    case: Case,
    uploaded_file: Any,
    interaction: Interaction | None = None,
    name: str | None = None,
    keep_risky: bool = False,
) -> Attachment:
    """Stores a file for a case under a random name after checking its size and real type.

    `uploaded_file` is a Django UploadedFile, bytes (with `name`), or a (name, bytes) pair.
    Without `interaction`, an ATTACHMENT entry is added to the timeline. `keep_risky`
    (intake only, `actor=None`): a kind that uploads refuse is kept for download only.
    """
    if actor is not None:
        _require_edit(actor, case)
    if interaction is not None and interaction.case_id != case.pk:
        raise ValidationFailed(field_errors={"interaction": [_("This entry belongs to another case.")]})
    prepared = attachment_files.prepare(uploaded_file, name, keep_risky=keep_risky and actor is None)
    case = _lock(case)
    if actor is not None:
        _require_edit(actor, case)  # again on the locked row
    now = timezone.now()
    if interaction is None:
        interaction = _timeline(
            case,
            kind=InteractionKind.ATTACHMENT,
            actor=actor,
            occurred_at=now,
            author_label="" if actor is not None else "system",
            data={"original_name": prepared.original_name, "size": prepared.size, "content_type": prepared.kind.content_type},
        )
    attachment = Attachment(
        case=case,
        interaction=interaction,
        stored_name=prepared.stored_name,
        original_name=prepared.original_name,
        content_type=prepared.kind.content_type,
        size=prepared.size,
        sha256=prepared.sha256,
        download_note=prepared.download_note,
        uploaded_by=acting_user(actor),
    )
    # On disk only once the row has committed: staged now, moved into place on commit.
    storedfiles.stage(attachment.file, attachment_path(attachment, prepared.stored_name), prepared.content)
    attachment.save()
    case.last_activity_at = now
    case.save(update_fields=["last_activity_at", "updated_at"])
    audit_record(
        actor=actor or "system",
        action="attachment.add",
        obj=attachment,
        after={
            "case": case.pk,
            "original_name": attachment.original_name,
            "size": attachment.size,
            "content_type": attachment.content_type,
            "sha256": attachment.sha256,
            "download_note": attachment.download_note,
        },
    )
    return attachment


@transaction.atomic
def case_link(*, actor: Actor, case: Case, other: Case, kind: str = CaseLinkKind.RELATED) -> CaseLink:
    """Links two cases (related, or duplicate of `other`)."""
    _require_edit(actor, case)
    if not is_visible(actor, other):
        raise ValidationFailed(field_errors={"other": [_("This case does not exist.")]})
    if other.pk == case.pk:
        raise ValidationFailed(field_errors={"other": [_("A case cannot be linked to itself.")]})
    kind = _choice(kind, "kind", CaseLinkKind.values)
    if (
        CaseLink.objects.filter(from_case=case, to_case=other).exists()
        or CaseLink.objects.filter(from_case=other, to_case=case).exists()
    ):
        raise ValidationFailed(field_errors={"other": [_("The cases are linked already.")]})
    link = CaseLink.objects.create(from_case=case, to_case=other, kind=kind)
    _timeline(
        case,
        kind=InteractionKind.SYSTEM,
        actor=actor,
        data={"event": "linked", "kind": kind, "other": other.pk, "other_reference": other.reference},
    )
    audit_record(actor=actor, action="case.link", obj=case, after={"to_case": other.pk, "kind": kind})
    return link


@transaction.atomic
def case_watch(*, actor: Actor, case: Case, watching: bool) -> Case:
    """Starts or stops watching a case (the actor only; others via case_update(watchers=…))."""
    if not is_visible(actor, case):
        raise NotFound()
    if not permissions.may_edit_cases(actor):
        raise PermissionDenied()
    already = case.watchers.filter(pk=actor.pk).exists()
    if bool(watching) == already:
        return case
    if watching:
        case.watchers.add(actor)
    else:
        case.watchers.remove(actor)
    audit_record(
        actor=actor,
        action="case.watch" if watching else "case.unwatch",
        obj=case,
        after={"user": actor.pk, "watching": bool(watching)},
    )
    return case


# --- categories ---------------------------------------------------------------------------


@transaction.atomic
def category_create(*, actor: Actor, parent: Category | None, key: str, name_de: str, name_en: str) -> Category:
    """Adds a node to the category tree; keeps the materialised path ("3/17/42/") and depth."""
    from leitplanke.accounts.permissions import MANAGE_ORGANISATION, MANAGE_PROCESSES, has_capability

    if actor is not None and not (has_capability(actor, MANAGE_ORGANISATION) or has_capability(actor, MANAGE_PROCESSES)):
        raise PermissionDenied()
    key = _text(key, "key", max_length=80, required=True)
    if not re.fullmatch(r"[-a-z0-9_]+", key):
        raise ValidationFailed(field_errors={"key": [_("Use lower-case letters, digits, hyphens and underscores.")]})
    name_de = _text(name_de, "name_de", max_length=200, required=True)
    name_en = _text(name_en, "name_en", max_length=200, required=True)
    if Category.objects.filter(key=key).exists():
        raise ValidationFailed(field_errors={"key": [_("This key exists already.")]})
    if parent is not None and parent.depth >= 5:
        raise ValidationFailed(field_errors={"parent": [_("The tree may be at most six levels deep.")]})
    category = Category.objects.create(
        parent=parent, key=key, name_de=name_de, name_en=name_en, path="", depth=(parent.depth + 1) if parent else 0
    )
    category.path = f"{parent.path if parent else ''}{category.pk}/"
    if len(category.path) > 255:
        raise ValidationFailed(field_errors={"parent": [_("The tree is too deep.")]})
    category.save(update_fields=["path"])
    audit_record(
        actor=actor or "system",
        action="category.create",
        obj=category,
        after=snapshot(category, ["parent", "key", "name_de", "name_en", "path", "depth"]),
    )
    return category


# --- process versions ---------------------------------------------------------------------


class ProcessMigrationRefused(ValidationFailed):
    code = "process_migration_refused"


def _migration_plan(from_definition: Any, to_definition: Any, mapping: dict[str, str]) -> dict[str, str]:
    """The full state mapping: explicit pairs, and states with the same key in the new
    version. Refuses (nothing changed) unknown states, and open states left unmapped."""
    errors: dict[str, list[str]] = {}
    if from_definition.key != to_definition.key or to_definition.version <= from_definition.version:
        errors["to"] = [_("Choose a newer version of the same process.")]
    if to_definition.status != "published":
        errors["to"] = [_("Cases move only to the published version.")]
    old_states = {s["key"]: s["kind"] for s in from_definition.definition.get("states", [])}
    new_states = {s["key"]: s["kind"] for s in to_definition.definition.get("states", [])}
    for old, new in mapping.items():
        if old not in old_states:
            errors.setdefault("map", []).append(_("%(state)s is not a state of the old version.") % {"state": old})
        if new not in new_states:
            errors.setdefault("map", []).append(_("%(state)s is not a state of the new version.") % {"state": new})
    plan = {key: key for key in old_states if key in new_states and old_states[key] != "closed"}
    plan.update({old: new for old, new in mapping.items() if old in old_states})
    unmapped = sorted(key for key, kind in old_states.items() if kind != "closed" and key not in plan)
    if unmapped:
        errors.setdefault("map", []).append(
            _("Map these states of the old version: %(states)s") % {"states": ", ".join(unmapped)}
        )
    if errors:
        raise ProcessMigrationRefused(field_errors=errors)
    return plan


def case_process_migrate(
    *, actor: Actor, from_definition: Any, to_definition: Any, mapping: dict[str, str], dry_run: bool = False, batch: int = 500
) -> dict[tuple[str, str], int]:
    """Moves the open cases (not closed) of one process version to a newer one by a state
    mapping, each case locked, changed and audited on its own (`case.process_migrate`),
    in batches of `batch` per transaction. Returns the count per (old, new) state. With
    `dry_run` nothing changes and the counts say what would. A case that a user moved
    meanwhile is taken as it is then (its new status mapped), or left if it closed."""
    plan = _migration_plan(from_definition, to_definition, mapping)
    counts: dict[tuple[str, str], int] = {}
    open_cases = Case.objects.filter(process_version=from_definition).exclude(status_kind=StatusKind.CLOSED)
    if dry_run:
        for status, number in open_cases.values_list("status").annotate(n=models.Count("id")).order_by("status"):
            counts[(status, plan.get(status, status))] = number
        return counts
    new_kinds = {s["key"]: s["kind"] for s in to_definition.definition.get("states", [])}
    last_id = 0
    while True:
        ids = list(open_cases.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return counts
        last_id = ids[-1]
        with transaction.atomic():
            for case in Case.objects.select_for_update().filter(pk__in=ids, process_version=from_definition).order_by("pk"):
                if case.status_kind == StatusKind.CLOSED:
                    continue
                target = plan[case.status]
                before = snapshot(case, ["status", "status_kind", "process_version", "version"])
                case.status, case.status_kind = target, new_kinds[target]
                case.process_version = to_definition
                case.version += 1
                case.save(update_fields=["status", "status_kind", "process_version", "version", "updated_at"])
                after = snapshot(case, ["status", "status_kind", "process_version", "version"])
                after["process"] = f"{to_definition.key}:{to_definition.version}"
                audit_record(actor=actor or "system", action="case.process_migrate", obj=case, before=before, after=after)
                counts[(str(before["status"]), target)] = counts.get((str(before["status"]), target), 0) + 1
