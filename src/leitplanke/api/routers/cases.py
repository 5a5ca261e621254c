"""Cases over the API: the filtered list with cursor paging, create, read, partial change
with If-Match, lifecycle transitions, timeline entries and attachments.

Thin by design: visibility and every write go through `cases.selectors` and
`cases.services`; this module only validates input, resolves ids to objects the actor
may use, and shapes responses (ETag, Location, Idempotency-Key replays).
"""

from __future__ import annotations

import datetime as dt
import json
from contextlib import suppress
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from ninja import File, Form, Header, Path, Query, Router, Schema, UploadedFile
from pydantic import BeforeValidator, Field, StringConstraints, model_validator

from leitplanke.accounts.actors import Actor
from leitplanke.api.auth import require_scope
from leitplanke.api.etag import etag_for, expected_version
from leitplanke.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from leitplanke.api.idempotency import HEADER_DESCRIPTION as IDEMPOTENCY_DESCRIPTION
from leitplanke.api.idempotency import acting, idempotent
from leitplanke.api.problems import input_names
from leitplanke.api.schemas import MAX_ID, Id, IdParam, InputSchema, IsoAwareDatetime, IsoDate, Problem, StrictBool, exact_int
from leitplanke.cases import attachments as attachment_files
from leitplanke.cases import clock_services, list_selectors, selectors, services
from leitplanke.cases.process import process_of
from leitplanke.core.errors import DomainError, NotFound, ValidationFailed
from leitplanke.core.pagination import keyset_page
from leitplanke.processes.catalogue import SETTABLE as SETTABLE_FIELDS
from leitplanke.processes.texts import reason_text

router = Router(tags=["cases"])

# The API's vocabulary, spelled out: a published enum changes only on purpose (a test
# checks it against the model choices). Routers import no models (import-linter).
Case = Any  # annotations only: cases.models.Case
ChannelValue = Literal["email", "web_form", "phone", "letter", "chat", "api", "social"]
PriorityValue = Literal[1, 2, 3, 4]
PriorityIn = Annotated[PriorityValue, BeforeValidator(exact_int)]  # not `true`, not `2.0`
SeverityValue = Literal["minor", "moderate", "major", "critical"]
StatusKindValue = Literal["open", "waiting", "resolved", "closed"]

ERRORS: dict[int, Any] = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 422: Problem}
WRITE_ERRORS: dict[int, Any] = {**ERRORS, 409: Problem, 412: Problem, 415: Problem}
# The relations CaseSummary and CaseOut show (the other references are plain ids).
LIST_RELATED = ("case_type", "customer", "team", "responsible_user", "category")
NOT_AVAILABLE = _("This choice does not exist.")  # the services' words for an unknown id


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"
    status = 415
    default_message = _("Send the request body as application/json.")


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    status = 413
    default_message = _("The file is too large.")


# --- schemas: references -------------------------------------------------------------------


class CaseTypeRef(Schema):
    key: str = Field(examples=["complaint"])
    name_de: str = Field(examples=["Beschwerde"])
    name_en: str = Field(examples=["Complaint"])


class CategoryRef(Schema):
    id: int = Field(examples=[17])
    key: str = Field(examples=["billing-wrong-amount"])
    name_de: str = Field(examples=["Falscher Rechnungsbetrag"])
    name_en: str = Field(examples=["Wrong invoice amount"])
    path: str = Field(examples=["3/17/"], description="Materialised path of ids from the root.")


class CustomerRef(Schema):
    id: int = Field(examples=[42])
    customer_number: str = Field(examples=["K-100042"])
    display_name: str = Field(examples=["Müller, Anna"])


class TeamRef(Schema):
    id: int = Field(examples=[2])
    name: str = Field(examples=["Beschwerdemanagement Nord"])


class UserRef(Schema):
    id: int = Field(examples=[7])
    full_name: str = Field(examples=["Aaron Agent"])


# --- schemas: cases ------------------------------------------------------------------------


class ProcessRef(Schema):
    key: str = Field(examples=["complaint"])
    version: int = Field(examples=[1])


class CaseSummary(Schema):
    """A case as lists show it."""

    id: int = Field(examples=[123])
    reference: str = Field(examples=["LP-2026-000123"])
    case_type: CaseTypeRef
    subject: str = Field(examples=["Rechnung doppelt abgebucht"])
    channel: ChannelValue = Field(examples=["phone"])
    language: str = Field(examples=["de"])
    received_at: dt.datetime = Field(examples=["2026-03-02T09:15:00+01:00"])
    customer: CustomerRef | None
    product_id: int | None = Field(examples=[5])
    category: CategoryRef | None
    priority: PriorityValue = Field(examples=[2], description="1 low, 2 normal, 3 high, 4 urgent.")
    severity: SeverityValue = Field(examples=["minor"])
    status: str = Field(examples=["in_progress"], description="Lifecycle state key.")
    status_kind: StatusKindValue = Field(examples=["open"])
    team: TeamRef | None
    responsible_user: UserRef | None
    tags: list[str] = Field(examples=[["billing", "vip"]])
    custom_fields: dict[str, Any] = Field(examples=[{"amount_disputed": "49.90"}])
    last_activity_at: dt.datetime | None = Field(examples=["2026-03-03T14:00:00+01:00"])
    updated_at: dt.datetime
    version: int = Field(examples=[3], description='Incremented on every change; the ETag is W/"<version>".')

    @staticmethod
    def resolve_tags(obj: Case, context: dict[str, Any] | None = None) -> list[str]:
        if context and "tags" in context:  # the caller knows them (a new case without tags)
            return list(context["tags"])
        return [tag.name for tag in obj.tags.all()]


