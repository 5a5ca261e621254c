"""The decision table editor (Settings → Decision tables), for process owners (`processes.manage`).

A list of tables with their versions and a form for a new one; a page per table with its
versions and a comparison of two of them; per version the editor: a grid of input and output
columns with one row per rule, the hit policy, and the test cases. Every save stores the draft,
even with problems: the services check it with the engine and keep the problems and the failed
tests in `check_result`, which this module marks in the cells they belong to. Publishing is
refused while there are problems or failing tests. Import and export are GoRules JDM JSON.
Thin: services write, selectors read, the engine evaluates "try it".
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leitplanke.accounts.decorators import require_capability
from leitplanke.accounts.permissions import MANAGE_PROCESSES
from leitplanke.core.errors import DomainError, NotFound
from leitplanke.core.forms import apply_domain_error

from . import engine, table_selectors, table_services
from .table_diff import compare as table_compare
from .table_forms import (
    Case,
    Grid,
    ImportForm,
    NewTableForm,
    TableMetaForm,
    TryForm,
    grid_from_jdm,
    grid_from_post,
    place_anchor,
    starter,
)
from .texts import problem_text


def _language(request: HttpRequest) -> str:
    return (getattr(request, "LANGUAGE_CODE", None) or "de")[:2]


def _version(request: HttpRequest, key: str, version: int) -> Any:
    try:
        return table_selectors.table_get(actor=request.user, key=key, version=version)
    except NotFound:
        raise Http404() from None


def _versions(request: HttpRequest, key: str) -> list[Any]:
    try:
        return list(table_selectors.table_versions(actor=request.user, key=key))
    except NotFound:
        return []


def _revision(request: HttpRequest) -> int | None:
    try:
        return int(str(request.POST.get("revision", "")))
    except ValueError:
        return None


def _editor_url(table: Any) -> str:
    return reverse("decisions:version", kwargs={"table_key": table.key, "table_version": table.version})


def _conflict() -> str:
    return _("Someone else saved this draft meanwhile. Reload it to see their change.")


def _refusal(error: DomainError) -> str:
    details = [str(m) for messages_ in error.field_errors.values() for m in messages_]
    return "; ".join([str(error.message), *details]) if details else str(error.message)


# --- the list and the table page ------------------------------------------------------------


@login_required
@require_capability(MANAGE_PROCESSES)
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return _index(request, NewTableForm(initial={"decision_kind": "none"}), 200)


def _index(request: HttpRequest, form: NewTableForm, status: int) -> HttpResponse:
    language = _language(request)
    tables: dict[str, dict[str, Any]] = {}
    for table in table_selectors.tables(actor=request.user, limit=500):
        entry = tables.setdefault(table.key, {"key": table.key, "versions": [], "published": None, "name": "", "kind": ""})
        entry["versions"].append(table)
        if table.status == "published":
            entry["published"] = table
        if not entry["name"] or table.status == "published":
            entry["name"] = table.name(language)
            entry["kind"] = table.get_decision_kind_display()
    context = {"tables": list(tables.values()), "form": form, "has_errors": status >= 400}
    return render(request, "decisions/tables/index.html", context, status=status)


@login_required
@require_capability(MANAGE_PROCESSES)
@require_POST
def table_new(request: HttpRequest) -> HttpResponse:
    form = NewTableForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            table = table_services.table_create(
                actor=request.user,
                key=data["key"],
                name_de=data["name_de"],
                name_en=data["name_en"],
                decision_kind=data["decision_kind"],
                jdm=starter(data["name_en"]),
                tests=[],
            )
        except DomainError as error:
            apply_domain_error(form, error)
            if not form.errors:
                form.add_error(None, str(error.message))
        else:
            messages.success(request, _("Draft version %(v)s created.") % {"v": table.version})
            return redirect(_editor_url(table))
    return _index(request, form, 422)


@login_required
@require_capability(MANAGE_PROCESSES)
@require_GET
def table_page(request: HttpRequest, table_key: str) -> HttpResponse:
    versions = _versions(request, table_key)
    if not versions:
        raise Http404()
    language = _language(request)
    latest = versions[0]
    context = {
        "key": table_key,
        "name": latest.name(language),
        "versions": versions,
        "published": next((v for v in versions if v.status == "published"), None),
        "draft": next((v for v in versions if v.status == "draft"), None),
        "numbers": [v.version for v in versions],
    }
    return render(request, "decisions/tables/table.html", context)


@login_required
@require_capability(MANAGE_PROCESSES)
@require_GET
def compare(request: HttpRequest, table_key: str) -> HttpResponse:
    versions = _versions(request, table_key)
    if not versions:
        raise Http404()
    numbers = [v.version for v in versions]
    try:
        a = int(request.GET.get("a") or (numbers[1] if len(numbers) > 1 else numbers[0]))
        b = int(request.GET.get("b") or numbers[0])
    except ValueError:
        a, b = numbers[-1], numbers[0]
    old, new = _version(request, table_key, a), _version(request, table_key, b)
    diff = table_compare(old.jdm, old.tests, new.jdm, new.tests)
    old_grid, new_grid = grid_from_jdm(old.jdm, old.tests), grid_from_jdm(new.jdm, new.tests)

    def side(grid: Grid, rule_ids: tuple[str, ...]) -> list[dict[str, Any]]:
        wanted = set(rule_ids)
        return [
            {
                "id": rule.id,
                "description": engine.describe(rule.description, rule.description_de, _language(request)),
                "cells": [
                    {"field": column.field or column.id, "text": value}
                    for column, value in [
                        *zip(grid.inputs, rule.inputs, strict=True),
                        *zip(grid.outputs, rule.outputs, strict=True),
                    ]
                ],
            }
            for rule in grid.rules
            if rule.id in wanted
        ]

    context = {
        "key": table_key,
        "numbers": numbers,
        "a": a,
        "b": b,
        "diff": diff,
        "added": side(new_grid, diff.rules_added),
        "removed": side(old_grid, diff.rules_removed),
    }
    return render(request, "decisions/tables/compare.html", context)


# --- the editor ------------------------------------------------------------------------------


def _meta_initial(table: Any, grid: Grid) -> dict[str, Any]:
    return {
        "name_de": table.name_de,
        "name_en": table.name_en,
        "description": table.description,
        "decision_kind": table.decision_kind,
        "hit_policy": grid.hit_policy,
        "revision": table.revision,
    }


def _marks(result: Any, grid: Grid) -> tuple[list[dict[str, str]], dict[str, list[str]], list[dict[str, Any]]]:
    """The problems and failed tests of a check result (as stored in `check_result`): a summary
    (text, place and the id to jump to), the messages by input name, and the failures."""
    result = result if isinstance(result, dict) else {}
    summary: list[dict[str, str]] = []
    by_input: dict[str, list[str]] = {}
    for problem in result.get("problems") or []:
        if not isinstance(problem, dict):
            continue
        text = problem_text(problem)
        anchor = place_anchor(str(problem.get("place", "")), grid)
        summary.append({"anchor": anchor, "text": text, "where": _where(anchor, grid) or str(problem.get("place", ""))})
        if anchor:
            by_input.setdefault(anchor, []).append(text)
    failures: list[dict[str, Any]] = []
    names = [case.name.strip() for case in grid.tests]
    for failure in result.get("failures") or []:
        if not isinstance(failure, dict):
            continue
        name = str(failure.get("name", ""))
        index = names.index(name) if name in names else -1
        anchor = f"test-{index}-expected" if index >= 0 else ""
        entry = {
            "name": name,
            "expected": _dump(failure.get("expected")),
            "actual": _dump(failure.get("actual")),
            "error": str(failure.get("error") or ""),
            "anchor": anchor,
        }
        failures.append(entry)
        text = _("The test “%(name)s” fails.") % {"name": name}
        summary.append({"anchor": anchor, "text": text, "where": _where(anchor, grid)})
        if anchor:
            by_input.setdefault(anchor, []).append(
                _("Expected %(expected)s, got %(actual)s.") % {"expected": entry["expected"], "actual": entry["actual"]}
                if not entry["error"]
                else entry["error"]
            )
    return summary, by_input, failures


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _where(anchor: str, grid: Grid) -> str:
    """A place named for people: "Rule 3, column amount", "Test 2, expected outputs"."""
    parts = anchor.split("-")
    if anchor == "hit_policy":
        return _("Hit policy")
    if len(parts) == 4 and parts[0] == "rule" and parts[1].isdigit() and parts[3].isdigit():
        columns = grid.inputs if parts[2] == "in" else grid.outputs
        index = int(parts[3])
        column = columns[index] if index < len(columns) else None
        label = (column.name or column.field or column.id) if column else parts[3]
        return _("Rule %(n)s, column “%(column)s”") % {"n": int(parts[1]) + 1, "column": label}
    if len(parts) == 3 and parts[0] == "rule" and parts[1].isdigit():
        return _("Rule %(n)s") % {"n": int(parts[1]) + 1}
    if len(parts) == 3 and parts[0] in ("in", "out") and parts[1].isdigit():
        n = int(parts[1]) + 1
        return _("Input column %(n)s") % {"n": n} if parts[0] == "in" else _("Output column %(n)s") % {"n": n}
    if len(parts) == 3 and parts[0] == "test" and parts[1].isdigit():
        return _("Test %(n)s") % {"n": int(parts[1]) + 1}
    return ""


def _field(name: str, value: str, errors: dict[str, list[str]]) -> dict[str, Any]:
    return {"name": name, "id": f"id_{name}", "value": value, "errors": errors.get(name, []), "error_id": f"err-{name}"}


def _grid_context(grid: Grid, errors: dict[str, list[str]]) -> dict[str, Any]:
    inputs = [
        {
            "index": i,
            "id": c.id,
            "name": _field(f"in-{i}-name", c.name, errors),
            "field": _field(f"in-{i}-field", c.field, errors),
        }
        for i, c in enumerate(grid.inputs)
    ]
    outputs = [
        {
            "index": j,
            "id": c.id,
            "name": _field(f"out-{j}-name", c.name, errors),
            "field": _field(f"out-{j}-field", c.field, errors),
        }
        for j, c in enumerate(grid.outputs)
    ]
    rows = []
    for r, rule in enumerate(grid.rules):
        cells = [
            {**_field(f"rule-{r}-in-{i}", value, errors), "kind": "in", "label": grid.inputs[i].name or grid.inputs[i].field}
            for i, value in enumerate(rule.inputs)
        ] + [
            {**_field(f"rule-{r}-out-{j}", value, errors), "kind": "out", "label": grid.outputs[j].name or grid.outputs[j].field}
            for j, value in enumerate(rule.outputs)
        ]
        rows.append(
            {
                "index": r,
                "number": r + 1,
                "id": rule.id,
                "description": _field(f"rule-{r}-description", rule.description, errors),
                "description_de": _field(f"rule-{r}-description_de", rule.description_de, errors),
                "cells": cells,
                "first": r == 0,
                "last": r == len(grid.rules) - 1,
            }
        )
    tests = [
        {
            "index": t,
            "number": t + 1,
            "new": not (case.name or case.inputs or case.expected),
            "name": _field(f"test-{t}-name", case.name, errors),
            "inputs": _field(f"test-{t}-inputs", case.inputs, errors),
            "expected": _field(f"test-{t}-expected", case.expected, errors),
        }
        for t, case in enumerate(grid.tests)
    ]
    return {
        "inputs": inputs,
        "outputs": outputs,
        "rows": rows,
        "tests": tests,
        "counts": {"inputs": len(grid.inputs), "outputs": len(grid.outputs), "rules": len(grid.rules), "tests": len(grid.tests)},
        "hit_policy_errors": errors.get("hit_policy", []),
    }


def _editor(
    request: HttpRequest,
    table: Any,
    *,
    grid: Grid,
    meta: TableMetaForm,
    status: int = 200,
    extra_errors: dict[str, str] | None = None,
    notice: str = "",
    stored_marks: bool = True,
) -> HttpResponse:
    if table.status == "draft" and not any(case.name == case.inputs == case.expected == "" for case in grid.tests[-1:]):
        grid.tests.append(Case("", "", ""))  # the row for a new test case
    summary, by_input, failures = _marks(table.check_result, grid) if stored_marks else ([], {}, [])
    for name, text in (extra_errors or {}).items():
        by_input.setdefault(name, []).insert(0, text)
        summary.insert(0, {"anchor": name, "text": text, "where": _where(name, grid)})
    for name, errors in meta.errors.items():
        if name != "__all__":
            summary.insert(0, {"anchor": name, "text": " ".join(str(e) for e in errors), "where": str(meta.fields[name].label)})
    result = table.check_result if isinstance(table.check_result, dict) else {}
    context = {
        "table": table,
        "meta": meta,
        "grid": _grid_context(grid, by_input),
        "summary": summary,
        "failures": failures,
        "checked": bool(result) and stored_marks,
        "tests_run": int(result.get("tests") or 0),
        "tests_passed": result.get("passed"),
        "notice": notice,
        "focus_summary": status >= 400 and bool(summary or meta.non_field_errors() or notice),
        "versions": _versions(request, table.key),
        "try_form": TryForm(initial={"inputs": _try_example(grid)}),
        "editable": table.status == "draft",
    }
    return render(request, "decisions/tables/editor.html", context, status=status)


def _try_example(grid: Grid) -> str:
    first = next((case.inputs for case in grid.tests if case.inputs.strip()), "")
    return first or "{}"


@login_required
@require_capability(MANAGE_PROCESSES)
@require_http_methods(["GET", "POST"])
def version_page(request: HttpRequest, table_key: str, table_version: int) -> HttpResponse:
    table = _version(request, table_key, table_version)
    if request.method != "POST" or table.status != "draft":
        if request.method == "POST":
            messages.error(request, _("Only a draft can be changed; create a new version."))
            return redirect(_editor_url(table))
        grid = grid_from_jdm(table.jdm, table.tests)
        return _editor(request, table, grid=grid, meta=TableMetaForm(initial=_meta_initial(table, grid)))

    meta = TableMetaForm(request.POST)
    grid, input_errors = grid_from_post(request.POST)
    op = str(request.POST.get("op") or "save")
    grid.apply(op)
    if not meta.is_valid() or input_errors:
        # Nothing can be stored (a name missing, a text too long): the grid as typed, marked.
        return _editor(request, table, grid=grid, meta=meta, status=422, extra_errors=input_errors, stored_marks=False)
    data = meta.cleaned_data
    grid.hit_policy = data["hit_policy"]
    tests, json_errors = grid.tests_json()
    try:
        saved = table_services.table_update(
            actor=request.user,
            table=table,
            jdm=grid.to_jdm(table.jdm, data["name_en"]),
            tests=tests,
            name_de=data["name_de"],
            name_en=data["name_en"],
            description=data["description"],
            decision_kind=data["decision_kind"],
            revision=data.get("revision"),
        )
    except NotFound:
        raise Http404() from None
    except DomainError as error:
        notice = _conflict() if error.status == 412 else _refusal(error)
        meta.add_error(None, notice)
        return _editor(request, table, grid=grid, meta=meta, status=error.status, stored_marks=False)
    result = saved.check_result if isinstance(saved.check_result, dict) else {}
    failed = bool(result.get("problems") or result.get("failures") or json_errors)
    if op == "save" and failed:
        # Kept as a draft; the marks are in the cells and the summary takes the focus.
        grid = grid_from_jdm(saved.jdm, saved.tests)
        notice = _("The draft was saved, but it has problems: it cannot be published until they are fixed.")
        return _editor(
            request,
            saved,
            grid=grid,
            meta=TableMetaForm(initial=_meta_initial(saved, grid)),
            status=422,
            extra_errors=json_errors,
            notice=notice,
        )
    if op == "save":
        messages.success(request, _("The draft was saved; no problems, all tests pass."))
    anchor = ""
    name, _sep, arg = op.partition(":")
    if name in ("add_rule", "up", "down") and arg.isdigit():
        moved = int(arg) + (1 if name in ("add_rule", "down") else -1)
        anchor = f"#rule-row-{max(moved, 0)}"
    elif name == "add_rule":
        anchor = f"#rule-row-{len(grid.rules) - 1}"
    elif name in ("add_input", "add_output", "remove_input", "remove_output"):
        anchor = "#rules"
    elif name == "delete_test":
        anchor = "#tests"
    return redirect(_editor_url(saved) + anchor)


@login_required
@require_capability(MANAGE_PROCESSES)
@require_POST
def live_check(request: HttpRequest, table_key: str, table_version: int) -> HttpResponse:
    """htmx, while typing: the problems and failing tests the grid as typed would have (every
    cell compiled, the tests run); nothing is saved. The cells are marked on save."""
    table = _version(request, table_key, table_version)
    grid, input_errors = grid_from_post(request.POST)
    if request.POST.get("hit_policy") in ("first", "collect"):
        grid.hit_policy = str(request.POST["hit_policy"])
    tests, json_errors = grid.tests_json()
    result = table_services.check(grid.to_jdm(table.jdm, table.name_en), tests)
    summary, _by_input, _failures = _marks(result, grid)
    for name, text in {**input_errors, **json_errors}.items():
        summary.insert(0, {"anchor": name, "text": text, "where": _where(name, grid)})
    context = {"summary": summary, "tests": result.get("tests") or 0, "passed": result.get("passed")}
    return render(request, "decisions/tables/_live.html", context)


@login_required
@require_capability(MANAGE_PROCESSES)
@require_POST
def try_table(request: HttpRequest, table_key: str, table_version: int) -> HttpResponse:
    """htmx (or a plain post): the table evaluated on the inputs typed: outputs and matched rules."""
    table = _version(request, table_key, table_version)
    form = TryForm(request.POST)
    context: dict[str, Any] = {"form": form, "error": "", "result": None}
    if not form.is_valid():
        context["error"] = "; ".join(str(m) for errors in form.errors.values() for m in errors)
    else:
        try:
            result = table_selectors.evaluate_table(table, form.cleaned_data["inputs"])
        except DomainError as error:
            # the table has problems (TableInvalid) or the inputs cannot be read
            context["error"] = _("Fix the problems of this version first.") if error.code == "table_invalid" else _refusal(error)
        else:
            context["result"] = {
                "outputs": json.dumps(result["outputs"], ensure_ascii=False, indent=2, sort_keys=True),
                "matches": [
                    {
                        "number": m["position"] + 1,
                        "id": m["id"],
                        "description": engine.describe(m["description"], m["description_de"], _language(request)),
                    }
                    for m in result["matched_rules"]
                ],
            }
    status = 200 if not context["error"] or request.headers.get("HX-Request") else 422
    template = "decisions/tables/_try.html" if request.headers.get("HX-Request") else "decisions/tables/try.html"
    return render(request, template, {**context, "table": table}, status=status)


# --- publish, retire, new version, delete, import, export -----------------------------------


def _action(request: HttpRequest, table_key: str, table_version: int, call: Any, done: str) -> HttpResponse:
    table = _version(request, table_key, table_version)
    try:
        result = call(table)
    except NotFound:
        raise Http404() from None
    except DomainError as error:
        messages.error(request, _refusal(error))
        return redirect(_editor_url(table))
    messages.success(request, done % {"v": getattr(result, "version", table.version)})
    return redirect(_editor_url(result) if result is not None and hasattr(result, "key") else _editor_url(table))


@login_required
@require_capability(MANAGE_PROCESSES)
@require_POST
def publish(request: HttpRequest, table_key: str, table_version: int) -> HttpResponse:
    table = _version(request, table_key, table_version)
    try:
        table_services.table_publish(actor=request.user, table=table, revision=_revision(request))
    except NotFound:
        raise Http404() from None
    except DomainError as error:
        messages.error(request, _("Not published: %(reason)s") % {"reason": _refusal(error)})
    else:
        messages.success(request, _("Version %(v)s is published; recommendations use it from now on.") % {"v": table_version})
    return redirect(_editor_url(table))


@login_required
@require_capability(MANAGE_PROCESSES)
@require_POST
def retire(request: HttpRequest, table_key: str, table_version: int) -> HttpResponse:
    return _action(
        request,
        table_key,
        table_version,
        lambda table: table_services.table_retire(actor=request.user, table=table),
        _("Version %(v)s is retired."),
    )


@login_required
@require_capability(MANAGE_PROCESSES)
@require_POST
def new_version(request: HttpRequest, table_key: str, table_version: int) -> HttpResponse:
    return _action(
        request,
        table_key,
        table_version,
        lambda table: table_services.table_new_version(actor=request.user, key=table.key),
        _("Draft version %(v)s created."),
    )


@login_required
@require_capability(MANAGE_PROCESSES)
@require_POST
def delete_draft(request: HttpRequest, table_key: str, table_version: int) -> HttpResponse:
    table = _version(request, table_key, table_version)
    try:
        table_services.table_delete_draft(actor=request.user, table=table, revision=_revision(request))
    except NotFound:
        raise Http404() from None
    except DomainError as error:
        messages.error(request, _refusal(error))
        return redirect(_editor_url(table))
    messages.success(request, _("The draft was deleted."))
    if _versions(request, table_key):
        return redirect("decisions:table", table_key=table_key)
    return redirect("decisions:index")


def _download(body: Any, filename: str) -> HttpResponse:
    response = HttpResponse(json.dumps(body, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_capability(MANAGE_PROCESSES)
@require_GET
def export_jdm(request: HttpRequest, table_key: str, table_version: int) -> HttpResponse:
    table = _version(request, table_key, table_version)
    return _download(table.jdm, f"{table.key}-v{table.version}.json")


@login_required
@require_capability(MANAGE_PROCESSES)
@require_GET
def export_tests(request: HttpRequest, table_key: str, table_version: int) -> HttpResponse:
    table = _version(request, table_key, table_version)
    return _download(table.tests, f"{table.key}-v{table.version}.tests.json")


@login_required
@require_capability(MANAGE_PROCESSES)
@require_http_methods(["GET", "POST"])
def import_table(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            table = table_services.table_import(
                actor=request.user,
                key=data["key"],
                name_de=data["name_de"] or None,
                name_en=data["name_en"] or None,
                decision_kind=data["decision_kind"] or None,
                jdm=data["file"],
                tests=data["tests_file"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
            if not form.errors:
                form.add_error(None, _refusal(error))
        else:
            messages.success(request, _("Imported as draft version %(v)s.") % {"v": table.version})
            return redirect(_editor_url(table))
    status = 422 if form.is_bound and form.errors else 200
    return render(request, "decisions/tables/import.html", {"form": form, "has_errors": status >= 400}, status=status)
