"""Customers, their contracts, and the product catalogue.

Customers are shared reference data: every caller who may see cases may read them;
writing needs customers.manage (products: processes.manage or org.manage). A customer's
ETag is `W/"<version>"`; `PATCH` requires it in `If-Match` (428 without, 412 when stale).
The vulnerability flag is only shown to callers with customers.view_sensitive, and the
reason only on request (`include_vulnerability_reason=true`), which is audited.
Consents are appended, never edited; contracts are added and ended.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema
from ninja.params import Header

from leitplanke.api.auth import require_scope
from leitplanke.api.etag import etag_for, expected_version
from leitplanke.api.idempotency import acting
from leitplanke.api.problems import input_names
from leitplanke.api.schemas import MAX_ID, Id, InputSchema, IsoDate, Problem, StrictBool
from leitplanke.cases import customer_services as merging
from leitplanke.core.errors import NotFound, PermissionDenied, ValidationFailed
from leitplanke.core.pagination import keyset_page
from leitplanke.customers import selectors, services

router = Router(tags=["customers"])
ERRORS: dict[int, Any] = {401: Problem, 403: Problem, 404: Problem, 422: Problem}
WRITE_ERRORS: dict[int, Any] = {**ERRORS, 412: Problem, 428: Problem}

Kind = Literal["person", "organisation"]
SegmentCode = Literal["private", "business", "premium", "public"]
SalutationCode = Literal["", "ms", "mr", "neutral"]
LanguageCode = Literal["de", "en"]
PhoneKindCode = Literal["mobile", "landline", "work"]
SectorCode = Literal["energy", "payments", "banking", "insurance", "telecoms", "other"]
ContractStatusCode = Literal["active", "ended", "pending"]
ConsentPurposeCode = Literal["processing", "contact_email", "contact_phone", "survey", "marketing"]


# --- schemas -------------------------------------------------------------------------------


class PhoneIn(InputSchema):
    number: str = Field(examples=["0221 123456"], description="Any format; national numbers are read in the customer's country.")
    kind: PhoneKindCode = Field("mobile", examples=["landline"])


class PhoneOut(Schema):
    number: str = Field(examples=["+49221123456"], description="E.164")
    kind: PhoneKindCode = Field(examples=["landline"])
    is_primary: bool = Field(examples=[True])


class CustomerOut(Schema):
    id: int = Field(examples=[42])
    customer_number: str = Field(examples=["K-0012345"])
    kind: Kind = Field(examples=["person"])
    salutation: SalutationCode = Field(examples=["ms"], description="ms, mr, neutral, or empty when not known.")
    title: str = Field(examples=["Dr."])
    first_name: str = Field(examples=["Erika"])
    last_name: str = Field(examples=["Mustermann"])
    organisation_name: str = Field(examples=[""])
    display_name: str = Field(examples=["Mustermann, Erika"])
    emails: list[str] = Field(examples=[["erika@example.org"]], description="Lower-case; the first is the primary address.")
    phones: list[PhoneOut]
    preferred_language: LanguageCode = Field(examples=["de"])
    segment: SegmentCode = Field(examples=["private"])
    value_amount: Decimal | None = Field(examples=["1250.00"])
    value_currency: str = Field(examples=["EUR"])
    customer_since: dt.date | None = Field(examples=["2019-04-01"])
    street: str = Field(examples=["Hohe Straße 1"])
    postal_code: str = Field(examples=["50667"])
    city: str = Field(examples=["Köln"])
    country: str = Field(examples=["DE"])
    region: str = Field(examples=["DE-NW"])
    is_vulnerable: bool | None = Field(examples=[False], description="null unless the caller has customers.view_sensitive.")
    vulnerability_reason: str | None = Field(
        None, examples=[None], description="Only with include_vulnerability_reason=true and customers.view_sensitive; audited."
    )
    is_active: bool = Field(examples=[True])
    merged_into_id: int | None = Field(examples=[None])
    version: int = Field(examples=[3], description='Incremented on every change; the ETag is W/"<version>".')
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_emails(obj: Any) -> list[str]:
        return [email.address for email in obj.emails.all()]

    @staticmethod
    def resolve_phones(obj: Any) -> list[dict[str, Any]]:
        return [{"number": p.number, "kind": p.kind, "is_primary": p.is_primary} for p in obj.phones.all()]

    @staticmethod
    def resolve_vulnerability_reason(obj: Any) -> str | None:
        return getattr(obj, "revealed_reason", None)


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None = Field(examples=[None], description="Pass as `cursor` for the next page; null on the last page.")


class CustomerIn(InputSchema):
    kind: Kind = Field("person", examples=["person"])
    salutation: SalutationCode = Field("", examples=["ms"], description="ms, mr, neutral, or empty when not known.")
    title: str = Field("", max_length=50, examples=["Dr."])
    first_name: str = Field("", max_length=100, examples=["Erika"])
    last_name: str = Field("", max_length=100, examples=["Mustermann"], description="Required for persons.")
    organisation_name: str = Field("", max_length=200, examples=[""], description="Required for organisations.")
    customer_number: str | None = Field(None, max_length=40, examples=[None], description="Generated (K-1234567) when omitted.")
    emails: list[str] = Field(default_factory=list, examples=[["Erika@Example.org"]])
    phones: list[PhoneIn | str] = Field(default_factory=list, examples=[[{"number": "0221 123456", "kind": "landline"}]])
    preferred_language: LanguageCode = Field("de", examples=["de"])
    segment: SegmentCode = Field("private", examples=["private"])
    value_amount: Decimal | None = Field(None, examples=["1250.00"])
    value_currency: str = Field("EUR", examples=["EUR"])
    customer_since: IsoDate | None = Field(None, examples=["2019-04-01"])
    street: str = Field("", examples=["Hohe Straße 1"])
    postal_code: str = Field("", examples=["50667"])
    city: str = Field("", examples=["Köln"])
    country: str = Field("DE", examples=["DE"])
    region: str = Field("", examples=["DE-NW"])
    is_vulnerable: StrictBool = Field(False, examples=[False], description="Needs customers.view_sensitive.")
    vulnerability_reason: str = Field(
        "", examples=[""], description="Required when is_vulnerable; needs customers.view_sensitive."
    )


class CustomerPatch(InputSchema):
    """Only the fields sent change; `emails` and `phones` replace the stored lists."""

    kind: Kind | None = Field(None, examples=["person"])
    salutation: SalutationCode | None = Field(None, examples=["ms"])
    title: str | None = Field(None, max_length=50, examples=["Dr."])
    first_name: str | None = Field(None, max_length=100, examples=["Erika"])
    last_name: str | None = Field(None, max_length=100, examples=["Musterfrau"])
    organisation_name: str | None = Field(None, max_length=200)
    emails: list[str] | None = Field(None, examples=[["erika@example.org", "e.m@example.net"]])
    phones: list[PhoneIn | str] | None = Field(None, examples=[["+49 221 123456"]])
    preferred_language: LanguageCode | None = None
    segment: SegmentCode | None = Field(None, examples=["premium"])
    value_amount: Decimal | None = Field(None, examples=["2000.00"])
    value_currency: str | None = Field(None, examples=["EUR"])
    customer_since: IsoDate | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = Field(None, examples=["DE"])
    region: str | None = None
    is_vulnerable: StrictBool | None = Field(None, description="Needs customers.view_sensitive.")
    vulnerability_reason: str | None = Field(
        None, description="Needs customers.view_sensitive; omit to keep the recorded reason."
    )


NULLABLE = {"value_amount", "customer_since"}


class MergeIn(InputSchema):
    duplicate_id: Id | None = Field(None, examples=[43])
    duplicate_customer_number: str | None = Field(None, examples=["K-0012346"], description="Instead of duplicate_id.")


class MergeOut(Schema):
    survivor: CustomerOut
    duplicate_id: int = Field(examples=[43])
    moved: dict[str, int] = Field(examples=[{"emails": 1, "phones": 0, "consents": 2, "contracts": 1, "cases": 3}])


class ProductOut(Schema):
    id: int = Field(examples=[5])
    code: str = Field(examples=["strom-basis"])
    name_de: str = Field(examples=["Strom Basis"])
    name_en: str = Field(examples=["Electricity Basic"])
    sector: SectorCode = Field(examples=["energy"])
    payment_services: bool = Field(examples=[False])
    is_active: bool = Field(examples=[True])


class ProductPage(Schema):
    items: list[ProductOut]
    next_cursor: str | None = None


class ProductIn(InputSchema):
    code: str = Field(max_length=50, examples=["girokonto-plus"])
    name_de: str = Field(max_length=200, examples=["Girokonto Plus"])
    name_en: str = Field(max_length=200, examples=["Current account Plus"])
    sector: SectorCode = Field("other", examples=["banking"])
    payment_services: StrictBool = Field(False, examples=[True])
    is_active: StrictBool = Field(True, examples=[True])


class ContractOut(Schema):
    id: int = Field(examples=[7])
    contract_number: str = Field(examples=["V-2024-0001"])
    product: ProductOut
    starts_on: dt.date | None = Field(examples=["2024-01-01"])
    ends_on: dt.date | None = Field(examples=[None])
    status: ContractStatusCode = Field(examples=["active"])


class ContractIn(InputSchema):
    product_id: Id = Field(examples=[5], description="An active product of the catalogue (GET /products).")
    contract_number: str = Field(max_length=40, examples=["V-2024-0001"], description="Unique; stored upper-case.")
    starts_on: IsoDate | None = Field(None, examples=["2024-01-01"])
    ends_on: IsoDate | None = Field(None, examples=[None], description="Not before starts_on.")
    status: ContractStatusCode = Field("active", examples=["active"])


class ContractEndIn(InputSchema):
    ends_on: IsoDate | None = Field(
        None, examples=["2026-06-30"], description="The last day; default today. Not before the start; may lie ahead (notice)."
    )


class ConsentOut(Schema):
    id: int = Field(examples=[11])
    purpose: ConsentPurposeCode = Field(examples=["marketing"])
    granted: bool = Field(examples=[False], description="false: withdrawn or refused.")
    recorded_at: dt.datetime
    source: str = Field(examples=["letter"])
    note: str = Field(examples=[""])
    recorded_by_id: int | None = Field(examples=[7], description="The user who recorded it; null for the system.")


class ConsentIn(InputSchema):
    purpose: ConsentPurposeCode = Field(examples=["marketing"])
    granted: StrictBool = Field(examples=[False], description="false records a withdrawal or refusal.")
    source: str = Field("", max_length=100, examples=["letter"], description="e.g. web form, phone, letter")
    note: str = Field("", max_length=255, examples=[""])


# --- helpers -------------------------------------------------------------------------------


def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(data, ensure_ascii=False), status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _customer_response(
    request: HttpRequest, customer_id: int, *, status: int = 200, location: bool = False, reveal: bool = False
) -> HttpResponse:
    customer = selectors.customer_get(actor=request.user, customer_id=customer_id)
    if reveal:
        customer.revealed_reason = services.vulnerability_view(actor=request.user, customer=customer)  # type: ignore[attr-defined]
    headers = {"ETag": etag_for(customer)}
    if location:
        headers["Location"] = reverse("api:customer_detail", kwargs={"customer_id": customer.pk})
    return _json(status, CustomerOut.from_orm(customer).model_dump(mode="json"), headers)


def _body(status: int, schema: type[Schema], obj: Any) -> HttpResponse:
    """The JSON response of a write, built inside its transaction (see `acting`)."""
    return _json(status, schema.from_orm(obj).model_dump(mode="json"))


def _phones(values: list[Any]) -> list[Any]:
    return [value.model_dump() if isinstance(value, Schema) else value for value in values]


def _limit(limit: int) -> int:
    if not 1 <= limit <= selectors.MAX_LIMIT:
        raise ValidationFailed(field_errors={"limit": [f"between 1 and {selectors.MAX_LIMIT}"]})
    return limit


# Ids in the path: 1 to the largest the database holds (a larger one is a 422, not an overflow).
CustomerId = Path(..., ge=1, le=MAX_ID, examples=[42])


# --- customers -----------------------------------------------------------------------------


@router.get("/customers", response={200: CustomerPage, **ERRORS}, url_name="customer_list", summary="Find customers")
def list_customers(
    request: HttpRequest,
    q: str = Query(
        "",
        max_length=200,
        examples=["Muster"],
        description='A name prefix ("Last, First"), a customer number, an e-mail address or a phone number.',
    ),
    email: str = Query("", examples=["erika@example.org"], description="Exact (case-insensitive)."),
    phone: str = Query("", examples=["+49221123456"], description="Normalised to E.164, then exact."),
    customer_number: str = Query("", examples=["K-0012345"], description="Exact (case-insensitive)."),
    include_inactive: bool = Query(False, description="Also merged and deactivated customers."),
    cursor: str | None = Query(None, description="next_cursor of the previous page."),
    limit: int = Query(25, ge=1, le=selectors.MAX_LIMIT, description="1 to 200."),
) -> dict[str, Any]:
    """Customers ordered by name (case-insensitive), then id; filters combine with AND."""
    require_scope(request, "read")
    page = selectors.customer_search(
        actor=request.user,
        q=q,
        email=email,
        phone=phone,
        customer_number=customer_number,
        include_inactive=include_inactive,
        cursor=cursor,
        limit=_limit(limit),
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/customers", response={201: CustomerOut, **ERRORS}, url_name="customer_create", summary="Create a customer")
def create_customer(request: HttpRequest, payload: CustomerIn) -> HttpResponse:
    """Creates a customer (customers.manage). Answers 201 with `Location` and `ETag`."""
    require_scope(request, "write")
    data = payload.model_dump()
    data["phones"] = _phones(payload.phones)

    def create() -> HttpResponse:
        customer = services.customer_create(actor=request.user, **data)
        return _customer_response(request, customer.pk, status=201, location=True)

    return acting(create)


@router.get("/customers/{customer_id}", response={200: CustomerOut, **ERRORS}, url_name="customer_detail", summary="One customer")
def get_customer(
    request: HttpRequest,
    customer_id: int = CustomerId,
    include_vulnerability_reason: bool = Query(
        False, description="Needs customers.view_sensitive; each such read is written to the audit log."
    ),
) -> HttpResponse:
    """The customer with its ETag (send it as If-Match to change the customer)."""
    require_scope(request, "read")
    if include_vulnerability_reason and not selectors.can_see_sensitive(request.user):
        raise PermissionDenied()
    return _customer_response(request, customer_id, reveal=include_vulnerability_reason)


@router.patch(
    "/customers/{customer_id}",
    response={200: CustomerOut, **WRITE_ERRORS},
    url_name="customer_update",
    summary="Change a customer",
)
def update_customer(
    request: HttpRequest,
    payload: CustomerPatch,
    customer_id: int = CustomerId,
    if_match: str | None = Header(
        None, alias="If-Match", examples=['W/"3"'], description="Required: the ETag of the version you changed."
    ),
) -> HttpResponse:
    """Changes the fields sent. Without `If-Match` 428 (`precondition_required`), with an
    outdated one 412 (`precondition_failed`): load the customer again and retry."""
    require_scope(request, "write")
    customer = selectors.customer_get(actor=request.user, customer_id=customer_id)
    version = expected_version(request, customer, required=True)
    changes = payload.model_dump(exclude_unset=True)
    nulls = {k: ["This field cannot be null."] for k, v in changes.items() if v is None and k not in NULLABLE}
    if nulls:
        raise ValidationFailed(field_errors=nulls)
    if payload.phones is not None:
        changes["phones"] = _phones(payload.phones)

    def update() -> HttpResponse:
        services.customer_update(actor=request.user, customer=customer, expected_version=version, **changes)
        return _customer_response(request, customer_id)

    return acting(update)


@router.get(
    "/customers/{customer_id}/contracts",
    response={200: list[ContractOut], **ERRORS},
    url_name="customer_contracts",
    summary="A customer's contracts",
)
def customer_contracts(request: HttpRequest, customer_id: int = CustomerId) -> list[Any]:
    require_scope(request, "read")
    return selectors.customer_contracts(actor=request.user, customer_id=customer_id)


# The service names fields after the model (`product`); the API after its input (`product_id`).
CONTRACT_INPUT_NAMES = {"product": "product_id"}


@router.post(
    "/customers/{customer_id}/contracts",
    response={201: ContractOut, **ERRORS},
    url_name="customer_contract_create",
    summary="Add a contract",
)
def create_contract(request: HttpRequest, payload: ContractIn, customer_id: int = CustomerId) -> HttpResponse:
    """Records a contract of the customer for an active catalogue product (customers.manage).
    An unknown or inactive product is a 422 pointing at `/product_id`."""
    require_scope(request, "write")
    customer = selectors.customer_get(actor=request.user, customer_id=customer_id)
    data = payload.model_dump()
    try:
        product = selectors.product_get(product_id=data.pop("product_id"))
    except NotFound:
        raise ValidationFailed(field_errors={"product_id": [_("This choice does not exist.")]}) from None

    def create() -> HttpResponse:
        with input_names(lambda field: CONTRACT_INPUT_NAMES.get(field, field)):
            contract = services.contract_create(actor=request.user, customer=customer, product=product, **data)
        return _body(201, ContractOut, contract)

    return acting(create)


@router.post(
    "/customers/{customer_id}/contracts/{contract_id}/end",
    response={200: ContractOut, **ERRORS},
    url_name="customer_contract_end",
    summary="End a contract",
)
def end_contract(
    request: HttpRequest,
    payload: ContractEndIn | None = None,
    customer_id: int = CustomerId,
    contract_id: int = Path(..., ge=1, le=MAX_ID, examples=[7]),
) -> Any:
    """Sets the status to `ended` and `ends_on` (default, also without a body: today in the
    organisation's time zone). A contract that has ended already is a 422 pointing at `/status`; a contract of
    another customer is a 404."""
    require_scope(request, "write")
    contract = selectors.customer_contract(actor=request.user, customer_id=customer_id, contract_id=contract_id)
    ends_on = payload.ends_on if payload is not None else None  # the body is optional
    return acting(lambda: _body(200, ContractOut, services.contract_end(actor=request.user, contract=contract, ends_on=ends_on)))


@router.get(
    "/customers/{customer_id}/consents",
    response={200: list[ConsentOut], **ERRORS},
    url_name="customer_consents",
    summary="A customer's consent history",
)
def customer_consents(request: HttpRequest, customer_id: int = CustomerId) -> list[Any]:
    """Every recorded consent and withdrawal, newest first; the latest per purpose is the current state."""
    require_scope(request, "read")
    return selectors.customer_consents(actor=request.user, customer_id=customer_id)


@router.post(
    "/customers/{customer_id}/consents",
    response={201: ConsentOut, **ERRORS},
    url_name="customer_consent_create",
    summary="Record a consent or withdrawal",
)
def record_consent(request: HttpRequest, payload: ConsentIn, customer_id: int = CustomerId) -> HttpResponse:
    """Appends a consent (granted=true) or a withdrawal (granted=false); records are never
    edited (customers.manage)."""
    require_scope(request, "write")
    customer = selectors.customer_get(actor=request.user, customer_id=customer_id)
    data = payload.model_dump()
    return acting(lambda: _body(201, ConsentOut, services.consent_record(actor=request.user, customer=customer, **data)))


@router.post(
    "/customers/{customer_id}/merge",
    response={200: MergeOut, **ERRORS},
    url_name="customer_merge",
    summary="Merge a duplicate into this customer",
)
def merge_customer(request: HttpRequest, payload: MergeIn, customer_id: int = CustomerId) -> HttpResponse:
    """Moves the duplicate's contact data, consents, contracts and cases to this customer
    and deactivates the duplicate (`merged_into_id`). Needs customers.merge. Every case of
    the duplicate moves, each recorded on its timeline; `moved.cases` counts those the
    caller may see. Cannot be undone."""
    require_scope(request, "write")
    survivor = selectors.customer_get(actor=request.user, customer_id=customer_id)
    if payload.duplicate_id is not None:
        duplicate = selectors.customer_get(actor=request.user, customer_id=payload.duplicate_id)
    elif payload.duplicate_customer_number:
        duplicate = selectors.customer_get_by_number(actor=request.user, customer_number=payload.duplicate_customer_number)
    else:
        raise ValidationFailed(field_errors={"duplicate_id": ["Send duplicate_id or duplicate_customer_number."]})

    def merge() -> HttpResponse:
        moved = merging.customer_merge(actor=request.user, survivor=survivor, duplicate=duplicate)
        merged = selectors.customer_get(actor=request.user, customer_id=customer_id)
        survivor_out = CustomerOut.from_orm(merged).model_dump(mode="json")
        return _json(200, {"survivor": survivor_out, "duplicate_id": duplicate.pk, "moved": moved})

    return acting(merge)


# --- products ------------------------------------------------------------------------------


def _require_product_reader(request: HttpRequest) -> None:
    if not (selectors.can_see_customers(request.user) or selectors.can_manage_products(request.user)):
        raise PermissionDenied()


@router.get("/products", response={200: ProductPage, **ERRORS}, url_name="product_list", summary="The product catalogue")
def list_products(
    request: HttpRequest,
    active_only: bool = False,
    cursor: str | None = None,
    limit: int = Query(100, ge=1, le=selectors.MAX_LIMIT, description="1 to 200."),
) -> dict[str, Any]:
    require_scope(request, "read")
    _require_product_reader(request)
    page = keyset_page(selectors.product_list(active_only=active_only), ordering=["id"], cursor=cursor, limit=_limit(limit))
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/products", response={201: ProductOut, **ERRORS}, url_name="product_create", summary="Add a product")
def create_product(request: HttpRequest, payload: ProductIn) -> HttpResponse:
    """Process owners and administrators (processes.manage or org.manage)."""
    require_scope(request, "write")
    data = payload.model_dump()
    return acting(lambda: _body(201, ProductOut, services.product_create(actor=request.user, **data)))


@router.get("/products/{product_id}", response={200: ProductOut, **ERRORS}, url_name="product_detail", summary="One product")
def get_product(request: HttpRequest, product_id: int = Path(..., ge=1, le=MAX_ID, examples=[5])) -> Any:
    require_scope(request, "read")
    _require_product_reader(request)
    return selectors.product_get(product_id=product_id)