class CaseOut(CaseSummary):
    """One case with everything the detail page shows (without its timeline)."""

    description: str = Field(examples=["Der Betrag wurde am 1. März zweimal abgebucht."])
    contract_id: int | None = Field(examples=[9])
    parent_id: int | None = Field(examples=[None])
    registered_at: dt.datetime
    closed_at: dt.datetime | None
    status_label_de: str = Field(examples=["In Bearbeitung"])
    status_label_en: str = Field(examples=["In progress"])
    process: ProcessRef | None = Field(description="The process version the case runs on (docs/processes.md).")
    escalation_level: int = Field(examples=[0])
    outcome: Literal["", "upheld", "partly_upheld", "not_upheld"] = Field(examples=["partly_upheld"])
    root_cause: str = Field(examples=["billing"], description="Root-cause category, set when closing.")
    resolution_summary: str = Field(examples=["Doppelte Abbuchung erstattet."])
    redress_amount: str | None = Field(examples=["49.90"], description="Owed for the fault (decimal string).")
    goodwill_amount: str | None = Field(examples=["10.00"], description="Paid without obligation (decimal string).")
    currency: str = Field(examples=["EUR"])
    etag: str = Field(examples=['W/"3"'], description="Send it as If-Match when you change the case.")

    @staticmethod
    def resolve_status_label_de(obj: Case) -> str:
        return selectors.status_label(obj, "de")

    @staticmethod
    def resolve_status_label_en(obj: Case) -> str:
        return selectors.status_label(obj, "en")

    @staticmethod
    def resolve_process(obj: Case) -> dict[str, Any] | None:
        definition = process_of(obj).definition
        return {"key": definition.key, "version": definition.version} if definition is not None else None

    @staticmethod
    def resolve_redress_amount(obj: Case) -> str | None:
        return None if obj.redress_amount is None else str(obj.redress_amount)

    @staticmethod
    def resolve_goodwill_amount(obj: Case) -> str | None:
        return None if obj.goodwill_amount is None else str(obj.goodwill_amount)

    @staticmethod
    def resolve_etag(obj: Case) -> str:
        return etag_for(obj)


class CasePage(Schema):
    items: list[CaseSummary]
    next_cursor: str | None = Field(examples=[None], description="Pass as `cursor` for the next page; null on the last.")


TagName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]


class CaseCreateIn(InputSchema):
    """A new case. Ids refer to objects the caller may use (else 422 pointing at the field)."""

    case_type: str = Field(max_length=50, examples=["complaint"], description="Key of an active case type (GET /case-types).")
    subject: str = Field(min_length=1, max_length=255, examples=["Rechnung doppelt abgebucht"])
    description: str = Field("", max_length=100_000, examples=["Der Betrag wurde am 1. März zweimal abgebucht."])
    channel: ChannelValue = Field(examples=["phone"])
    received_at: IsoAwareDatetime | None = Field(
        None,
        examples=["2026-03-02T09:15:00+01:00"],
        description="When the organisation received it (default: now); with time zone.",
    )
    language: Literal["de", "en"] = Field("de", examples=["de"])
    customer_id: Id | None = Field(None, examples=[42])
    contract_id: Id | None = Field(None, examples=[9], description="Must belong to the customer.")
    product_id: Id | None = Field(None, examples=[5])
    category_id: Id | None = Field(None, examples=[17], description="An active category (GET /categories).")
    priority: PriorityIn = Field(2, examples=[2])
    severity: SeverityValue = Field("minor", examples=["minor"])
    team_id: Id | None = Field(None, examples=[2])
    responsible_user_id: Id | None = Field(None, examples=[7])
    parent_id: Id | None = Field(None, examples=[None], description="A visible case this one belongs to.")
    tags: list[TagName] = Field(default_factory=list, max_length=50, examples=[["billing"]])
    custom_fields: dict[str, Any] = Field(
        default_factory=dict,
        examples=[{"amount_disputed": "49.90"}],
        description="Values for the case type's custom fields, by key.",
    )


class CasePatchIn(InputSchema):
    """Only the fields sent are changed; `null` clears an optional reference."""

    subject: str | None = Field(None, min_length=1, max_length=255, examples=["Rechnung doppelt abgebucht (Februar)"])
    description: str | None = Field(None, max_length=100_000)
    channel: ChannelValue | None = Field(None, examples=["email"])
    received_at: IsoAwareDatetime | None = Field(None, examples=["2026-03-02T09:15:00+01:00"])
    language: Literal["de", "en"] | None = Field(None, examples=["en"])
    customer_id: Id | None = Field(None, examples=[42])
    contract_id: Id | None = Field(None, examples=[9])
    product_id: Id | None = Field(None, examples=[5])
    category_id: Id | None = Field(None, examples=[17])
    priority: PriorityIn | None = Field(None, examples=[3])
    severity: SeverityValue | None = Field(None, examples=["major"])
    team_id: Id | None = Field(None, examples=[2])
    responsible_user_id: Id | None = Field(None, examples=[7])
    parent_id: Id | None = Field(None, examples=[None])
    tags: list[TagName] | None = Field(None, max_length=50, examples=[["billing", "vip"]])
    custom_fields: dict[str, Any] | None = Field(None, examples=[{"amount_disputed": "59.90"}])


