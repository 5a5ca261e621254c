"""Process definitions over the API: read for every caller with the read scope; drafts,
changes and publishing for process owners (`processes.manage`).

A version's ETag is its draft revision (`W/"<revision>"`): a PUT sends it back in If-Match
(428 without, 412 when stale). Publishing an invalid draft is a 422 `definition_invalid`
with one error per problem, its pointer naming the place (`/definition/transitions.close.guard`).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Path, Router, Schema
from pydantic import ConfigDict, Field, StringConstraints

from leitplanke.api.auth import require_scope
from leitplanke.api.etag import PreconditionRequired, parse_if_match
from leitplanke.api.idempotency import acting
from leitplanke.api.schemas import Problem
from leitplanke.core.errors import PermissionDenied, PreconditionFailed
from leitplanke.processes import permissions, selectors, services
from leitplanke.processes.texts import problem_text

router = Router(tags=["processes"])
ERRORS: dict[int, Any] = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 422: Problem}
WRITE_ERRORS: dict[int, Any] = {**ERRORS, 409: Problem, 412: Problem, 428: Problem}
Key = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,50}$")]
ProcessKey = Path(..., examples=["complaint"])
VersionNumber = Path(..., ge=1, le=1_000_000, examples=[1])


class VersionSummary(Schema):
    version: int = Field(examples=[2])
    status: str = Field(examples=["published"], description="draft, published or retired")
    name_de: str = Field(examples=["Beschwerdebearbeitung (ISO 10002)"])
    name_en: str = Field(examples=["Complaint handling (ISO 10002)"])
    published_at: dt.datetime | None


class ProcessOut(Schema):
    key: str = Field(examples=["complaint"])
    published_version: int | None = Field(examples=[2])
    versions: list[VersionSummary]


class ProblemOut(Schema):
    place: str = Field(examples=["transitions.close.guard"])
    code: str = Field(examples=["guard_syntax"])
    message: str = Field(examples=["the guard does not parse: expected a value or a field, found 'the end'"])


class VersionOut(VersionSummary):
    key: str = Field(examples=["complaint"])
    revision: int = Field(examples=[1])
    definition: dict[str, Any] = Field(description="States, transitions, escalation levels (docs/processes.md).")
    problems: list[ProblemOut] = Field(description="What stops this version from being published (empty if none).")
    etag: str = Field(examples=['W/"1"'])


class DefinitionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name_de: str = Field(min_length=1, max_length=200, examples=["Beschwerdebearbeitung"])
    name_en: str = Field(min_length=1, max_length=200, examples=["Complaint handling"])
    definition: dict[str, Any]


class DraftIn(DefinitionIn):
    key: Key = Field(examples=["complaint"], description="A new key starts a process; an existing one adds its next version.")


class ValidateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    key: Key = Field(examples=["complaint"])
    definition: dict[str, Any]


def _etag(definition: Any) -> str:
    return f'W/"{definition.revision}"'


def _version_out(definition: Any) -> dict[str, Any]:
    found = selectors.problems(definition.key, definition.definition) if definition.status == "draft" else []
    return {
        "key": definition.key,
        "version": definition.version,
        "status": definition.status,
        "name_de": definition.name_de,
        "name_en": definition.name_en,
        "published_at": definition.published_at,
        "revision": definition.revision,
        "definition": definition.definition,
        "problems": [{"place": p.place, "code": p.code, "message": problem_text(p)} for p in found],
        "etag": _etag(definition),
    }


def _respond(request: HttpRequest, definition: Any, status: int = 200) -> HttpResponse:
    body = VersionOut(**_version_out(definition)).model_dump(mode="json")
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")
    response["ETag"] = _etag(definition)
    if status == 201:
        response["Location"] = f"/api/v1/processes/{definition.key}/versions/{definition.version}"
    return response


def _require_manage(request: HttpRequest) -> None:
    require_scope(request, "write")
    if not permissions.may_manage(request.user):
        raise PermissionDenied()


@router.get("/processes", response={200: list[ProcessOut], **ERRORS}, url_name="processes", summary="Process definitions")
def list_processes(request: HttpRequest) -> list[dict[str, Any]]:
    """Every process with its versions, newest first."""
    require_scope(request, "read")
    out: dict[str, dict[str, Any]] = {}
    for definition in selectors.definitions():
        entry = out.setdefault(definition.key, {"key": definition.key, "published_version": None, "versions": []})
        entry["versions"].append(definition)
        if definition.status == "published":
            entry["published_version"] = definition.version
    return list(out.values())


@router.get(
    "/processes/{key}/versions/{version}",
    response={200: VersionOut, **ERRORS},
    url_name="process_version",
    summary="One version of a process",
)
def get_version(request: HttpRequest, key: str = ProcessKey, version: int = VersionNumber) -> HttpResponse:
    require_scope(request, "read")
    return _respond(request, selectors.definition_get(key=key, version=version))


@router.post(
    "/processes",
    response={201: VersionOut, **WRITE_ERRORS},
    url_name="process_create",
    summary="Create a draft (a new process or the next version of one)",
)
def create_draft(request: HttpRequest, payload: DraftIn) -> HttpResponse:
    _require_manage(request)

    def create() -> HttpResponse:
        created = services.definition_create(
            actor=request.user,
            key=payload.key,
            name_de=payload.name_de,
            name_en=payload.name_en,
            definition=payload.definition,
        )
        return _respond(request, created, status=201)

    return acting(create)


@router.put(
    "/processes/{key}/versions/{version}",
    response={200: VersionOut, **WRITE_ERRORS},
    url_name="process_update",
    summary="Change a draft",
)
def update_draft(
    request: HttpRequest, payload: DefinitionIn, key: str = ProcessKey, version: int = VersionNumber
) -> HttpResponse:
    """Replaces a draft's names and definition. Send the ETag in If-Match (428 without,
    412 when someone changed it since); published and retired versions are 409."""
    _require_manage(request)
    definition = selectors.definition_get(key=key, version=version)
    versions = parse_if_match(request)
    if versions is None:
        raise PreconditionRequired()
    if versions and definition.revision not in versions:
        raise PreconditionFailed(current_etag=_etag(definition))

    def update() -> HttpResponse:
        changed = services.definition_update(
            actor=request.user,
            definition=definition,
            data=payload.definition,
            name_de=payload.name_de,
            name_en=payload.name_en,
            expected_revision=versions[0] if len(versions or []) == 1 else None,
        )
        return _respond(request, changed)

    return acting(update)


@router.post(
    "/processes/{key}/versions/{version}/publish",
    response={200: VersionOut, **WRITE_ERRORS},
    url_name="process_publish",
    summary="Publish a draft",
)
def publish(request: HttpRequest, key: str = ProcessKey, version: int = VersionNumber) -> HttpResponse:
    """New cases start on the published version; the one before is retired (its running
    cases keep it). An invalid draft is a 422 `definition_invalid` naming every problem."""
    _require_manage(request)
    definition = selectors.definition_get(key=key, version=version)
    return acting(lambda: _respond(request, services.definition_publish(actor=request.user, definition=definition)))


@router.post(
    "/processes/validate",
    response={200: list[ProblemOut], **ERRORS},
    url_name="process_validate",
    summary="Check a definition without storing it",
)
def validate(request: HttpRequest, payload: ValidateIn) -> list[dict[str, Any]]:
    """Every problem with its place; an empty list means it could be published."""
    require_scope(request, "read")
    return [
        {"place": p.place, "code": p.code, "message": problem_text(p)}
        for p in selectors.problems(payload.key, payload.definition)
    ]
