"""Decision tables over the API: read and evaluate for case workers (`cases.edit`); drafts,
import and publishing for process owners (`processes.manage`).

A version's ETag is its draft revision (`W/"<revision>"`): a PUT or DELETE sends it back in
If-Match (428 without, 412 when stale). A JDM document with problems is a 422 `table_invalid` with one
error per problem, its pointer naming the place (`/jdm/rules[3] (r-small).disputed_amount`);
failing test cases do not stop a save but stop publishing (422 `table_tests_failing`, one error
per failing case, `/tests/<name>`). Evaluation runs the published version; inputs the engine
cannot read are a 422 `evaluation_input_invalid`. Compare answers what changed between two
versions (rules by id, columns, hit policy, test cases); retiring the published version and
deleting a draft are for process owners.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Path, Query, Router, Schema
from pydantic import Field, StringConstraints

from leitplanke.api.auth import require_scope
from leitplanke.api.etag import PreconditionRequired, parse_if_match
from leitplanke.api.idempotency import acting
from leitplanke.api.schemas import InputSchema, Problem
from leitplanke.core.errors import PermissionDenied, PreconditionFailed
from leitplanke.decisions import permissions, table_selectors, table_services
from leitplanke.decisions.texts import failure_text, problem_text

router = Router(tags=["decision tables"])
ERRORS: dict[int, Any] = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 422: Problem}
WRITE_ERRORS: dict[int, Any] = {**ERRORS, 409: Problem, 412: Problem, 428: Problem}
Key = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,50}$")]
TableKey = Path(..., pattern=r"^[A-Za-z0-9_-]{1,50}$", examples=["goodwill_energy_billing"])
VersionNumber = Path(..., ge=1, le=1_000_000, examples=[1])
Kind = Annotated[str, StringConstraints(pattern="^(" + "|".join(table_services.DECISION_KINDS) + ")$")]
JDM_DESCRIPTION = (
    "A GoRules JDM document (as the GoRules editor exports it): one input node, one decision table "
    "node (hit policy first or collect), one output node, two edges (docs/decisions.md)."
)
TESTS_DESCRIPTION = 'Test cases: [{"name": …, "inputs": {…}, "expected": {…} (a list of them for collect)}].'


class TableEntry(Schema):
    key: str = Field(examples=["goodwill_energy_billing"])
    name_de: str = Field(examples=["Kulanz bei Beschwerden über Energieabrechnungen"])
    name_en: str = Field(examples=["Goodwill for energy billing complaints"])
    decision_kind: str = Field(examples=["goodwill"], description="goodwill, redress or none")
    published_version: int | None = Field(examples=[1])
    draft_version: int | None = Field(examples=[2], description="Only for process owners.")
    latest_version: int = Field(examples=[2])


class ProblemOut(Schema):
    place: str = Field(examples=["rules[3] (r-small).disputed_amount"])
    code: str = Field(examples=["cell_syntax"])
    message: str = Field(examples=["the cell does not compile: …"])


class FailureOut(Schema):
    name: str = Field(examples=["high amount needs a review"])
    expected: Any = None
    actual: Any = None
    error: str = Field(examples=[""])
    message: str = Field(examples=['Expected {"action": "review"}, got {"action": "goodwill"}.'])


class CheckOut(Schema):
    problems: list[ProblemOut] = Field(description="Every problem of the table with its place (empty if none).")
    failures: list[FailureOut] = Field(description="Every failing test case.")
    tests: int = Field(examples=[6], description="Number of test cases.")
    passed: int | None = Field(examples=[6], description="Test cases passed; null when problems kept them from running.")
    publishable: bool = Field(description="No problems, at least one test case, every test case passes.")


class TableOut(Schema):
    key: str = Field(examples=["goodwill_energy_billing"])
    version: int = Field(examples=[1])
    status: str = Field(examples=["published"], description="draft, published or retired")
    name_de: str = Field(examples=["Kulanz bei Beschwerden über Energieabrechnungen"])
    name_en: str = Field(examples=["Goodwill for energy billing complaints"])
    description: str
    decision_kind: str = Field(examples=["goodwill"])
    revision: int = Field(examples=[1])
    etag: str = Field(examples=['W/"1"'])
    published_at: dt.datetime | None
    retired_at: dt.datetime | None
    jdm: dict[str, Any] = Field(description=JDM_DESCRIPTION)
    tests: list[Any] = Field(description=TESTS_DESCRIPTION)
    check: CheckOut


class TableIn(InputSchema):
    key: Key = Field(
        examples=["goodwill_energy_billing"], description="A new key starts a table; an existing one imports its next version."
    )
    name_de: str | None = Field(
        None, min_length=1, max_length=200, description="Required for a new key unless the JDM's table node has a name."
    )
    name_en: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    decision_kind: Kind | None = Field(None, examples=["goodwill"], description="goodwill, redress or none")
    jdm: dict[str, Any] = Field(description=JDM_DESCRIPTION)
    tests: list[Any] = Field(default_factory=list, max_length=1000, description=TESTS_DESCRIPTION)


class TableUpdateIn(InputSchema):
    name_de: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    decision_kind: Kind = Field(examples=["goodwill"], description="goodwill, redress or none")
    jdm: dict[str, Any] = Field(description=JDM_DESCRIPTION)
    tests: list[Any] = Field(max_length=1000, description=TESTS_DESCRIPTION)


class EvaluateIn(InputSchema):
    inputs: dict[str, Any] = Field(
        examples=[{"disputed_amount": 240, "segment": "private", "years_as_customer": 12, "complaints_12m": 1}],
        description="The input fields the table reads (dotted fields read nested objects).",
    )


class MatchedRule(Schema):
    position: int = Field(examples=[4], description="The rule's position in the table, from 0.")
    id: str = Field(examples=["r-loyal"])
    description: str = Field(examples=["Customer of 10 years or more"], description="`_description` of the rule.")
    description_de: str = Field(
        examples=["Kundenbeziehung seit 10 Jahren oder länger"],
        description="`_description_de` of the rule (German), empty when the table has none.",
    )


class TracedRule(MatchedRule):
    outputs: dict[str, Any]
    seen: dict[str, Any] | None = Field(description="The input values the rule was checked against.")


class EvaluationOut(Schema):
    key: str = Field(examples=["goodwill_energy_billing"])
    version: int = Field(examples=[1])
    hit_policy: str = Field(examples=["first"])
    outputs: dict[str, Any] | list[dict[str, Any]] = Field(
        description="first: the matched rule's outputs ({} when none matched); collect: one object per matched rule."
    )
    matched_rules: list[MatchedRule]
    trace: list[TracedRule] | None = Field(description="With ?trace=true: each matched rule with its outputs and inputs.")


class ColumnOut(Schema):
    kind: str = Field(examples=["input"], description="input or output")
    id: str = Field(examples=["in1"])
    field: str = Field(examples=["disputed_amount"])
    name: str = Field(examples=["Disputed amount"])


class ColumnChangeOut(Schema):
    before: ColumnOut
    after: ColumnOut


class ChangeOut(Schema):
    before: Any = Field(examples=["first"])
    after: Any = Field(examples=["collect"])


class CellChangeOut(Schema):
    column: str = Field(examples=["recommended_amount"], description="The column's field (its id when it has none).")
    before: str = Field(examples=["round(disputed_amount * 0.1)"])
    after: str = Field(examples=["round(disputed_amount * 0.15)"])


class RuleChangeOut(Schema):
    rule_id: str = Field(examples=["loyal"])
    cells: list[CellChangeOut]
    description: ChangeOut | None = Field(description="Before and after, when the description changed.")
    description_de: ChangeOut | None = Field(description="Before and after, when the German description changed.")
    position: ChangeOut | None = Field(
        description="Before and after (from 0), when the rule moved among the rules both versions have."
    )


class CompareOut(Schema):
    key: str = Field(examples=["goodwill_energy_billing"])
    from_version: int = Field(examples=[1])
    to_version: int = Field(examples=[2])
    changed: bool
    hit_policy: ChangeOut | None
    columns_added: list[ColumnOut]
    columns_removed: list[ColumnOut]
    columns_changed: list[ColumnChangeOut]
    rules_added: list[str] = Field(description="Rule ids only in the newer version.")
    rules_removed: list[str]
    rules_changed: list[RuleChangeOut]
    tests_added: list[str] = Field(description="Test case names.")
    tests_removed: list[str]
    tests_changed: list[str]


def _pair(value: Any) -> dict[str, Any] | None:
    return None if value is None else {"before": value[0], "after": value[1]}


def _column(column: Any) -> dict[str, Any]:
    return {"kind": column.kind, "id": column.id, "field": column.field, "name": column.name}


def _compare_out(key: str, old: Any, new: Any) -> dict[str, Any]:
    diff = table_selectors.compare_versions(old, new)
    return {
        "key": key,
        "from_version": old.version,
        "to_version": new.version,
        "changed": diff.changed,
        "hit_policy": _pair(diff.hit_policy),
        "columns_added": [_column(c) for c in diff.columns_added],
        "columns_removed": [_column(c) for c in diff.columns_removed],
        "columns_changed": [{"before": _column(a), "after": _column(b)} for a, b in diff.columns_changed],
        "rules_added": list(diff.rules_added),
        "rules_removed": list(diff.rules_removed),
        "rules_changed": [
            {
                "rule_id": change.rule_id,
                "cells": [{"column": c.column, "before": c.before, "after": c.after} for c in change.cells],
                "description": _pair(change.description),
                "description_de": _pair(change.description_de),
                "position": _pair(change.position),
            }
            for change in diff.rules_changed
        ],
        "tests_added": list(diff.tests_added),
        "tests_removed": list(diff.tests_removed),
        "tests_changed": list(diff.tests_changed),
    }


def _etag(table: Any) -> str:
    return f'W/"{table.revision}"'


def _check_out(table: Any) -> dict[str, Any]:
    result = table.check_result or {}
    return {
        "problems": [
            {"place": str(p.get("place", "")), "code": str(p.get("code", "")), "message": problem_text(p)}
            for p in result.get("problems", [])
        ],
        "failures": [
            {
                "name": str(f.get("name", "")),
                "expected": f.get("expected"),
                "actual": f.get("actual"),
                "error": str(f.get("error") or ""),
                "message": failure_text(f),
            }
            for f in result.get("failures", [])
        ],
        "tests": int(result.get("tests") or 0),
        "passed": result.get("passed"),
        "publishable": bool(result.get("publishable")),
    }


def _table_out(table: Any) -> dict[str, Any]:
    return {
        "key": table.key,
        "version": table.version,
        "status": table.status,
        "name_de": table.name_de,
        "name_en": table.name_en,
        "description": table.description,
        "decision_kind": table.decision_kind,
        "revision": table.revision,
        "etag": _etag(table),
        "published_at": table.published_at,
        "retired_at": table.retired_at,
        "jdm": table.jdm,
        "tests": table.tests,
        "check": _check_out(table),
    }


def _respond(table: Any, status: int = 200) -> HttpResponse:
    body = TableOut(**_table_out(table)).model_dump(mode="json")
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")
    response["ETag"] = _etag(table)
    if status == 201:
        response["Location"] = f"/api/v1/decision-tables/{table.key}?version={table.version}"
    return response


def _require_manage(request: HttpRequest) -> None:
    require_scope(request, "write")
    if not permissions.may_manage(request.user):
        raise PermissionDenied()


def _version_or_published(request: HttpRequest, key: str, version: int | None) -> Any:
    if version is None:
        return table_selectors.table_published(actor=request.user, key=key)
    return table_selectors.table_get(actor=request.user, key=key, version=version)


@router.get("/decision-tables", response={200: list[TableEntry], **ERRORS}, url_name="decision_tables", summary="Decision tables")
def list_tables(request: HttpRequest) -> list[dict[str, Any]]:
    """Every table the caller may see (at most 500), with its published, draft and latest
    version. Case workers see published and retired versions, process owners drafts too."""
    require_scope(request, "read")
    out = []
    for entry in table_selectors.table_keys(actor=request.user):
        shown = entry["published"] or entry["latest"]
        out.append(
            {
                "key": entry["key"],
                "name_de": shown.name_de,
                "name_en": shown.name_en,
                "decision_kind": shown.decision_kind,
                "published_version": entry["published"].version if entry["published"] else None,
                "draft_version": entry["draft"].version if entry["draft"] else None,
                "latest_version": entry["latest"].version,
            }
        )
    return out


@router.get(
    "/decision-tables/{key}",
    response={200: TableOut, **ERRORS},
    url_name="decision_table",
    summary="One decision table (the published version, or ?version=N)",
)
def get_table(
    request: HttpRequest,
    key: str = TableKey,
    version: int | None = Query(None, ge=1, le=1_000_000, description="A version number; without it the published one."),
) -> HttpResponse:
    require_scope(request, "read")
    return _respond(_version_or_published(request, key, version))


@router.get(
    "/decision-tables/{key}/jdm",
    response={200: dict[str, Any], **ERRORS},
    url_name="decision_table_jdm",
    summary="Export a decision table as GoRules JDM",
)
def export_jdm(
    request: HttpRequest,
    key: str = TableKey,
    version: int | None = Query(None, ge=1, le=1_000_000, description="A version number; without it the published one."),
) -> HttpResponse:
    """The table as a JDM document the GoRules editor opens (test cases: `GET /decision-tables/{key}`)."""
    require_scope(request, "read")
    table = _version_or_published(request, key, version)
    response = HttpResponse(json.dumps(table_services.table_export(table), ensure_ascii=False), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{table.key}-v{table.version}.json"'
    return response


@router.post(
    "/decision-tables",
    response={201: TableOut, **WRITE_ERRORS},
    url_name="decision_table_create",
    summary="Create or import a draft (a new table, or the next version of one)",
)
def create_table(request: HttpRequest, payload: TableIn) -> HttpResponse:
    """A new key becomes version 1; an existing key gets its next version (409
    `table_draft_exists` while it has a draft). A JDM document with problems is refused (422
    `table_invalid`, one error per problem with its place); failing test cases are saved
    and reported in `check` (they stop publishing)."""
    _require_manage(request)

    def create() -> HttpResponse:
        exists = table_selectors.tables(actor=request.user, key=payload.key, limit=1)
        if not exists and payload.name_de is not None and payload.name_en is not None:
            created = table_services.table_create(
                actor=request.user,
                key=payload.key,
                name_de=payload.name_de,
                name_en=payload.name_en,
                description=payload.description or "",
                decision_kind=payload.decision_kind or "none",
                jdm=payload.jdm,
                tests=payload.tests,
                strict=True,
            )
        else:
            created = table_services.table_import(
                actor=request.user,
                key=payload.key,
                jdm=payload.jdm,
                tests=payload.tests,
                name_de=payload.name_de,
                name_en=payload.name_en,
                description=payload.description,
                decision_kind=payload.decision_kind,
                strict=True,
            )
        return _respond(created, status=201)

    return acting(create)


@router.put(
    "/decision-tables/{key}/versions/{version}",
    response={200: TableOut, **WRITE_ERRORS},
    url_name="decision_table_update",
    summary="Change a draft",
)
def update_table(request: HttpRequest, payload: TableUpdateIn, key: str = TableKey, version: int = VersionNumber) -> HttpResponse:
    """Replaces a draft's names, kind, JDM and test cases. Send the ETag in If-Match (428
    without, 412 when someone changed it since); published and retired versions are 409."""
    _require_manage(request)
    table = table_selectors.table_get(actor=request.user, key=key, version=version)
    versions = parse_if_match(request)
    if versions is None:
        raise PreconditionRequired()
    if versions and table.revision not in versions:
        raise PreconditionFailed(current_etag=_etag(table))

    def update() -> HttpResponse:
        changed = table_services.table_update(
            actor=request.user,
            table=table,
            revision=versions[0] if len(versions or []) == 1 else None,
            jdm=payload.jdm,
            tests=payload.tests,
            name_de=payload.name_de,
            name_en=payload.name_en,
            description=payload.description,
            decision_kind=payload.decision_kind,
            strict=True,
        )
        return _respond(changed)

    return acting(update)


@router.post(
    "/decision-tables/{key}/versions/{version}/publish",
    response={200: TableOut, **WRITE_ERRORS},
    url_name="decision_table_publish",
    summary="Publish a draft",
)
def publish_table(request: HttpRequest, key: str = TableKey, version: int = VersionNumber) -> HttpResponse:
    """Evaluation then uses this version; the one published before is retired. Refused: a
    table with problems (422 `table_invalid`), without test cases (422 `table_untested`) or
    with failing ones (422 `table_tests_failing`, one error per failing case); a version that
    is not a draft (409). If-Match (optional) must name the current revision (412)."""
    _require_manage(request)
    table = table_selectors.table_get(actor=request.user, key=key, version=version)
    versions = parse_if_match(request)
    if versions and table.revision not in versions:
        raise PreconditionFailed(current_etag=_etag(table))
    revision = versions[0] if versions and len(versions) == 1 else None
    return acting(lambda: _respond(table_services.table_publish(actor=request.user, table=table, revision=revision)))


@router.get(
    "/decision-tables/{key}/compare",
    response={200: CompareOut, **ERRORS},
    url_name="decision_table_compare",
    summary="Compare two versions of a decision table",
)
def compare_tables(
    request: HttpRequest,
    key: str = TableKey,
    from_version: int | None = Query(
        None, alias="from", ge=1, le=1_000_000, description="The older version; default: the one before `to`."
    ),
    to_version: int | None = Query(None, alias="to", ge=1, le=1_000_000, description="Default: the latest version."),
) -> dict[str, Any]:
    """What changed from `from` to `to`: hit policy, columns (by id), rules (by `_id`: added,
    removed, changed cell by cell, description, moved), test cases (by name). The versions the
    caller may read (drafts: process owners); 404 for a version that does not exist."""
    require_scope(request, "read")
    numbers = [table.version for table in table_selectors.table_versions(actor=request.user, key=key)]
    to = to_version if to_version is not None else numbers[0]
    if from_version is not None:
        start = from_version
    else:
        older = [number for number in numbers if number < to]
        start = older[0] if older else to
    old = table_selectors.table_get(actor=request.user, key=key, version=start)
    new = table_selectors.table_get(actor=request.user, key=key, version=to)
    return _compare_out(key, old, new)


@router.post(
    "/decision-tables/{key}/versions/{version}/retire",
    response={200: TableOut, **WRITE_ERRORS},
    url_name="decision_table_retire",
    summary="Retire the published version",
)
def retire_table(request: HttpRequest, key: str = TableKey, version: int = VersionNumber) -> HttpResponse:
    """The key then has no published version (evaluating it is a 404 `no_published_version`,
    decisions cannot use it) until a draft is published. Only the published version can be
    retired (409 `table_not_published`), so a retry changes nothing."""
    _require_manage(request)
    table = table_selectors.table_get(actor=request.user, key=key, version=version)
    return acting(lambda: _respond(table_services.table_retire(actor=request.user, table=table)))


@router.delete(
    "/decision-tables/{key}/versions/{version}",
    response={204: None, **WRITE_ERRORS},
    url_name="decision_table_delete",
    summary="Delete a draft",
)
def delete_table(request: HttpRequest, key: str = TableKey, version: int = VersionNumber) -> HttpResponse:
    """Deletes a draft (audited with its content). Send the ETag in If-Match (428 without, 412
    when someone changed it since); published and retired versions are kept (409
    `table_not_draft`)."""
    _require_manage(request)
    table = table_selectors.table_get(actor=request.user, key=key, version=version)
    versions = parse_if_match(request)
    if versions is None:
        raise PreconditionRequired()
    if versions and table.revision not in versions:
        raise PreconditionFailed(current_etag=_etag(table))
    revision = versions[0] if len(versions) == 1 else None

    def delete() -> HttpResponse:
        table_services.table_delete_draft(actor=request.user, table=table, revision=revision)
        return HttpResponse(status=204)

    return acting(delete)


@router.post(
    "/decision-tables/{key}/evaluate",
    response={200: EvaluationOut, **ERRORS},
    url_name="decision_table_evaluate",
    summary="Evaluate the published version",
)
def evaluate(
    request: HttpRequest,
    payload: EvaluateIn,
    key: str = TableKey,
    trace: bool = Query(False, description="true: each matched rule with its outputs and the input values it saw."),
) -> dict[str, Any]:
    """Inputs → outputs of the published version, with the matched rules (always) and the
    full trace (with `?trace=true`). Inputs the engine cannot read: 422 `evaluation_input_invalid`."""
    require_scope(request, "read")
    return table_selectors.evaluate(actor=request.user, key=key, inputs=payload.inputs, trace=trace)
