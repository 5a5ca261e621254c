"""Writes of process definitions: drafts, publishing, retiring. Each audited.

A published version never changes; a change is a new draft (`definition_create` with
`based_on`, or a copy imported as JSON). Publishing validates with the engine (every
problem at once, with its place) and retires the version published before; cases that run
on it keep it (`Case.process_version`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from leitplanke.accounts.actors import Actor, acting_user
from leitplanke.core.audit import audit_record
from leitplanke.core.errors import Conflict, PermissionDenied, PreconditionFailed, ValidationFailed, refuse_unstorable_text

from . import permissions, selectors
from .engine.validate import _key_ok
from .models import ProcessDefinition, ProcessStatus
from .texts import problem_text

MAX_DEFINITION_BYTES = 500_000


class DefinitionInvalid(ValidationFailed):
    code = "definition_invalid"


def _require_manage(actor: Actor) -> None:
    if not permissions.may_manage(actor):
        raise PermissionDenied()


def _problem_errors(problems: list[Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for problem in problems:
        place = f"definition/{problem.place}" if problem.place else "definition"
        errors.setdefault(place, []).append(problem_text(problem))
    return errors


def _fractional_numbers(value: Any, place: str) -> list[str]:
    """Where a definition holds a float. The definition is audited as it is, and the audit
    log's canonical form takes no floats (its hash must not depend on how a database
    writes them, ADR 0002); nothing in a definition needs one."""
    if isinstance(value, float):
        return [place]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _fractional_numbers(item, f"{place}/{key}")]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in _fractional_numbers(item, f"{place}/{index}")]
    return []


def _check_shape(*, key: Any, name_de: Any, name_en: Any, definition: Any) -> None:
    errors: dict[str, list[str]] = {}
    if not _key_ok(key):
        errors["key"] = [_("A key is made of letters, digits, '_' and '-' (at most 50).")]
    for field, value in (("name_de", name_de), ("name_en", name_en)):
        if not isinstance(value, str) or not value.strip():
            errors[field] = [_("This field is required.")]
        elif len(value) > 200:
            errors[field] = [_("At most %(n)s characters.") % {"n": 200}]
    if not isinstance(definition, dict):
        errors["definition"] = [_("The definition must be a JSON object.")]
    elif len(repr(definition)) > MAX_DEFINITION_BYTES:
        errors["definition"] = [_("The definition is too large.")]
    else:
        for place in _fractional_numbers(definition, "definition"):
            errors[place] = [_('Numbers in a definition are whole numbers; write amounts as text, e.g. "25.00".')]
    if errors:
        raise ValidationFailed(field_errors=errors)
    refuse_unstorable_text({"name_de": name_de, "name_en": name_en, "definition": definition})


def _summary(definition: ProcessDefinition) -> dict[str, Any]:
    return {"key": definition.key, "version": definition.version, "status": definition.status}


@transaction.atomic
def definition_create(*, actor: Actor, key: str, name_de: str, name_en: str, definition: dict[str, Any]) -> ProcessDefinition:
    """A new draft: the next version of `key` (version 1 for a new process). Drafts may be
    incomplete; publishing checks them."""
    _require_manage(actor)
    _check_shape(key=key, name_de=name_de, name_en=name_en, definition=definition)
    definition = {**definition, "key": key}
    for _attempt in range(3):
        latest = ProcessDefinition.objects.filter(key=key).aggregate(v=Max("version"))["v"] or 0
        try:
            with transaction.atomic():
                created = ProcessDefinition.objects.create(
                    key=key,
                    version=latest + 1,
                    name_de=name_de.strip(),
                    name_en=name_en.strip(),
                    definition=definition,
                    created_by=acting_user(actor),
                )
        except IntegrityError:
            continue  # another draft took the number: take the next one
        audit_record(actor=actor, action="process.create", obj=created, after={**_summary(created), "definition": definition})
        return created
    raise Conflict(_("Another version was created at the same time. Try again."))


def _locked(definition: ProcessDefinition) -> ProcessDefinition:
    return ProcessDefinition.objects.select_for_update().get(pk=definition.pk)


@transaction.atomic
def definition_update(
    *,
    actor: Actor,
    definition: ProcessDefinition,
    data: dict[str, Any],
    name_de: str | None = None,
    name_en: str | None = None,
    expected_revision: int | None = None,
) -> ProcessDefinition:
    """Changes a draft (published and retired versions never change: 409)."""
    _require_manage(actor)
    definition = _locked(definition)
    if expected_revision is not None and int(expected_revision) != definition.revision:
        raise PreconditionFailed()
    if definition.status != ProcessStatus.DRAFT:
        raise Conflict(_("Only a draft can be changed; create a new version."))
    name_de = definition.name_de if name_de is None else name_de
    name_en = definition.name_en if name_en is None else name_en
    _check_shape(key=definition.key, name_de=name_de, name_en=name_en, definition=data)
    before = {**_summary(definition), "definition": definition.definition, "revision": definition.revision}
    definition.definition = {**data, "key": definition.key}
    definition.name_de, definition.name_en = name_de.strip(), name_en.strip()
    definition.revision += 1
    definition.save()
    audit_record(
        actor=actor,
        action="process.update",
        obj=definition,
        before=before,
        after={**_summary(definition), "definition": definition.definition, "revision": definition.revision},
    )
    return definition


@transaction.atomic
def definition_change(
    *,
    actor: Actor,
    definition: ProcessDefinition,
    change: Callable[[dict[str, Any]], dict[str, Any]],
    expected_revision: int | None = None,
) -> ProcessDefinition:
    """Changes one part of a draft (the editor's forms, processes/editing.py): `change` gets
    a copy of the definition as stored under the lock and returns the changed one, or refuses
    with a DomainError (a state still in use). Saved and audited as `definition_update`."""
    _require_manage(actor)
    locked = _locked(definition)
    if expected_revision is not None and int(expected_revision) != locked.revision:
        raise PreconditionFailed()
    if locked.status != ProcessStatus.DRAFT:
        raise Conflict(_("Only a draft can be changed; create a new version."))
    data = change(copy.deepcopy(locked.definition))
    return definition_update(actor=actor, definition=locked, data=data, expected_revision=locked.revision)


@transaction.atomic
def definition_publish(*, actor: Actor, definition: ProcessDefinition) -> ProcessDefinition:
    """Publishes a valid draft; the version published before is retired (its cases keep it).
    An invalid draft is refused with every problem and its place."""
    _require_manage(actor)
    # Lock every version of the key: two publishes of the same process run one after the other.
    versions = list(ProcessDefinition.objects.select_for_update().filter(key=definition.key).order_by("pk"))
    definition = next(v for v in versions if v.pk == definition.pk)
    if definition.status != ProcessStatus.DRAFT:
        raise Conflict(_("Only a draft can be published."))
    found = selectors.problems(definition.key, definition.definition)
    if found:
        raise DefinitionInvalid(_("The definition has %(n)s problems.") % {"n": len(found)}, field_errors=_problem_errors(found))
    now = timezone.now()
    for previous in versions:
        if previous.status == ProcessStatus.PUBLISHED:
            previous.status = ProcessStatus.RETIRED
            previous.retired_at = now
            previous.save(update_fields=["status", "retired_at", "updated_at"])
            audit_record(actor=actor, action="process.retire", obj=previous, after=_summary(previous))
    definition.status = ProcessStatus.PUBLISHED
    definition.published_at = now
    definition.published_by = acting_user(actor)
    definition.save()
    audit_record(actor=actor, action="process.publish", obj=definition, after=_summary(definition))
    return definition


@transaction.atomic
def definition_delete_draft(*, actor: Actor, definition: ProcessDefinition) -> None:
    _require_manage(actor)
    definition = _locked(definition)
    if definition.status != ProcessStatus.DRAFT:
        raise Conflict(_("Only a draft can be deleted."))
    audit_record(actor=actor, action="process.delete", obj=definition, before=_summary(definition))
    definition.delete()