# Fields that exist on every case: sending null for them is a mistake, not "clear".
NOT_NULLABLE = ("subject", "description", "channel", "received_at", "language", "priority", "severity", "tags", "custom_fields")


class CaseListQuery(Schema):
    """Filters of the case list; all combine with AND, repeated values of one filter with OR.
    Custom fields filter as `cf.<key>=<value>`, `cf.<key>.min=` and `cf.<key>.max=` (see the
    list endpoint's description); they are read from the query string by name."""

    status: list[str] = Field(default_factory=list, examples=[["new", "in_progress"]], description="Lifecycle state keys.")
    status_kind: list[StatusKindValue] = Field(default_factory=list, examples=[["open", "waiting"]])
    case_type: list[str] = Field(default_factory=list, examples=[["complaint"]], description="Case type keys.")
    team: IdParam | None = Field(None, examples=[2], description="Team id.")
    responsible: str | None = Field(
        None, pattern=r"^(\d+|me|none)$", examples=["me"], description="User id, `me`, or `none` for unassigned cases."
    )
    category: IdParam | None = Field(None, examples=[3], description="Category id; includes its subcategories.")
    priority: list[Annotated[int, Field(ge=1, le=4)]] = Field(
        default_factory=list, examples=[[3, 4]], description="1 low, 2 normal, 3 high, 4 urgent."
    )
    channel: list[ChannelValue] = Field(default_factory=list, examples=[["email"]])
    customer: IdParam | None = Field(None, examples=[42], description="Customer id.")
    product: IdParam | None = Field(None, examples=[5], description="Product id.")
    received_from: IsoDate | None = Field(None, examples=["2026-01-01"], description="Received on or after this day.")
    received_to: IsoDate | None = Field(None, examples=["2026-03-31"], description="Received on or before this day.")
    tag: list[str] = Field(default_factory=list, examples=[["vip"]], description="Tag name; repeat for any of several.")
    q: str | None = Field(None, max_length=200, examples=["doppelt abgebucht"], description="Full-text search.")
    deadline: list[Literal["overdue", "at_risk", "running"]] = Field(
        default_factory=list,
        examples=[["overdue", "at_risk"]],
        description="By deadline clocks: the earliest running one overdue, past its warning, or any running.",
    )
    ordering: Literal["-received_at", "received_at", "next_due_at"] = Field(
        "-received_at", description="Newest (default) or oldest first, or the next due deadline first."
    )
    cursor: str | None = Field(None, description="`next_cursor` of the previous page.")
    limit: int = Field(50, ge=1, le=200, examples=[50])


# --- schemas: transitions, interactions, attachments ------------------------------------------


class ReasonOut(Schema):
    code: Literal["role", "guard", "requires", "checklist"] = Field(examples=["requires"])
    subject: str = Field(examples=["root_cause"], description="The field, checklist item, roles or guard concerned.")
    text_de: str = Field(examples=["erfordert: Ursachenkategorie"])
    text_en: str = Field(examples=["requires: Root cause"])


class ChecklistItemOut(Schema):
    key: str = Field(examples=["identity_verified"])
    label_de: str
    label_en: str


class TransitionOut(Schema):
    key: str = Field(examples=["start"])
    label_de: str = Field(examples=["Bearbeitung beginnen"])
    label_en: str = Field(examples=["Start work"])
    target: str = Field(examples=["in_progress"])
    target_kind: str = Field(examples=["open"])
    available: bool = Field(examples=[True], description="False: `reasons` says why.")
    reasons: list[ReasonOut] = Field(
        description="Why the step is not available; `requires` and `checklist` can be met by sending "
        "`fields` and `checklist` with the step."
    )
    requires: list[str] = Field(examples=[["outcome", "root_cause", "resolution_summary"]])
    checklist: list[ChecklistItemOut]


SettableValue = Annotated[str, StringConstraints(max_length=10_000)] | int | float | None


class TransitionIn(InputSchema):
    """A step of the case's process named by its key (GET /cases/{id}/transitions lists them
    with their availability). `fields`: values the step requires (the closing fields of a
    complaint: outcome, root_cause, resolution_summary, redress_amount, goodwill_amount,
    currency); `checklist`: the keys of the checklist items confirmed."""

    transition: str = Field(min_length=1, max_length=50, examples=["start"])
    # The timeline note of the step: the service's limit (the case page's form has the same).
    note: str = Field("", max_length=services.TEXT_MAX, examples=["Kunde telefonisch informiert."])
    fields: dict[Annotated[str, StringConstraints(max_length=50)], SettableValue] = Field(
        default_factory=dict,
        max_length=20,
        examples=[
            {
                "outcome": "partly_upheld",
                "root_cause": "billing",
                "resolution_summary": "Gutschrift erteilt.",
                "redress_amount": "25.00",
                "goodwill_amount": "10.00",
                "currency": "EUR",
            }
        ],
    )
    checklist: list[Annotated[str, StringConstraints(max_length=50)]] = Field(default_factory=list, max_length=50)


