"""Writes of the case catalogue: case types, the category tree and custom fields.

Administrators (capability org.manage) maintain them in Settings. Every function checks
the capability, validates all fields at once, runs in one transaction and writes one
audit event per change with the changed fields before and after.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from leitplanke.accounts.actors import Actor
from leitplanke.accounts.permissions import MANAGE_ORGANISATION, has_capability
from leitplanke.core.audit import audit_record, audit_update, snapshot
from leitplanke.core.errors import PermissionDenied, ValidationFailed, refuse_unknown_fields
from leitplanke.deadlines import selectors as deadline_selectors

from . import services
from .models import CaseType, Category, CustomFieldDefinition, FieldKind

CASE_TYPE_FIELDS = [
    "key",
    "name_de",
    "name_en",
    "is_complaint",
    "acknowledgement_enabled",
    "is_active",
    "order",
    "brand",
    "deadline_rules",
    "process_key",
]
CASE_TYPE_EDITABLE = (
    "name_de",
    "name_en",
    "is_complaint",
    "acknowledgement_enabled",
    "is_active",
    "order",
    "brand",
    "deadline_rules",
    "process_key",
)
CATEGORY_FIELDS = ["name_de", "name_en", "is_active"]
CUSTOM_FIELD_FIELDS = ["case_type", "key", "label_de", "label_en", "kind", "choices", "required", "order", "is_active"]
CUSTOM_FIELD_EDITABLE = ("label_de", "label_en", "choices", "required", "order", "is_active")

KEY_PATTERN = re.compile(r"[a-z0-9][-a-z0-9_]*")
ORDER_MAX = 32767
CHOICES_MAX = 200
CHOICE_VALUE_MAX = 100


def _require_admin(actor: Actor) -> None:
    if not has_capability(actor, MANAGE_ORGANISATION):
        raise PermissionDenied()


def _deadline_rules(values: Any, errors: dict[str, list[str]]) -> list[str]:
    """Keys of existing deadline rules, each once, in the given order."""
    if isinstance(values, str) or not isinstance(values, list | tuple):
        errors.setdefault("deadline_rules", []).append(_("Choose one of the offered values."))
        return []
    known = deadline_selectors.rule_keys()
    keys = list(dict.fromkeys(str(v) for v in values))
    if any(key not in known for key in keys):
        errors.setdefault("deadline_rules", []).append(_("Choose one of the offered values."))
    return keys


def _process_key(value: Any, errors: dict[str, list[str]]) -> str:
    """Empty (automatic) or a process with a published version: new cases need one to start on."""
    from leitplanke.processes.selectors import published

    key = str(value or "").strip()
    if key and (len(key) > 50 or published(key) is None):
        errors.setdefault("process_key", []).append(_("Choose a process that has a published version."))
    return key


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationFailed(field_errors=errors)


def _key(value: Any, errors: dict[str, list[str]], *, max_length: int) -> str:
    key = str(value or "").strip()
    if not key:
        errors.setdefault("key", []).append(_("This field is required."))
    elif len(key) > max_length:
        errors.setdefault("key", []).append(_("At most %(n)s characters.") % {"n": max_length})
    elif not KEY_PATTERN.fullmatch(key):
        errors.setdefault("key", []).append(
            _("Use lower-case letters, digits, hyphens and underscores; start with a letter or digit.")
        )
    return key


def _text(value: Any, field: str, errors: dict[str, list[str]], *, max_length: int = 200) -> str:
    text = str(value or "").strip()
    if not text:
        errors.setdefault(field, []).append(_("This field is required."))
    elif len(text) > max_length:
        errors.setdefault(field, []).append(_("At most %(n)s characters.") % {"n": max_length})
    return text


def _order(value: Any, errors: dict[str, list[str]]) -> int:
    try:
        order = int(value if value not in (None, "") else 0)
    except (TypeError, ValueError):
        errors.setdefault("order", []).append(_("Enter a whole number."))
        return 0
    if not 0 <= order <= ORDER_MAX:
        errors.setdefault("order", []).append(_("Enter a number between 0 and %(n)s.") % {"n": ORDER_MAX})
    return order


# --- choices as text lines -------------------------------------------------------------------


def choices_to_lines(choices: Any) -> str:
    """The choices of a field as the lines an administrator edits: "value | German | English"."""
    lines = []
    for choice in choices or []:
        if isinstance(choice, dict):
            lines.append(f"{choice.get('value', '')} | {choice.get('label_de', '')} | {choice.get('label_en', '')}")
    return "\n".join(lines)


def parse_choice_lines(text: str) -> list[dict[str, str]]:
    """Parses "value | German label | English label" lines; labels default to the value.

    Raises ValidationFailed on the field "choices" with every problem found."""
    problems: list[str] = []
    choices: list[dict[str, str]] = []
    seen: set[str] = set()
    for number, raw in enumerate(str(text or "").splitlines(), start=1):
        if not raw.strip():
            continue
        parts = [part.strip() for part in raw.split("|")]
        if len(parts) > 3:
            problems.append(_("Line %(n)s: use at most two “|” separators.") % {"n": number})
            continue
        value = parts[0]
        if not value:
            problems.append(_("Line %(n)s: the value is missing.") % {"n": number})
            continue
        if len(value) > CHOICE_VALUE_MAX or any(len(part) > 200 for part in parts):
            problems.append(_("Line %(n)s is too long.") % {"n": number})
            continue
        if value in seen:
            problems.append(_("Line %(n)s: the value “%(value)s” appears twice.") % {"n": number, "value": value})
            continue
        seen.add(value)
        label_de = parts[1] if len(parts) > 1 and parts[1] else value
        label_en = parts[2] if len(parts) > 2 and parts[2] else label_de
        choices.append({"value": value, "label_de": label_de, "label_en": label_en})
    if len(choices) > CHOICES_MAX:
        problems.append(_("At most %(n)s choices.") % {"n": CHOICES_MAX})
    if problems:
        raise ValidationFailed(field_errors={"choices": problems})
    return choices


def _choices(kind: str, value: Any, errors: dict[str, list[str]]) -> list[dict[str, str]]:
    if isinstance(value, str):
        try:
            choices = parse_choice_lines(value)
        except ValidationFailed as error:
            for message in error.field_errors.get("choices", []):
                errors.setdefault("choices", []).append(message)
            return []
    else:
        choices = [dict(choice) for choice in value or []]
        text = choices_to_lines(choices)
        try:
            choices = parse_choice_lines(text)
        except ValidationFailed as error:
            errors.setdefault("choices", []).extend(error.field_errors.get("choices", []))
            return []
    if kind == FieldKind.CHOICE and not choices:
        errors.setdefault("choices", []).append(_("A choice field needs at least one choice."))
    if kind != FieldKind.CHOICE and choices:
        errors.setdefault("choices", []).append(_("Only fields of the kind “Choice” have choices."))
    return choices


# --- case types --------------------------------------------------------------------------------


def _brand(brand: Any, errors: dict[str, list[str]]) -> Any:
    """The sending identity of the type's mail: an active brand, or none."""
    from leitplanke.accounts.models import Brand

    if brand in (None, ""):
        return None
    found = Brand.objects.defer("logo").filter(pk=getattr(brand, "pk", brand), is_active=True).first()
    if found is None:
        errors.setdefault("brand", []).append(_("This choice does not exist."))
    return found


