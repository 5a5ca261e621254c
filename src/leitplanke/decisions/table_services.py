"""Writes of decision tables: drafts, checks on save, publishing, retiring, import. Each audited.

The only module that changes `DecisionTable` rows. A key has versions: at most one draft (the
one being edited), at most one published version (what cases are recommended by) — both kept
by constraints in the database too — and any number of retired ones. A published version
never changes; a change is a new draft (`table_new_version`, a copy of the latest version, or
`table_import`).

Every save compiles every cell and runs the test cases with the engine and stores the result in
`check_result` — a draft with problems or failing tests is still saved, so an edit is never
lost (API clients may ask for `strict=True` to be refused instead). Publishing checks again
under a lock of all versions of the key and refuses a table with problems, failing tests or no
tests; the version published before is retired in the same transaction.

`revision` is the draft's edit counter (the API's ETag, the editor's conflict check): a write
naming another revision than the stored one is refused with 412 (`PreconditionFailed`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leitplanke.accounts.actors import Actor, acting_user
from leitplanke.core.audit import audit_record
from leitplanke.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    ValidationFailed,
    refuse_unstorable_text,
)

from . import engine, permissions
from .errors import (
    DraftExists,
    TableInvalid,
    TableKeyExists,
    TableNotDraft,
    TableNotPublished,
    TableTestsFailing,
    TableUntested,
)
from .models import DecisionKind, DecisionTable, TableStatus
from .texts import failure_errors, problem_errors

DECISION_KINDS: tuple[str, ...] = tuple(DecisionKind.values)
MAX_JDM_CHARS = 1_000_000
MAX_TESTS = 1_000
MAX_TESTS_CHARS = 500_000
MAX_NAME = 200
MAX_DESCRIPTION = 2_000


# --- checks -------------------------------------------------------------------------------


def key_ok(value: Any) -> bool:
    """A key is 1–50 ASCII letters, digits, '_' and '-' (it appears in URLs)."""
    return isinstance(value, str) and 0 < len(value) <= 50 and all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in value)


def _json_problem(value: Any, place: str) -> str | None:
    """The place of the first value JSON (and the database) cannot hold, or None."""
    if isinstance(value, float):
        return None if math.isfinite(value) else place
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _json_problem(item, f"{place}/{key}")
            if found:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _json_problem(item, f"{place}/{index}")
            if found:
                return found
    return None


def _check_shape(*, key: Any, name_de: Any, name_en: Any, description: Any, decision_kind: Any, jdm: Any, tests: Any) -> None:
    errors: dict[str, list[str]] = {}
    if not key_ok(key):
        errors["key"] = [_("A key is made of letters, digits, '_' and '-' (at most 50).")]
    for field, value in (("name_de", name_de), ("name_en", name_en)):
        if not isinstance(value, str) or not value.strip():
            errors[field] = [_("This field is required.")]
        elif len(value) > MAX_NAME:
            errors[field] = [_("At most %(n)s characters.") % {"n": MAX_NAME}]
    if not isinstance(description, str):
        errors["description"] = [_("Enter text.")]
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = [_("At most %(n)s characters.") % {"n": MAX_DESCRIPTION}]
    if decision_kind not in DecisionKind.values:
        errors["decision_kind"] = [_("Choose one of: %(expected)s.") % {"expected": ", ".join(DecisionKind.values)}]
    if not isinstance(jdm, Mapping):
        errors["jdm"] = [_("The decision table must be a JSON object (GoRules JDM).")]
    elif len(json.dumps(jdm, default=str)) > MAX_JDM_CHARS:
        errors["jdm"] = [_("The decision table is too large.")]
    if not isinstance(tests, list):
        errors["tests"] = [_("The test cases must be a JSON list.")]
    elif len(tests) > MAX_TESTS:
        errors["tests"] = [_("At most %(n)s test cases.") % {"n": MAX_TESTS}]
    elif len(json.dumps(tests, default=str)) > MAX_TESTS_CHARS:
        errors["tests"] = [_("The test cases are too large.")]
    for field, value in (("jdm", jdm), ("tests", tests)):
        if field not in errors:
            place = _json_problem(value, field)
            if place:
                errors[place] = [_("Numbers must be finite.")]
    if errors:
        raise ValidationFailed(field_errors=errors)
    refuse_unstorable_text({"name_de": name_de, "name_en": name_en, "description": description, "jdm": jdm, "tests": tests})


def check(jdm: Any, tests: Any) -> dict[str, Any]:
    """Compile every cell and run the test cases: the `check_result` stored with each save.

    `problems`: [{place, code, params, message}] (message in English; `texts.problem_text`
    translates); `failures`: [{name, expected, actual, error}]; `tests`: how many test cases;
    `passed`: how many passed (None when the table has problems and the tests could not run);
    `publishable`: no problems, at least one test, all passed.
    """
    count = len(tests) if isinstance(tests, list) else 0
    try:
        table = engine.load(jdm, tests)
    except engine.InvalidTable as invalid:
        problems = [
            {"place": p.place, "code": p.code, "params": _plain(dict(p.params)), "message": p.message} for p in invalid.problems
        ]
        return {"problems": problems, "failures": [], "tests": count, "passed": None, "publishable": False}
    try:
        failures = engine.run_tests(table)
    except Exception as error:
        text = str(error).split("\n", 1)[0][:500]
        problem = {"place": "table", "code": "engine_error", "params": {"error": text}, "message": text}
        return {"problems": [problem], "failures": [], "tests": count, "passed": None, "publishable": False}
    stored = [{"name": f.name, "expected": _plain(f.expected), "actual": _plain(f.actual), "error": f.error} for f in failures]
    passed = len(table.tests) - len(failures)
    return {
        "problems": [],
        "failures": stored,
        "tests": len(table.tests),
        "passed": passed,
        "publishable": bool(table.tests) and not failures,
    }


def _plain(value: Any) -> Any:
    """JSON data for storing (engine outputs may hold values JSON cannot hold as they are)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return str(value)