class InteractionOut(Schema):
    id: int = Field(examples=[311])
    kind: str = Field(examples=["internal_note"])
    occurred_at: dt.datetime
    author: UserRef | None
    author_label: str = Field(examples=["Aaron Agent"])
    channel: str = Field(examples=[""])
    subject: str = Field(examples=[""])
    body_text: str = Field(examples=["Rückruf vereinbart für Dienstag."])
    body_html: str = Field(examples=[""], description="Sanitised HTML.")
    is_internal: bool = Field(examples=[True])
    data: dict[str, Any] = Field(examples=[{}], description="Details, e.g. from/to of a status change.")
    delivery_status: str = Field(examples=[""])
    attachment_ids: list[int] = Field(examples=[[]])

    @staticmethod
    def resolve_attachment_ids(obj: Any) -> list[int]:
        return [attachment.pk for attachment in obj.attachments.all()]


class InteractionPage(Schema):
    items: list[InteractionOut]
    next_cursor: str | None


class InteractionIn(InputSchema):
    """A note on the case's timeline: internal, or the summary of a phone call."""

    kind: Literal["internal_note", "phone_note"] = Field(examples=["phone_note"])
    subject: str = Field("", max_length=255, examples=["Rückruf"])
    body_text: str = Field("", max_length=100_000, examples=["Kundin bestätigt die doppelte Abbuchung."])
    body_html: str = Field("", max_length=200_000, examples=[""], description="Sanitised before it is stored.")
    is_internal: StrictBool = Field(True, examples=[True])

    @model_validator(mode="after")
    def _has_body(self) -> InteractionIn:
        if not (self.body_text.strip() or self.body_html.strip()):
            raise ValueError("body_text or body_html is required")
        return self


