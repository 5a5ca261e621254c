"""The process editor (Settings → Processes), for process owners (`processes.manage`).

A list of processes with their versions; a version's page with the JSON editor (drafts),
every problem with its place, validated live while typing (htmx), the diagram drawn on the
server, publishing, trying the steps of a state on a sample case; comparing two versions;
import and export as JSON. Thin: services write, selectors read, the engine validates.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms.utils import ErrorDict
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leitplanke.accounts.decorators import require_capability
from leitplanke.accounts.permissions import MANAGE_PROCESSES
from leitplanke.core.errors import DomainError, NotFound
from leitplanke.core.forms import apply_domain_error

from . import editing, selectors, services
from .diagram import layout
from .engine import GuardSyntaxError, available_transitions, build
from .forms import (
    ChecklistFormSet,
    DefinitionForm,
    EffectFormSet,
    EscalateOnForm,
    EscalationFormSet,
    ImportForm,
    InitialForm,
    StateForm,
    StepForm,
    TransitionAddForm,
    TryForm,
    effect_initial,
    parse_definition,
    with_current,
)
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


# --- the editor's forms (one part of a draft each; docs/processes.md) -----------------------


def _conflict() -> str:
    return _("Someone else saved this draft meanwhile. Reload it to see their change.")


def _draft(key: str, version: int) -> Any:
    """A draft version; published and retired ones have no forms (404, as the step form)."""
    definition = _version(key, version)
    if definition.status != "draft":
        raise Http404()
    return definition


def _entries(definition: Any, section: str) -> list[dict[str, Any]]:
    items = definition.definition.get(section)
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _state_choices(definition: Any, language: str) -> list[tuple[str, str]]:
    return [
        (str(s["key"]), f"{s.get(f'label_{language}') or s['key']} ({s['key']})")
        for s in _entries(definition, "states")
        if isinstance(s.get("key"), str)
    ]


def _error_texts(*forms_: Any) -> list[dict[str, str]]:
    texts: list[dict[str, str]] = []
    for form in forms_:
        for errors in [form.non_form_errors()] if hasattr(form, "non_form_errors") else []:
            texts.extend({"place": "", "text": str(e)} for e in errors)
        for sub in getattr(form, "forms", [form]):
            for name, errors in sub.errors.items():
                label = str(sub.fields[name].label) if name in sub.fields else ""
                texts.extend({"place": label, "text": str(e)} for e in errors)
    return texts


def _submit(
    request: HttpRequest, definition: Any, forms_: list[Any], make_change: Callable[[], editing.Change]
) -> HttpResponse | int:
    """The POST of an editor form. With `preview` (htmx, while editing): the problems and the
    diagram the draft would have, nothing saved. Else the change is saved (redirect to the
    version page, which shows the diagram and the problems) or the status of the refusal,
    with the error on the first form."""
    results = [form.is_valid() for form in forms_]  # each one, so that each shows its errors
    valid = all(results)
    language = _language(request)
    form = forms_[0]
    if request.POST.get("preview"):
        data = definition.definition
        if valid:
            try:
                data = make_change()(copy.deepcopy(definition.definition))
            except DomainError as error:
                texts = [str(m) for messages_ in error.field_errors.values() for m in messages_] or [str(error.message)]
                problems = [{"place": "", "text": text} for text in texts]
            else:
                problems = _problems(definition.key, data)
        else:
            problems = _error_texts(*forms_)
        context = {"problems": problems, "diagram": layout(data, language), "live": True, "side": True}
        return render(request, "processes/_problems.html", context)
    if not valid:
        return 422
    try:
        services.definition_change(
            actor=request.user, definition=definition, change=make_change(), expected_revision=form.cleaned_data.get("revision")
        )
    except NotFound:
        raise Http404() from None
    except DomainError as error:
        if error.status == 412:
            form.add_error(None, _conflict())
        else:
            apply_domain_error(form, error)
        return error.status
    messages.success(request, _("The draft was saved."))
    return redirect("processes:version", key=definition.key, version=definition.version)


ADD_ROW = "add_row"  # the name of the "Add a row" buttons; the value is the rows' prefix


def _adding_row(request: HttpRequest, prefixes: tuple[str, ...]) -> str:
    """The prefix of the rows to which the "Add a row" button pressed adds one ("" for none).
    A live check (`preview`) is never one: htmx sends the name of the button last clicked
    with every request of its form, so a check fired just after the click carries it too
    (the button's own request clears `preview`, which it would inherit from the form)."""
    if request.method != "POST" or request.POST.get("preview"):
        return ""
    prefix = str(request.POST.get(ADD_ROW, ""))
    return prefix if prefix in prefixes else ""


def _with_row(request: HttpRequest, prefix: str, *, maximum: int) -> Any:
    """The posted form with one more row of `prefix` (at most `maximum`): rendered again with
    everything typed kept, nothing saved."""
    data = request.POST.copy()
    try:
        total = int(str(data.get(f"{prefix}-TOTAL_FORMS", "")))
    except ValueError:
        return data  # no management form: the formset says so on saving
    if 0 <= total < maximum:
        data[f"{prefix}-TOTAL_FORMS"] = str(total + 1)
    return data


def _quiet(adding: str, form: Any, *formsets: Any) -> None:
    """A form shown again after "Add a row" keeps what was typed without errors yet (it is
    checked live and on saving); the new row gets the focus."""
    form._errors = ErrorDict()
    for formset in formsets:
        if not formset.is_bound:
            continue
        formset._errors, formset._non_form_errors = [], formset.error_class()
        for row in formset.forms:
            row._errors = ErrorDict()
        if formset.prefix == adding and formset.forms:
            first = next(iter(formset.forms[-1].fields.values()), None)
            if first is not None:
                first.widget.attrs["autofocus"] = True


def _page(request: HttpRequest, template: str, definition: Any, status: int, **context: Any) -> HttpResponse:
    """A form page with the draft's problems and diagram beside it (updated while editing)."""
    context.update(
        has_errors=status >= 400,
        definition=definition,
        problems=_problems(definition.key, definition.definition),
        diagram=layout(definition.definition, _language(request)),
    )
    return render(request, template, context, status=status)


@login_required
@require_capability(MANAGE_PROCESSES)
@require_http_methods(["GET", "POST"])
def state_edit(request: HttpRequest, key: str, version: int, state: str | None = None) -> HttpResponse:
    """Add a state (`state` None) or change one: kind, labels, the clocks it pauses."""
    definition = _draft(key, version)
    states = _entries(definition, "states")
    current: dict[str, Any] = {}
    if state is not None:
        current = next((s for s in states if s.get("key") == state), {})
        if not current:
            raise Http404()
    clocks = selectors.editor_choices("clocks", key)
    initial = {
        "key": current.get("key", ""),
        "kind": current.get("kind", "open"),
        "label_de": current.get("label_de", ""),
        "label_en": current.get("label_en", ""),
        "pauses": current.get("pauses") or [],
        "revision": definition.revision,
    }
    form = StateForm(
        request.POST or None,
        initial=initial,
        clocks=with_current(clocks, current.get("pauses") or []),
        taken={str(s.get("key")) for s in states},
        current=state or "",
    )
    status = 200
    if request.method == "POST":
        result = _submit(request, definition, [form], lambda: editing.state_save(form.cleaned_data, key=state))
        if isinstance(result, HttpResponse):
            return result
        status = result
    return _page(request, "processes/state.html", definition, status, form=form, state=state, current=current)


@login_required
@require_capability(MANAGE_PROCESSES)
@require_POST
def state_delete(request: HttpRequest, key: str, version: int, state: str) -> HttpResponse:
    done = _("The state %(state)s was deleted.") % {"state": state}
    return _delete(request, key, version, editing.state_delete(state), done)


def _revision(request: HttpRequest) -> int | None:
    try:
        return int(str(request.POST.get("revision", "")))
    except ValueError:
        return None


@login_required
@require_capability(MANAGE_PROCESSES)
@require_POST
def initial_set(request: HttpRequest, key: str, version: int) -> HttpResponse:
    definition = _draft(key, version)
    form = InitialForm(request.POST, states=_state_choices(definition, _language(request)))
    if not form.is_valid():
        messages.error(request, "; ".join(str(m) for errors in form.errors.values() for m in errors))
        return redirect("processes:version", key=key, version=version)
    try:
        services.definition_change(
            actor=request.user,
            definition=definition,
            change=editing.initial_set(form.cleaned_data["initial"]),
            expected_revision=form.cleaned_data.get("revision"),
        )
    except DomainError as error:
        messages.error(request, _conflict() if error.status == 412 else str(error.message))
    else:
        messages.success(request, _("The draft was saved."))
    return redirect("processes:version", key=key, version=version)


@login_required
@require_capability(MANAGE_PROCESSES)
@require_http_methods(["GET", "POST"])
def transition_new(request: HttpRequest, key: str, version: int) -> HttpResponse:
    """A new step: key, from which states, to which, labels (the rest in the step form)."""
    definition = _draft(key, version)
    states = _state_choices(definition, _language(request))
    initial = {"revision": definition.revision}
    if request.GET.get("to") in dict(states):
        initial["target"] = request.GET["to"]
    form = TransitionAddForm(
        request.POST or None,
        initial=initial,
        states=states,
        taken={str(t.get("key")) for t in _entries(definition, "transitions")},
    )
    status = 200
    if request.method == "POST":
        result = _submit(request, definition, [form], lambda: editing.transition_add(form.cleaned_data))
        if isinstance(result, HttpResponse):
            return result
        status = result
    return _page(request, "processes/transition_new.html", definition, status, form=form)


@login_required
@require_capability(MANAGE_PROCESSES)
@require_POST
def transition_delete(request: HttpRequest, key: str, version: int, transition: str) -> HttpResponse:
    done = _("The step %(step)s was deleted.") % {"step": transition}
    return _delete(request, key, version, editing.transition_delete(transition), done)


def _delete(request: HttpRequest, key: str, version: int, change: editing.Change, done: str) -> HttpResponse:
    """A delete button of the version page: the change on the draft, then back to the page
    with what happened (a refusal — still used, stale revision — as an error message)."""
    definition = _draft(key, version)
    try:
        services.definition_change(actor=request.user, definition=definition, change=change, expected_revision=_revision(request))
    except NotFound:
        raise Http404() from None
    except DomainError as error:
        messages.error(request, _conflict() if error.status == 412 else str(error.message))
    else:
        messages.success(request, done)
    return redirect("processes:version", key=key, version=version)


@login_required
@require_capability(MANAGE_PROCESSES)
@require_http_methods(["GET", "POST"])
def step_edit(request: HttpRequest, key: str, version: int, transition: str) -> HttpResponse:
    """One transition of a draft in a form: labels, roles, guard, required fields, its
    checklist and its effects."""
    definition = _draft(key, version)
    language = _language(request)
    step = next((t for t in _entries(definition, "transitions") if t.get("key") == transition), None)
    if step is None:
        raise Http404()
    fields = selectors.known_fields(key)
    settable = [(path[len("case.") :], spec.label(language)) for path, spec in fields.items() if spec.settable]
    # Effects set standard fields only (not custom ones: validate.py).
    effect_fields = {
        path[len("case.") :]: spec
        for path, spec in fields.items()
        if spec.settable and path.startswith("case.") and not path.startswith("case.custom.")
    }
    roles = [(role, role) for role in selectors.known_roles()]
    initial = {
        "key": transition,
        "label_de": step.get("label_de", ""),
        "label_en": step.get("label_en", ""),
        "roles": step.get("roles") or [],
        "guard": step.get("guard") or "",
        "guard_label_de": step.get("guard_label_de") or "",
        "guard_label_en": step.get("guard_label_en") or "",
        "requires": step.get("requires") or [],
        "revision": definition.revision,
    }
    adding = _adding_row(request, ("checklist", "effects"))
    maximum = (ChecklistFormSet if adding == "checklist" else EffectFormSet).max_num
    data = _with_row(request, adding, maximum=maximum) if adding else request.POST or None
    form = StepForm(
        data,
        initial=initial,
        roles=roles,
        fields=settable,
        current=transition,
        taken={str(t.get("key")) for t in _entries(definition, "transitions")},
    )

    def rows_data(prefix: str) -> Any:
        # A post without a formset's rows (its management form) leaves them as they are.
        return data if data is not None and f"{prefix}-TOTAL_FORMS" in data else None

    checklist: Any = ChecklistFormSet(
        rows_data("checklist"),
        prefix="checklist",
        initial=[
            {k: item.get(k, "") for k in ("key", "label_de", "label_en")}
            for item in step.get("checklist") or []
            if isinstance(item, dict)
        ],
    )
    effects: Any = EffectFormSet(
        rows_data("effects"),
        prefix="effects",
        initial=[effect_initial(effect) for effect in step.get("effects") or []],
        form_kwargs={
            "fields": effect_fields,
            "templates": selectors.editor_choices("templates", key),
            "clocks": selectors.editor_choices("clocks", key),
            "endpoints": selectors.editor_choices("webhooks", key),
            "tables": selectors.editor_choices("tables", key),
        },
    )
    status = 200
    if adding:
        _quiet(adding, form, checklist, effects)
    elif request.method == "POST":
        result = _submit(
            request,
            definition,
            [form, *(formset for formset in (checklist, effects) if formset.is_bound)],
            lambda: editing.step_save(
                transition,
                form.cleaned_data,
                checklist=checklist.rows() if checklist.is_bound else None,
                effects=effects.rows() if effects.is_bound else None,
            ),
        )
        if isinstance(result, HttpResponse):
            return result
        status = result
    label = step.get(f"label_{language}") or transition
    context = {
        "form": form,
        "checklist": checklist,
        "effects": effects,
        "formsets": [checklist, effects],
        "label": label,
        "step": step,
    }
    return _page(request, "processes/step.html", definition, status, **context)


@login_required
@require_capability(MANAGE_PROCESSES)
@require_http_methods(["GET", "POST"])
def escalation_edit(request: HttpRequest, key: str, version: int) -> HttpResponse:
    """The escalation levels (number, labels, role handling it, who becomes responsible)
    and the thresholds of a deadline clock that raise the level."""
    definition = _draft(key, version)
    adding = _adding_row(request, ("levels",))
    data = _with_row(request, adding, maximum=EscalationFormSet.max_num) if adding else request.POST or None
    stored_on = definition.definition.get("escalate_on", ["breach"])
    form = EscalateOnForm(
        data,
        initial={"escalate_on": stored_on if isinstance(stored_on, list) else [], "revision": definition.revision},
    )
    levels: Any = EscalationFormSet(
        data,
        prefix="levels",
        initial=[
            {k: level.get(k, "") for k in ("level", "label_de", "label_en", "handled_by", "assign_to")}
            for level in _entries(definition, "escalation_levels")
        ],
        form_kwargs={"roles": [(role, role) for role in selectors.known_roles()]},
    )
    status = 200
    if adding:
        _quiet(adding, form, levels)
    elif request.method == "POST":
        result = _submit(
            request,
            definition,
            [form, levels],
            lambda: editing.escalation_save(levels.rows(), list(form.cleaned_data["escalate_on"])),
        )
        if isinstance(result, HttpResponse):
            return result
        status = result
    return _page(request, "processes/escalation.html", definition, status, form=form, levels=levels, formsets=[levels])