@transaction.atomic
def case_type_create(
    *,
    actor: Actor,
    key: str,
    name_de: str,
    name_en: str,
    is_complaint: bool = False,
    acknowledgement_enabled: bool = True,
    is_active: bool = True,
    order: int = 0,
    brand: Any = None,
    deadline_rules: Any = (),
    process_key: str = "",
) -> CaseType:
    """Adds a case type; its key is fixed from now on."""
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    rules = _deadline_rules(deadline_rules, errors)
    key = _key(key, errors, max_length=50)
    process_key = _process_key(process_key, errors)
    name_de = _text(name_de, "name_de", errors)
    name_en = _text(name_en, "name_en", errors)
    order = _order(order, errors)
    the_brand = _brand(brand, errors)
    if "key" not in errors and CaseType.objects.filter(key=key).exists():
        errors.setdefault("key", []).append(_("A case type with this key exists already."))
    _raise(errors)
    case_type = CaseType.objects.create(
        key=key,
        name_de=name_de,
        name_en=name_en,
        is_complaint=bool(is_complaint),
        acknowledgement_enabled=bool(acknowledgement_enabled),
        is_active=bool(is_active),
        order=order,
        brand=the_brand,
        deadline_rules=rules,
        process_key=process_key,
    )
    audit_record(actor=actor, action="case_type.create", obj=case_type, after=snapshot(case_type, CASE_TYPE_FIELDS))
    return case_type