class AttachmentOut(Schema):
    id: int = Field(examples=[88])
    original_name: str = Field(examples=["kontoauszug.pdf"])
    content_type: str = Field(examples=["application/pdf"], description="Detected from the content, not the client.")
    size: int = Field(examples=[48213])
    sha256: str = Field(examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"])
    interaction_id: int | None = Field(examples=[None])
    uploaded_by: UserRef | None
    created_at: dt.datetime
    download_url: str = Field(examples=["/cases/123/attachments/88/"])

    @staticmethod
    def resolve_download_url(obj: Any) -> str:
        return attachment_download_url(obj.case_id, obj.pk)


def attachment_download_url(case_id: int, attachment_id: int) -> str:
    """The permission-checked download view of the case pages."""
    for name in ("cases:attachment_download", "cases:attachment"):
        try:
            return reverse(name, kwargs={"case_id": case_id, "attachment_id": attachment_id})
        except NoReverseMatch:
            continue
    return f"/cases/{case_id}/attachments/{attachment_id}/"


# --- helpers ---------------------------------------------------------------------------------


def _require_json(request: HttpRequest) -> None:
    content_type = (request.content_type or "").lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaType(content_type=content_type or "none")


def _json_response(status: int, data: Any, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(data, ensure_ascii=False), status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def case_url(case: Case) -> str:
    return reverse("api:case_detail", kwargs={"case_id": str(case.pk)})


def _case_response(request: HttpRequest, case: Case, *, status: int = 200, location: bool = False) -> HttpResponse:
    # Re-read with the detail relations (the service may return a bare row); a change that
    # moved the case out of the actor's sight still answers with what was saved.
    with suppress(NotFound):
        case = selectors.case_get(actor=request.user, case_id=case.pk, related=LIST_RELATED)
    return _case_body_response(case, status=status, location=location)


def _case_body_response(
    case: Case, *, status: int = 200, location: bool = False, context: dict[str, Any] | None = None
) -> HttpResponse:
    headers = {"ETag": etag_for(case)}
    if location:
        headers["Location"] = case_url(case)
    return _json_response(status, CaseOut.from_orm(case, context=context).model_dump(mode="json"), headers)


def _case(request: HttpRequest, case_id: str) -> Case:
    key = case_id.strip()
    if key.isascii() and key.isdigit():  # not "²" or "١" (str.isdigit is true for them, int() fails)
        number = int(key)
        if not 1 <= number <= MAX_ID:  # no such row; a larger number would overflow the database
            raise NotFound()
        return selectors.case_get(actor=request.user, case_id=number)
    return selectors.case_get(actor=request.user, reference=key)


# Request fields holding ids → the service argument that takes them. The services look the
# ids up and report unknown or inactive ones per field; `input_names` maps the errors back.
REFERENCE_FIELDS = {
    "customer_id": "customer",
    "contract_id": "contract",
    "product_id": "product",
    "category_id": "category",
    "team_id": "team",
    "responsible_user_id": "responsible_user",
    "parent_id": "parent",
}


# No row has id 0: handing it to the service makes it report the field as unknown,
# together with every other error of the request.
UNKNOWN_ID = 0


def _service_arguments(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Input fields as service arguments. A parent case must be one the actor can see; an
    invisible one is passed on as unknown, so the answer equals that for a missing id."""
    arguments = {REFERENCE_FIELDS.get(field, field): value for field, value in data.items()}
    parent_id = arguments.get("parent")
    if parent_id is not None and not selectors.visible_cases(actor=actor).filter(pk=parent_id).exists():
        arguments["parent"] = UNKNOWN_ID
    if arguments.get("tags") is not None:
        arguments["tags"] = list(dict.fromkeys(arguments["tags"]))
    return arguments


# The services name fields after the model (`customer`); the API after its input (`customer_id`).
SERVICE_FIELDS = {
    "customer": "customer_id",
    "contract": "contract_id",
    "product": "product_id",
    "category": "category_id",
    "team": "team_id",
    "responsible_user": "responsible_user_id",
    "parent": "parent_id",
    "interaction": "interaction_id",
}


def _api_field(field: str) -> str:
    """`customer` → `customer_id`; `custom_fields.x` → `custom_fields/x` (a JSON pointer step)."""
    return SERVICE_FIELDS.get(field, field).replace("custom_fields.", "custom_fields/", 1)


def _case_type(key: str) -> Any:
    case_type = selectors.active_case_type(key)
    if case_type is None:
        raise ValidationFailed(field_errors={"case_type": [str(_("Unknown case type."))]})
    return case_type


# --- list ------------------------------------------------------------------------------------


def _custom_field_params(request: HttpRequest) -> dict[str, list[str]]:
    """The `cf.` parameters as sent; `list_selectors.custom_field_filters` reads them by kind."""
    prefix = list_selectors.CUSTOM_FIELD_PREFIX
    return {name: request.GET.getlist(name) for name in request.GET if name.startswith(prefix)}


def _list_params(params: CaseListQuery, request: HttpRequest) -> dict[str, Any]:
    """The validated query in the vocabulary of `cases.list_selectors.filter_cases` (the
    same filters as the case list in the UI)."""
    responsible = params.responsible
    if responsible == "me":
        responsible = str(request.user.pk)
    out: dict[str, Any] = {
        "status": params.status,
        "status_kind": [str(kind) for kind in params.status_kind],
        "case_type": params.case_type,
        "team": [str(params.team)] if params.team is not None else [],
        "responsible": [responsible] if responsible else [],
        "category": [str(params.category)] if params.category is not None else [],
        "priority": [str(int(priority)) for priority in params.priority],
        "channel": [str(channel) for channel in params.channel],
        "customer": [str(params.customer)] if params.customer is not None else [],
        "product": [str(params.product)] if params.product is not None else [],
        "received_from": params.received_from.isoformat() if params.received_from else None,
        "received_to": params.received_to.isoformat() if params.received_to else None,
        "tags": params.tag,
        "deadline": [str(value) for value in params.deadline],
        "q": (params.q or "").strip(),
        **_custom_field_params(request),
    }
    return out


@router.get("/cases", response={200: CasePage, **ERRORS}, url_name="case_list", summary="List cases")
def list_cases(request: HttpRequest, query: Query[CaseListQuery]) -> dict[str, Any]:
    """The cases the caller may see, newest first, one page at a time.

    Follow `next_cursor` until it is null. The page size is `limit` (1 to 200); the
    number of database queries per page does not grow with the page's contents.

    **Custom fields** filter by the kind of the active field with that key (`GET /case-types`
    lists each type's fields):

    - `cf.<key>=<value>`: the exact value; repeat the parameter for any of several values.
      Numbers and amounts compare as numbers (`49.90`, `49,90` and `49.9` are equal; an
      amount's currency is ignored), yes/no fields take `true` or `false` (also `yes`/`no`,
      `ja`/`nein`, `1`/`0`), dates `YYYY-MM-DD`, choice fields a choice's value, text fields
      the exact text.
    - `cf.<key>.min=<value>` and `cf.<key>.max=<value>`: an inclusive range, for number,
      money (the amount; the currency is ignored) and date fields.

    Example: `GET /api/v1/cases?case_type=complaint&cf.amount_disputed.min=50&cf.amount_disputed.max=200`

    An unknown key, a range on a text, choice or yes/no field, a value the field cannot
    hold, or a `.min` above the `.max` is a 422 `validation_error` whose error points at
    the parameter, e.g. `{"pointer": "/cf.amount_disputed.min", "detail": "Enter an amount such as 12.50."}`.
    If a key has different kinds on different case types, each case is compared by the
    kind of its own type's field.
    """
    require_scope(request, "read")
    if query.received_from and query.received_to and query.received_from > query.received_to:
        raise ValidationFailed(field_errors={"received_to": [str(_("Must not be before received_from."))]})
    params = _list_params(query, request)
    if problems := list_selectors.custom_field_filters(params).errors:
        raise ValidationFailed(field_errors=problems)  # pointers name the parameter: /cf.amount.min
    queryset = list_selectors.filter_cases(selectors.visible_cases(actor=request.user), params)
    queryset = queryset.select_related(*LIST_RELATED).prefetch_related("tags")
    ordering = {
        "-received_at": ["-received_at", "-id"],
        "received_at": ["received_at", "id"],
        "next_due_at": ["next_due_at", "id"],
    }[query.ordering]
    page = keyset_page(queryset, ordering=ordering, cursor=query.cursor, limit=query.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


# --- create, read, change ----------------------------------------------------------------------

IdempotencyKey = Header(None, alias=IDEMPOTENCY_HEADER, max_length=255, description=IDEMPOTENCY_DESCRIPTION)
CaseId = Path(..., examples=["123", "LP-2026-000123"], description="The case's id or its reference.")


@router.post("/cases", response={201: CaseOut, **WRITE_ERRORS}, url_name="case_create", summary="Create a case")
def create_case(request: HttpRequest, payload: CaseCreateIn, idempotency_key: str | None = IdempotencyKey) -> HttpResponse:
    """Registers a case. Answers 201 with the case, its `Location` and `ETag`.

    Send an `Idempotency-Key` to make retries safe: the repeat returns the first
    response and creates nothing.
    """
    require_scope(request, "write")
    _require_json(request)

    def create() -> HttpResponse:
        data = payload.model_dump(exclude={"case_type"})
        fields = _service_arguments(request.user, data)
        with input_names(_api_field):
            case = services.case_create(actor=request.user, case_type=_case_type(payload.case_type), **fields)
        # `case_create` returns the new case with the related rows it validated: no read-back.
        # Its tags are read only if some were sent (the service matches existing tag names).
        context: dict[str, Any] | None = None if payload.tags else {"tags": []}
        return _case_body_response(case, status=201, location=True, context=context)

    return idempotent(request, create)


@router.get("/cases/{case_id}", response={200: CaseOut, 304: None, **ERRORS}, url_name="case_detail", summary="One case")
def get_case(request: HttpRequest, case_id: str = CaseId) -> HttpResponse:
    """The case with its ETag (send it as If-Match to change the case)."""
    require_scope(request, "read")
    case = _case(request, case_id)
    etag = etag_for(case)
    if_none_match = request.headers.get("If-None-Match", "")
    if etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match.strip() == "*":
        response = HttpResponse(status=304)
        response["ETag"] = etag
        return response
    return _json_response(200, CaseOut.from_orm(case).model_dump(mode="json"), {"ETag": etag})


@router.patch(
    "/cases/{case_id}", response={200: CaseOut, 428: Problem, **WRITE_ERRORS}, url_name="case_update", summary="Change a case"
)
def update_case(
    request: HttpRequest,
    payload: CasePatchIn,
    case_id: str = CaseId,
    if_match: str | None = Header(
        None, alias="If-Match", examples=['W/"3"'], description="Required: the ETag of the version you changed."
    ),
) -> HttpResponse:
    """Changes the fields sent. Requires `If-Match` with the case's ETag: without it 428
    (`precondition_required`), with an outdated one 412 (`precondition_failed`) — load
    the case again, reapply your change and retry."""
    require_scope(request, "write")
    _require_json(request)
    case = _case(request, case_id)
    version = expected_version(request, case, required=True)
    data = payload.model_dump(exclude_unset=True)
    nulls = {field: [str(_("This field cannot be empty."))] for field in NOT_NULLABLE if field in data and data[field] is None}
    if nulls:
        raise ValidationFailed(field_errors=nulls)
    changes = _service_arguments(request.user, data)

    def update() -> HttpResponse:
        with input_names(_api_field):
            changed = services.case_update(actor=request.user, case=case, expected_version=version, **changes)
        return _case_response(request, changed)

    return acting(update)


# --- lifecycle ---------------------------------------------------------------------------------


def _transitions(request: HttpRequest, case: Case) -> list[dict[str, Any]]:
    out = []
    for offer in selectors.available_transitions(actor=request.user, case=case):
        transition = offer.transition
        out.append(
            {
                "key": transition.key,
                "label_de": transition.label_de,
                "label_en": transition.label_en,
                "target": transition.target,
                "target_kind": offer.target.kind,
                "available": offer.available,
                "reasons": [
                    {
                        "code": reason.code,
                        "subject": reason.subject,
                        "text_de": _reason_in(reason, "de"),
                        "text_en": _reason_in(reason, "en"),
                    }
                    for reason in offer.reasons
                ],
                "requires": list(transition.requires),
                "checklist": [
                    {"key": item.key, "label_de": item.label_de, "label_en": item.label_en} for item in transition.checklist
                ],
            }
        )
    return out


def _transition_field(field: str) -> str:
    """Entered values are under `fields`, confirmed items under `checklist` in the request."""
    if field in SETTABLE_FIELDS or field.startswith("custom."):
        return f"fields/{field}"
    if field.startswith("checklist."):
        return "checklist/" + field.split(".", 1)[1]
    return _api_field(field)


def _reason_in(reason: Any, language: str) -> str:
    with translation.override(language):
        return reason_text(reason, language)


@router.get(
    "/cases/{case_id}/transitions",
    response={200: list[TransitionOut], **ERRORS},
    url_name="case_transitions",
    summary="The case's next steps, with the reasons for unavailable ones",
)
def list_transitions(request: HttpRequest, case_id: str = CaseId) -> list[dict[str, Any]]:
    """Every step out of the case's current status, each with `available` and, when it is
    not, the `reasons` ("requires: Root cause"); empty for read-only roles."""
    require_scope(request, "read")
    return _transitions(request, _case(request, case_id))


@router.post(
    "/cases/{case_id}/transitions",
    response={200: CaseOut, **WRITE_ERRORS},
    url_name="case_transition",
    summary="Take a lifecycle step",
)
def transition_case(
    request: HttpRequest,
    payload: TransitionIn,
    case_id: str = CaseId,
    idempotency_key: str | None = IdempotencyKey,
    if_match: str | None = Header(
        None, alias="If-Match", examples=['W/"3"'], description="Optional: the ETag you saw; 412 if the case changed since."
    ),
) -> HttpResponse:
    """Moves the case along its process, e.g. `start`, `wait`, `resolve`, `close`.
    An unknown step is a 422 `unknown_transition`; one not possible from the current
    status or whose condition is not met a 422 `transition_not_available`; a step that
    requires fields or checklist items not given a 422 `transition_requirements_missing`
    with one error per missing field (`/root_cause`, `/checklist.identity_verified`);
    a step the caller's role may not take a 403. Nothing changes on a refusal."""
    require_scope(request, "write")
    _require_json(request)
    case = _case(request, case_id)

    def transition() -> HttpResponse:
        version = expected_version(request, case, required=False)
        # The service refuses read-only roles (403), unknown steps (422 `unknown_transition`)
        # and steps not possible from the current status (422 `transition_not_available`).
        with input_names(_transition_field):
            changed = services.case_transition(
                actor=request.user,
                case=case,
                transition=payload.transition,
                expected_version=version,
                note=payload.note,
                fields=dict(payload.fields),
                checklist=list(payload.checklist),
            )
        return _case_response(request, changed)

    return idempotent(request, transition)


# --- escalation ------------------------------------------------------------------------------------


class EscalationIn(InputSchema):
    """Why the case is escalated (required; shown on the timeline and sent to the handlers)."""

    reason: str = Field(min_length=1, max_length=2000, examples=["Kunde droht mit Beschwerde bei der BaFin."])


@router.post(
    "/cases/{case_id}/escalations",
    response={200: CaseOut, **WRITE_ERRORS},
    url_name="case_escalate",
    summary="Escalate a case to the next level",
)
def escalate_case(
    request: HttpRequest,
    payload: EscalationIn,
    case_id: str = CaseId,
    idempotency_key: str | None = IdempotencyKey,
    if_match: str | None = Header(
        None, alias="If-Match", examples=['W/"3"'], description="Optional: the ETag you saw; 412 if the case changed since."
    ),
) -> HttpResponse:
    """Raises the case to the next escalation level of its process version, with a reason.
    The users who handle that level become watchers and are told. At the highest level (or
    in a process without levels) it is a 422 `escalation_not_possible` naming
    `/escalation_level`; a read-only role gets a 403. Nothing changes on a refusal."""
    require_scope(request, "write")
    _require_json(request)
    case = _case(request, case_id)

    def escalate() -> HttpResponse:
        version = expected_version(request, case, required=False)
        changed = services.case_escalate(actor=request.user, case=case, reason=payload.reason, expected_version=version)
        return _case_response(request, changed)

    return idempotent(request, escalate)


# --- deadline clocks -----------------------------------------------------------------------------


class TimeLeft(Schema):
    unit: Literal["business_days", "business_hours", "hours", "days"]
    value: float
    overdue: bool


class ClockOut(Schema):
    id: int
    rule_key: str = Field(examples=["psd2_de"])
    rule_version: int | None
    name_de: str
    name_en: str
    legal_basis: str
    state: Literal["running", "paused", "stopped", "met", "breached"]
    jurisdiction: str = Field(examples=["DE-NW"])
    time_zone: str
    started_at: dt.datetime = Field(description="When the organisation received the complaint (any channel).")
    due_at: dt.datetime | None
    warn_at: dt.datetime | None
    paused_since: dt.datetime | None
    stopped_at: dt.datetime | None
    time_left: TimeLeft | None = Field(description="In the rule's terms; negative when overdue. Only for running clocks.")
    at_risk: bool = Field(description="Past the warning time, not yet due.")
    overdue: bool
    explanation: dict[str, Any] = Field(description="Rule and version, calendar, day one, skipped days, roll, pauses, extension.")
    available_extensions: list[str] = Field(description="Extensions that can still be recorded, e.g. holding_reply.")


@router.get(
    "/cases/{case_id}/clocks",
    response={200: list[ClockOut], **ERRORS},
    url_name="case_clocks",
    summary="Deadline clocks of a case",
)
def list_clocks(request: HttpRequest, case_id: str = CaseId) -> list[dict[str, Any]]:
    """Every deadline clock of the case with its due time, warning, state and explanation."""
    require_scope(request, "read")
    return selectors.case_clocks(actor=request.user, case=_case(request, case_id))


class ClockExtensionIn(InputSchema):
    event: str = Field(max_length=64, examples=["holding_reply"], description="An extension the clock's rule offers.")
    at: IsoAwareDatetime | None = Field(None, description="When it was sent (default: now); before the due time.")
    note: str = Field("", max_length=2000, description="E.g. the reason for the delay given to the customer.")


@router.post(
    "/cases/{case_id}/clocks/{clock_id}/extensions",
    response={200: ClockOut, **WRITE_ERRORS},
    url_name="case_clock_extend",
    summary="Record a holding reply or extension notice on a deadline",
)
def extend_clock(request: HttpRequest, payload: ClockExtensionIn, case_id: str = CaseId, clock_id: int = Path(...)) -> Any:
    """The rule's extended period then applies from receipt (PSD2: 35 business days after a
    holding reply; GDPR: three months after notice). 422 when the rule has no such extension,
    the clock is not running, or the event comes after the due time."""
    require_scope(request, "write")
    _require_json(request)
    case = _case(request, case_id)
    clock = clock_services.clock_extend(
        actor=request.user, case=case, clock_id=clock_id, event=payload.event, at=payload.at, note=payload.note
    )
    return selectors.clock_facts(clock)


# --- timeline ------------------------------------------------------------------------------------


@router.get(
    "/cases/{case_id}/interactions",
    response={200: InteractionPage, **ERRORS},
    url_name="case_interactions",
    summary="The case's timeline",
)
def list_interactions(
    request: HttpRequest, case_id: str = CaseId, cursor: str | None = None, limit: int = Query(50, ge=1, le=200)
) -> dict[str, Any]:
    """Timeline entries oldest first (occurred_at, id), one page at a time."""
    require_scope(request, "read")
    case = _case(request, case_id)
    queryset = case.interactions.select_related("author").prefetch_related("attachments")
    page = keyset_page(queryset, ordering=["occurred_at", "id"], cursor=cursor, limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post(
    "/cases/{case_id}/interactions",
    response={201: InteractionOut, **WRITE_ERRORS},
    url_name="case_interaction_add",
    summary="Add a note",
)
def add_interaction(
    request: HttpRequest, payload: InteractionIn, case_id: str = CaseId, idempotency_key: str | None = IdempotencyKey
) -> HttpResponse:
    """Adds an internal note or a phone note to the timeline."""
    require_scope(request, "write")
    _require_json(request)
    case = _case(request, case_id)

    def add() -> HttpResponse:
        with input_names(_api_field):
            interaction = services.interaction_add(actor=request.user, case=case, **payload.model_dump())
        interaction = case.interactions.select_related("author").prefetch_related("attachments").get(pk=interaction.pk)
        return _json_response(201, InteractionOut.from_orm(interaction).model_dump(mode="json"))

    return idempotent(request, add)


# --- attachments ---------------------------------------------------------------------------------


@router.get(
    "/cases/{case_id}/attachments",
    response={200: list[AttachmentOut], **ERRORS},
    url_name="case_attachments",
    summary="The case's attachments",
)
def list_attachments(request: HttpRequest, case_id: str = CaseId) -> list[Any]:
    """Metadata and download links (the download checks permissions again)."""
    require_scope(request, "read")
    return selectors.case_attachments(actor=request.user, case=_case(request, case_id))


@router.post(
    "/cases/{case_id}/attachments",
    response={201: AttachmentOut, 413: Problem, **WRITE_ERRORS},
    url_name="case_attachment_add",
    summary="Upload an attachment",
)
def add_attachment(
    request: HttpRequest,
    file: File[UploadedFile],
    case_id: str = CaseId,
    interaction_id: int | None = Form(None, ge=1, le=MAX_ID, description="Attach to this timeline entry of the case."),
) -> HttpResponse:
    """Uploads one file as `multipart/form-data` (field `file`).

    The type is detected from the content: programs, scripts and unknown binary formats
    are refused with 415; files above the size limit with 413.
    """
    require_scope(request, "write")
    case = _case(request, case_id)
    limit = attachment_files.max_attachment_bytes()
    if file.size is not None and file.size > limit:
        raise PayloadTooLarge(
            field_errors={
                "file": [str(_("The file is too large (at most %(mb)s MB).") % {"mb": round(limit / (1024 * 1024), 1)})]
            },
            max_bytes=limit,
        )
    head = file.read(limit + 1)
    file.seek(0)
    if head:
        try:
            attachment_files.sniff(head)
        except ValidationFailed as error:
            raise UnsupportedMediaType(error.message, field_errors=error.field_errors) from None
    interaction = None
    if interaction_id is not None:
        interaction = case.interactions.filter(pk=interaction_id).first()
        if interaction is None:
            raise ValidationFailed(field_errors={"interaction_id": [str(NOT_AVAILABLE)]})

    def add() -> HttpResponse:
        with input_names(_api_field):
            attachment = services.attachment_add(actor=request.user, case=case, uploaded_file=file, interaction=interaction)
        return _json_response(201, AttachmentOut.from_orm(attachment).model_dump(mode="json"))

    return acting(add)