def _refuse_problems(result: Mapping[str, Any]) -> None:
    if result.get("problems"):
        raise TableInvalid(
            _("The decision table has %(n)s problems.") % {"n": len(result["problems"])}, field_errors=problem_errors(result)
        )


# --- audit --------------------------------------------------------------------------------


def _audit_json(value: Any) -> Any:
    """The audit log takes no floats (ADR 0002): numbers with a fraction are audited as text."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Mapping):
        return {str(key): _audit_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_audit_json(item) for item in value]
    return value


def _summary(table: DecisionTable) -> dict[str, Any]:
    return {"key": table.key, "version": table.version, "status": table.status, "revision": table.revision}


def _content(table: DecisionTable) -> dict[str, Any]:
    return {
        **_summary(table),
        "name_de": table.name_de,
        "name_en": table.name_en,
        "description": table.description,
        "decision_kind": table.decision_kind,
        "jdm": _audit_json(table.jdm),
        "tests": _audit_json(table.tests),
    }


def _require_manage(actor: Actor) -> None:
    if not permissions.may_manage(actor):
        raise PermissionDenied()


def _check_revision(table: DecisionTable, revision: Any) -> None:
    if revision is None:
        return
    try:
        expected = int(revision)
    except (TypeError, ValueError):
        raise PreconditionFailed(current_etag=f'W/"{table.revision}"') from None
    if expected != table.revision:
        raise PreconditionFailed(current_etag=f'W/"{table.revision}"')


def _locked(table: DecisionTable) -> DecisionTable:
    try:
        return DecisionTable.objects.select_for_update().get(pk=table.pk)
    except DecisionTable.DoesNotExist:
        raise Conflict(_("This version was deleted in the meantime.")) from None


# --- writes -------------------------------------------------------------------------------


def _insert(*, actor: Actor, action: str, version: int, fields: dict[str, Any]) -> DecisionTable:
    created = DecisionTable.objects.create(version=version, created_by=acting_user(actor), **fields)
    audit_record(actor=actor, action=action, obj=created, after=_content(created))
    return created


@transaction.atomic
def table_create(
    *,
    actor: Actor,
    key: str,
    name_de: str,
    name_en: str,
    description: str = "",
    decision_kind: str = DecisionKind.NONE,
    jdm: dict[str, Any],
    tests: list[Any],
    strict: bool = False,
) -> DecisionTable:
    """A new table: version 1 of `key`, a draft. A draft with problems is saved (its
    `check_result` names them) unless `strict`, which refuses it with `TableInvalid`.
    An existing key is refused (`TableKeyExists`): use `table_new_version` or `table_import`."""
    _require_manage(actor)
    _check_shape(
        key=key, name_de=name_de, name_en=name_en, description=description, decision_kind=decision_kind, jdm=jdm, tests=tests
    )
    result = check(jdm, tests)
    if strict:
        _refuse_problems(result)
    if DecisionTable.objects.filter(key=key).exists():
        raise TableKeyExists()
    fields = {
        "key": key,
        "name_de": name_de.strip(),
        "name_en": name_en.strip(),
        "description": description.strip(),
        "decision_kind": decision_kind,
        "jdm": jdm,
        "tests": tests,
        "check_result": result,
    }
    try:
        with transaction.atomic():
            return _insert(actor=actor, action="decision_table.create", version=1, fields=fields)
    except IntegrityError:
        raise TableKeyExists() from None


def _next_draft(*, actor: Actor, key: str, action: str, fields_from_latest: Any) -> DecisionTable:
    """Creates the next version of `key` as a draft; `fields_from_latest(latest)` gives its
    content. Refused while the key has a draft (`DraftExists`).

    Two calls at once end with one draft, and the later one is refused as a second call
    after it would be. Each call first locks the key's versions, so on PostgreSQL the later
    one waits there until the earlier one commits (SQLite writers already queue at BEGIN).
    The key is looked at only after the lock: under READ COMMITTED each query sees what is
    committed when it starts, so a query before the lock could miss a draft the other call
    commits a moment later (the second draft seen once in a full test run). The database
    keeps the rule as well (one draft per key; (key, version) unique): an insert that breaks
    it — a key that had no version to lock yet — looks again and is answered the same way."""
    for _attempt in range(3):
        versions = DecisionTable.objects.filter(key=key)
        list(versions.select_for_update().order_by("pk").values_list("pk", flat=True))  # same order as table_publish
        draft = versions.filter(status=TableStatus.DRAFT).order_by("-version").first()
        if draft is not None:
            raise DraftExists(
                _("This decision table already has a draft (version %(version)s).") % {"version": draft.version},
                version=draft.version,
            )
        latest = versions.order_by("-version").first()
        if latest is None:
            raise NotFound()
        fields = fields_from_latest(latest)
        try:
            with transaction.atomic():
                return _insert(actor=actor, action=action, version=latest.version + 1, fields=fields)
        except IntegrityError:
            continue  # a draft or this version number was committed in the meantime: look again
    raise Conflict(_("Another version was created at the same time. Try again."))


@transaction.atomic
def table_new_version(*, actor: Actor, key: str) -> DecisionTable:
    """A draft copy of the latest version of `key` (its next version number)."""
    _require_manage(actor)

    def copy(latest: DecisionTable) -> dict[str, Any]:
        return {
            "key": key,
            "name_de": latest.name_de,
            "name_en": latest.name_en,
            "description": latest.description,
            "decision_kind": latest.decision_kind,
            "jdm": latest.jdm,
            "tests": latest.tests,
            "check_result": check(latest.jdm, latest.tests),
        }

    return _next_draft(actor=actor, key=str(key), action="decision_table.new_version", fields_from_latest=copy)


@transaction.atomic
def table_import(
    *,
    actor: Actor,
    key: str,
    jdm: dict[str, Any],
    tests: list[Any] | None = None,
    name_de: str | None = None,
    name_en: str | None = None,
    description: str | None = None,
    decision_kind: str | None = None,
    strict: bool = False,
) -> DecisionTable:
    """A GoRules JDM document (and test cases) as a new draft: version 1 of a new key (named
    after the JDM's table node unless names are given), or the next version of an existing
    key (names, description and kind taken from its latest version unless given)."""
    _require_manage(actor)
    tests = [] if tests is None else tests
    latest = DecisionTable.objects.filter(key=key).order_by("-version").first() if key_ok(key) else None
    node_name = _jdm_name(jdm) or str(key)
    values = {
        "name_de": name_de if name_de is not None else (latest.name_de if latest else node_name[:MAX_NAME]),
        "name_en": name_en if name_en is not None else (latest.name_en if latest else node_name[:MAX_NAME]),
        "description": description if description is not None else (latest.description if latest else ""),
        "decision_kind": decision_kind if decision_kind is not None else (latest.decision_kind if latest else DecisionKind.NONE),
    }
    _check_shape(key=key, jdm=jdm, tests=tests, **values)
    result = check(jdm, tests)
    if strict:
        _refuse_problems(result)
    fields = {
        "key": key,
        "name_de": values["name_de"].strip(),
        "name_en": values["name_en"].strip(),
        "description": values["description"].strip(),
        "decision_kind": values["decision_kind"],
        "jdm": jdm,
        "tests": tests,
        "check_result": result,
    }
    if latest is None:
        try:
            with transaction.atomic():
                return _insert(actor=actor, action="decision_table.import", version=1, fields=fields)
        except IntegrityError:
            pass  # created at the same time: import as its next version
    return _next_draft(actor=actor, key=key, action="decision_table.import", fields_from_latest=lambda _latest: fields)


def _jdm_name(jdm: Any) -> str:
    if not isinstance(jdm, Mapping) or not isinstance(jdm.get("nodes"), list):
        return ""
    for node in jdm["nodes"]:
        if isinstance(node, Mapping) and node.get("type") == "decisionTableNode" and isinstance(node.get("name"), str):
            return str(node["name"]).strip()
    return ""


@transaction.atomic
def table_update(
    *,
    actor: Actor,
    table: DecisionTable,
    revision: int | None,
    jdm: dict[str, Any] | None = None,
    tests: list[Any] | None = None,
    name_de: str | None = None,
    name_en: str | None = None,
    description: str | None = None,
    decision_kind: str | None = None,
    strict: bool = False,
) -> DecisionTable:
    """Changes a draft (what is given; None keeps it). `revision` is the draft's revision the
    change was made on (412 when someone saved in between; None skips the check). Every save
    checks the table and stores the result in `check_result`; the draft is saved even with
    problems or failing tests (unless `strict`)."""
    _require_manage(actor)
    locked = _locked(table)
    _check_revision(locked, revision)
    if locked.status != TableStatus.DRAFT:
        raise TableNotDraft()
    values: dict[str, Any] = {
        "name_de": locked.name_de if name_de is None else name_de,
        "name_en": locked.name_en if name_en is None else name_en,
        "description": locked.description if description is None else description,
        "decision_kind": locked.decision_kind if decision_kind is None else decision_kind,
        "jdm": locked.jdm if jdm is None else jdm,
        "tests": locked.tests if tests is None else tests,
    }
    _check_shape(key=locked.key, **values)
    result = check(values["jdm"], values["tests"])
    if strict:
        _refuse_problems(result)
    before = _content(locked)
    locked.name_de = str(values["name_de"]).strip()
    locked.name_en = str(values["name_en"]).strip()
    locked.description = str(values["description"]).strip()
    locked.decision_kind = str(values["decision_kind"])
    locked.jdm = values["jdm"]
    locked.tests = values["tests"]
    locked.check_result = result
    locked.revision += 1
    locked.save()
    after = _content(locked)
    changed = [name for name in after if before.get(name) != after.get(name)]
    audit_record(
        actor=actor,
        action="decision_table.update",
        obj=locked,
        before={name: before[name] for name in changed},
        after={**{name: after[name] for name in changed}, **_summary(locked)},
    )
    return locked


@transaction.atomic
def table_publish(*, actor: Actor, table: DecisionTable, revision: int | None) -> DecisionTable:
    """Publishes a draft that has no problems, at least one test case and no failing test
    (checked again here); the version published before is retired in the same transaction.
    Two publishes at once: all versions of the key are locked, so they run one after the
    other and the second finds no draft (`TableNotDraft`)."""
    _require_manage(actor)
    versions = list(DecisionTable.objects.select_for_update().filter(key=table.key).order_by("pk"))
    locked = next((v for v in versions if v.pk == table.pk), None)
    if locked is None:
        raise Conflict(_("This version was deleted in the meantime."))
    _check_revision(locked, revision)
    if locked.status != TableStatus.DRAFT:
        raise TableNotDraft(_("Only a draft can be published."))
    result = check(locked.jdm, locked.tests)
    _refuse_problems(result)
    if not result["tests"]:
        raise TableUntested()
    if result["failures"]:
        raise TableTestsFailing(
            _("%(n)s of %(total)s test cases fail.") % {"n": len(result["failures"]), "total": result["tests"]},
            field_errors=failure_errors(result),
        )
    now = timezone.now()
    for previous in versions:
        if previous.status == TableStatus.PUBLISHED:
            previous.status = TableStatus.RETIRED
            previous.retired_at = now
            previous.save(update_fields=["status", "retired_at", "updated_at"])
            audit_record(actor=actor, action="decision_table.retire", obj=previous, after=_summary(previous))
    locked.status = TableStatus.PUBLISHED
    locked.published_at = now
    locked.published_by = acting_user(actor)
    locked.check_result = result
    locked.save()
    audit_record(actor=actor, action="decision_table.publish", obj=locked, after=_summary(locked))
    return locked


@transaction.atomic
def table_retire(*, actor: Actor, table: DecisionTable) -> DecisionTable:
    """Retires the published version: the key then has no published version (evaluating it
    is refused) until a draft is published."""
    _require_manage(actor)
    locked = _locked(table)
    if locked.status != TableStatus.PUBLISHED:
        raise TableNotPublished()
    locked.status = TableStatus.RETIRED
    locked.retired_at = timezone.now()
    locked.save(update_fields=["status", "retired_at", "updated_at"])
    audit_record(actor=actor, action="decision_table.retire", obj=locked, after=_summary(locked))
    return locked


@transaction.atomic
def table_delete_draft(*, actor: Actor, table: DecisionTable, revision: int | None = None) -> None:
    _require_manage(actor)
    locked = _locked(table)
    _check_revision(locked, revision)
    if locked.status != TableStatus.DRAFT:
        raise TableNotDraft(_("Only a draft can be deleted."))
    audit_record(actor=actor, action="decision_table.delete", obj=locked, before=_content(locked))
    locked.delete()


def table_export(table: DecisionTable) -> dict[str, Any]:
    """The version as a JDM document the GoRules editor opens (`engine.to_jdm`); a draft
    with problems is exported as stored."""
    try:
        return engine.to_jdm(engine.load(table.jdm))
    except engine.InvalidTable:
        return dict(table.jdm)