@transaction.atomic
def case_type_update(*, actor: Actor, case_type: CaseType, **changes: Any) -> CaseType:
    """Changes names, flags and order of a case type (the key cannot change)."""
    _require_admin(actor)
    refuse_unknown_fields(changes, CASE_TYPE_EDITABLE)
    case_type = CaseType.objects.select_for_update().get(pk=case_type.pk)
    before = snapshot(case_type, CASE_TYPE_FIELDS)
    errors: dict[str, list[str]] = {}
    for field in ("name_de", "name_en"):
        if field in changes:
            setattr(case_type, field, _text(changes[field], field, errors))
    if "brand" in changes:
        case_type.brand = _brand(changes["brand"], errors)
    for field in ("is_complaint", "acknowledgement_enabled", "is_active"):
        if field in changes:
            setattr(case_type, field, bool(changes[field]))
    if "order" in changes:
        case_type.order = _order(changes["order"], errors)
    if "deadline_rules" in changes:
        case_type.deadline_rules = _deadline_rules(changes["deadline_rules"], errors)
    if "process_key" in changes:
        case_type.process_key = _process_key(changes["process_key"], errors)
    _raise(errors)
    case_type.save()
    audit_update(actor=actor, action="case_type.update", obj=case_type, before=before, fields=CASE_TYPE_FIELDS)
    return case_type


# --- categories --------------------------------------------------------------------------------


def category_create(*, actor: Actor, parent: Category | None, key: str, name_de: str, name_en: str) -> Category:
    """Adds a node to the tree (administrators only); the tree logic is cases.services.category_create."""
    _require_admin(actor)
    return services.category_create(actor=actor, parent=parent, key=key, name_de=name_de, name_en=name_en)


@transaction.atomic
def category_update(*, actor: Actor, category: Category, **changes: Any) -> Category:
    """Changes the names and the active flag of a category. Moving it to another parent is
    not supported (the materialised paths of the subtree and reports depend on it)."""
    _require_admin(actor)
    refuse_unknown_fields(changes, CATEGORY_FIELDS)
    category = Category.objects.select_for_update().get(pk=category.pk)
    before = snapshot(category, CATEGORY_FIELDS)
    errors: dict[str, list[str]] = {}
    for field in ("name_de", "name_en"):
        if field in changes:
            setattr(category, field, _text(changes[field], field, errors))
    if "is_active" in changes:
        category.is_active = bool(changes["is_active"])
    _raise(errors)
    category.save()
    audit_update(actor=actor, action="category.update", obj=category, before=before, fields=CATEGORY_FIELDS)
    return category


# --- custom fields -----------------------------------------------------------------------------


@transaction.atomic
def custom_field_create(
    *,
    actor: Actor,
    case_type: CaseType,
    key: str,
    label_de: str,
    label_en: str,
    kind: str,
    choices: str | list[dict[str, str]] = "",
    required: bool = False,
    order: int = 0,
    is_active: bool = True,
) -> CustomFieldDefinition:
    """Adds a custom field to a case type. Key and kind are fixed from now on; choices may be
    given as lines "value | German label | English label"."""
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    key = _key(key, errors, max_length=50)
    label_de = _text(label_de, "label_de", errors)
    label_en = _text(label_en, "label_en", errors)
    if kind not in FieldKind.values:
        errors.setdefault("kind", []).append(_("Choose one of the offered kinds."))
    cleaned_choices = _choices(kind, choices, errors)
    order = _order(order, errors)
    if "key" not in errors and CustomFieldDefinition.objects.filter(case_type=case_type, key=key).exists():
        errors.setdefault("key", []).append(_("This case type has a field with this key already."))
    _raise(errors)
    definition = CustomFieldDefinition.objects.create(
        case_type=case_type,
        key=key,
        label_de=label_de,
        label_en=label_en,
        kind=kind,
        choices=cleaned_choices,
        required=bool(required),
        order=order,
        is_active=bool(is_active),
    )
    audit_record(actor=actor, action="custom_field.create", obj=definition, after=snapshot(definition, CUSTOM_FIELD_FIELDS))
    return definition


@transaction.atomic
def custom_field_update(*, actor: Actor, definition: CustomFieldDefinition, **changes: Any) -> CustomFieldDefinition:
    """Changes labels, choices, required, order and the active flag. Values already stored
    on cases stay as they are, even when a choice is removed."""
    _require_admin(actor)
    refuse_unknown_fields(changes, CUSTOM_FIELD_EDITABLE)
    definition = CustomFieldDefinition.objects.select_for_update().get(pk=definition.pk)
    before = snapshot(definition, CUSTOM_FIELD_FIELDS)
    errors: dict[str, list[str]] = {}
    for field in ("label_de", "label_en"):
        if field in changes:
            setattr(definition, field, _text(changes[field], field, errors))
    if "choices" in changes:
        definition.choices = _choices(definition.kind, changes["choices"], errors)
    for field in ("required", "is_active"):
        if field in changes:
            setattr(definition, field, bool(changes[field]))
    if "order" in changes:
        definition.order = _order(changes["order"], errors)
    _raise(errors)
    definition.save()
    audit_update(actor=actor, action="custom_field.update", obj=definition, before=before, fields=CUSTOM_FIELD_FIELDS)
    return definition
