"""The process editor (Settings → Processes), for process owners (`processes.manage`).

A list of processes with their versions; a version's page with the JSON editor (drafts),
every problem with its place, validated live while typing (htmx), the diagram drawn on the
server, publishing, trying the steps of a state on a sample case; comparing two versions;
import and export as JSON. Thin: services write, selectors read, the engine validates.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leitplanke.accounts.decorators import require_capability
from leitplanke.accounts.permissions import MANAGE_PROCESSES
from leitplanke.core.errors import DomainError, NotFound
from leitplanke.core.forms import apply_domain_error

from . import selectors, services
from .diagram import layout
from .engine import GuardSyntaxError, available_transitions, build
from .forms import DefinitionForm, ImportForm, StepForm, TryForm, parse_definition
from .texts import problem_text, reason_text


def _language(request: HttpRequest) -> str:
    return (getattr(request, "LANGUAGE_CODE", None) or "de")[:2]


def _version(key: str, version: int) -> Any:
    try:
        return selectors.definition_get(key=key, version=version)
    except NotFound:
        raise Http404() from None


def _problems(key: str, data: Any) -> list[dict[str, str]]:
    return [{"place": p.place, "text": problem_text(p)} for p in selectors.problems(key, data)]


def _pretty(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


@login_required
@require_capability(MANAGE_PROCESSES)
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    language = _language(request)
    processes: dict[str, dict[str, Any]] = {}
    for definition in selectors.definitions():
        entry = processes.setdefault(definition.key, {"key": definition.key, "versions": [], "name": definition.name(language)})
        entry["versions"].append(definition)
    return render(request, "processes/index.html", {"processes": list(processes.values())})


@login_required
@require_capability(MANAGE_PROCESSES)
@require_http_methods(["GET", "POST"])
def version_page(request: HttpRequest, key: str, version: int) -> HttpResponse:
    definition = _version(key, version)
    language = _language(request)
    status = 200
    form = None
    if definition.status == "draft":
        initial = {
            "name_de": definition.name_de,
            "name_en": definition.name_en,
            "definition": _pretty(definition.definition),
            "revision": definition.revision,
        }
        form = DefinitionForm(request.POST or None, initial=initial)
        if request.method == "POST":
            if form.is_valid():
                try:
                    definition = services.definition_update(
                        actor=request.user,
                        definition=definition,
                        data=form.cleaned_data["definition"],
                        name_de=form.cleaned_data["name_de"],
                        name_en=form.cleaned_data["name_en"],
                        expected_revision=form.cleaned_data.get("revision"),
                    )
                except DomainError as error:
                    if error.status == 412:
                        form.add_error(None, _("Someone else saved this draft meanwhile. Reload it to see their change."))
                    else:
                        apply_domain_error(form, error)
                    status = error.status
                else:
                    messages.success(request, _("The draft was saved."))
                    return redirect("processes:version", key=key, version=version)
            else:
                status = 422
    elif request.method == "POST":
        return redirect("processes:version", key=key, version=version)
    data = definition.definition
    if form is not None and form.is_bound:
        data = parse_definition(str(form.data.get("definition", "")))[0] or data
    context = {
        "definition": definition,
        "form": form,
        "problems": _problems(key, data) if definition.status == "draft" else [],
        "diagram": layout(data, language),
        "json": _pretty(definition.definition),
        "versions": selectors.definitions(key=key),
        "try_form": TryForm(initial={"state": data.get("initial", ""), "roles": "agent"}),
    }
    return render(request, "processes/version.html", context, status=status)


@login_required
@require_capability(MANAGE_PROCESSES)
@require_POST
def validate(request: HttpRequest, key: str) -> HttpResponse:
    """htmx: the problems (and the diagram) of the JSON being typed."""
    data, error = parse_definition(str(request.POST.get("definition", "")))
    problems = [{"place": "", "text": error}] if data is None else _problems(key, data)
    diagram = layout(data, _language(request)) if data is not None else None
    return render(request, "processes/_problems.html", {"problems": problems, "diagram": diagram, "live": True})


@login_required
@require_capability(MANAGE_PROCESSES)
@require_POST
def publish(request: HttpRequest, key: str, version: int) -> HttpResponse:
    definition = _version(key, version)
    try:
        services.definition_publish(actor=request.user, definition=definition)
    except DomainError as error:
        problems = [m for messages_ in error.field_errors.values() for m in messages_]
        messages.error(request, _("Not published: %(reason)s") % {"reason": "; ".join(problems) or error.message})
    else:
        messages.success(request, _("Version %(v)s is published; new cases start on it.") % {"v": version})
    return redirect("processes:version", key=key, version=version)


@login_required
@require_capability(MANAGE_PROCESSES)
@require_POST
def new_draft(request: HttpRequest, key: str, version: int) -> HttpResponse:
    base = _version(key, version)
    try:
        draft = services.definition_create(
            actor=request.user, key=key, name_de=base.name_de, name_en=base.name_en, definition=base.definition
        )
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("processes:version", key=key, version=version)
    messages.success(request, _("Draft version %(v)s created.") % {"v": draft.version})
    return redirect("processes:version", key=key, version=draft.version)


@login_required
@require_capability(MANAGE_PROCESSES)
@require_POST
def delete_draft(request: HttpRequest, key: str, version: int) -> HttpResponse:
    try:
        services.definition_delete_draft(actor=request.user, definition=_version(key, version))
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("processes:version", key=key, version=version)
    messages.success(request, _("The draft was deleted."))
    return redirect("processes:index")


@login_required
@require_capability(MANAGE_PROCESSES)
@require_GET
def export(request: HttpRequest, key: str, version: int) -> HttpResponse:
    definition = _version(key, version)
    body = {
        "key": definition.key,
        "version": definition.version,
        "status": definition.status,
        "name_de": definition.name_de,
        "name_en": definition.name_en,
        "definition": definition.definition,
    }
    response = HttpResponse(_pretty(body), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="process-{definition.key}-v{definition.version}.json"'
    return response


@login_required
@require_capability(MANAGE_PROCESSES)
@require_http_methods(["GET", "POST"])
def import_definition(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            draft = services.definition_create(
                actor=request.user,
                key=form.cleaned_data["key"],
                name_de=form.cleaned_data["name_de"],
                name_en=form.cleaned_data["name_en"],
                definition=form.cleaned_data["definition"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Imported as draft version %(v)s.") % {"v": draft.version})
            return redirect("processes:version", key=draft.key, version=draft.version)
    status = 422 if form.is_bound and form.errors else 200
    return render(request, "processes/import.html", {"form": form}, status=status)


def _summary(old: dict[str, Any], new: dict[str, Any], section: str) -> dict[str, list[str]]:
    def items(data: dict[str, Any]) -> dict[str, Any]:
        return {str(i.get("key")): i for i in data.get(section) or [] if isinstance(i, dict)}

    a, b = items(old), items(new)
    return {
        "added": sorted(set(b) - set(a)),
        "removed": sorted(set(a) - set(b)),
        "changed": sorted(k for k in set(a) & set(b) if a[k] != b[k]),
    }


@login_required
@require_capability(MANAGE_PROCESSES)
@require_GET
def compare(request: HttpRequest, key: str) -> HttpResponse:
    versions = selectors.definitions(key=key)
    if not versions:
        raise Http404()
    numbers = [v.version for v in versions]
    try:
        a = int(request.GET.get("a") or (numbers[1] if len(numbers) > 1 else numbers[0]))
        b = int(request.GET.get("b") or numbers[0])
    except ValueError:
        a, b = numbers[-1], numbers[0]
    old, new = _version(key, a), _version(key, b)
    lines = list(
        difflib.unified_diff(
            _pretty(old.definition).splitlines(),
            _pretty(new.definition).splitlines(),
            fromfile=f"{key} v{a}",
            tofile=f"{key} v{b}",
            lineterm="",
            n=3,
        )
    )
    diff = [{"text": line, "kind": "add" if line.startswith("+") else "del" if line.startswith("-") else "ctx"} for line in lines]
    context = {
        "key": key,
        "numbers": numbers,
        "a": a,
        "b": b,
        "diff": diff,
        "states": _summary(old.definition, new.definition, "states"),
        "transitions": _summary(old.definition, new.definition, "transitions"),
    }
    return render(request, "processes/compare.html", context)


@login_required
@require_capability(MANAGE_PROCESSES)
@require_POST
def try_step(request: HttpRequest, key: str, version: int) -> HttpResponse:
    """htmx: the steps of a state for a sample case, with the reasons of unavailable ones."""
    definition = _version(key, version)
    language = _language(request)
    form = TryForm(request.POST)
    offers: list[dict[str, Any]] = []
    error = ""
    if form.is_valid():
        fields = selectors.known_fields(key)
        if selectors.problems(key, definition.definition):
            error = _("Fix the problems of this version first.")
        else:
            try:
                process = build(definition.definition)
            except (GuardSyntaxError, KeyError, TypeError, ValueError):
                process = None
                error = _("Fix the problems of this version first.")
            if process is not None:
                roles = {r.strip() for r in form.cleaned_data.get("roles", "").split(",") if r.strip()}
                context = {str(k): v for k, v in form.cleaned_data["context"].items()}
                for offer in available_transitions(process, form.cleaned_data["state"], context, roles, fields=fields):
                    offers.append(
                        {
                            "label": offer.transition.label(language),
                            "target": offer.target.label(language),
                            "available": offer.available,
                            "reasons": [reason_text(r, language) for r in offer.reasons],
                        }
                    )
                if not offers:
                    error = _("No step leads out of this state.")
    else:
        error = "; ".join(str(m) for messages_ in form.errors.values() for m in messages_)
    return render(request, "processes/_try.html", {"offers": offers, "error": error})


@login_required
@require_capability(MANAGE_PROCESSES)
@require_http_methods(["GET", "POST"])
def step_edit(request: HttpRequest, key: str, version: int, transition: str) -> HttpResponse:
    """One transition of a draft in a form (roles, guard, required fields)."""
    definition = _version(key, version)
    language = _language(request)
    steps = definition.definition.get("transitions") or []
    index = next((i for i, t in enumerate(steps) if isinstance(t, dict) and t.get("key") == transition), None)
    if definition.status != "draft" or index is None:
        raise Http404()
    step = steps[index]
    fields = selectors.known_fields(key)
    settable = [(path[len("case.") :], spec.label(language)) for path, spec in fields.items() if spec.settable]
    roles = [(role, role) for role in selectors.known_roles()]
    initial = {
        "label_de": step.get("label_de", ""),
        "label_en": step.get("label_en", ""),
        "roles": step.get("roles") or [],
        "guard": step.get("guard") or "",
        "guard_label_de": step.get("guard_label_de") or "",
        "guard_label_en": step.get("guard_label_en") or "",
        "requires": step.get("requires") or [],
        "revision": definition.revision,
    }
    form = StepForm(request.POST or None, initial=initial, roles=roles, fields=settable)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = json.loads(json.dumps(definition.definition))
            changed = dict(data["transitions"][index])
            for name in ("label_de", "label_en", "guard", "guard_label_de", "guard_label_en"):
                if form.cleaned_data[name]:
                    changed[name] = form.cleaned_data[name]
                else:
                    changed.pop(name, None)
            changed["roles"] = list(form.cleaned_data["roles"])
            changed["requires"] = list(form.cleaned_data["requires"])
            data["transitions"][index] = changed
            try:
                services.definition_update(
                    actor=request.user, definition=definition, data=data, expected_revision=form.cleaned_data.get("revision")
                )
            except DomainError as error:
                if error.status == 412:
                    form.add_error(None, _("Someone else saved this draft meanwhile. Reload it to see their change."))
                else:
                    apply_domain_error(form, error)
                status = error.status
            else:
                messages.success(request, _("The draft was saved."))
                return redirect("processes:version", key=key, version=version)
        else:
            status = 422
    label = step.get(f"label_{language}") or transition
    return render(request, "processes/step.html", {"definition": definition, "form": form, "label": label}, status=status)
