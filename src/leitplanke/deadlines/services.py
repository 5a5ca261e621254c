"""Writes of the deadlines app: the organisation's deadline settings (the choices where the
law leaves one, closures, business hours). Rule versions are data shipped by migrations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from leitplanke.accounts.actors import Actor
from leitplanke.accounts.permissions import MANAGE_ORGANISATION, has_capability
from leitplanke.core.audit import audit_record, audit_update, snapshot
from leitplanke.core.errors import PermissionDenied, ValidationFailed, refuse_unknown_fields

from . import engine
from .messages import message_for
from .models import DeadlineRule, DeadlineSettings

SETTINGS_FIELDS = ["non_business_day_receipt", "cut_off", "due_time", "pause_end_day", "business_hours", "closures"]


@transaction.atomic
def deadline_settings_update(*, actor: Actor, **changes: Any) -> DeadlineSettings:
    """Changes the organisation's deadline settings (administrators). Closures and business
    hours are validated by the engine; every problem names its field."""
    if actor is not None and not has_capability(actor, MANAGE_ORGANISATION):
        raise PermissionDenied()
    refuse_unknown_fields(changes, SETTINGS_FIELDS)
    row = DeadlineSettings.objects.select_for_update().get_or_create(pk=1)[0]
    before = snapshot(row, SETTINGS_FIELDS)
    errors: dict[str, list[str]] = {}
    choices = {
        "non_business_day_receipt": DeadlineSettings.Receipt.values,
        "due_time": DeadlineSettings.DueTime.values,
        "pause_end_day": DeadlineSettings.PauseEnd.values,
    }
    for field, allowed in choices.items():
        if field in changes:
            if changes[field] not in allowed:
                errors[field] = [_("Choose one of the offered values.")]
            else:
                setattr(row, field, changes[field])
    if "cut_off" in changes:
        value = changes["cut_off"]
        if value in (None, ""):
            row.cut_off = None
        elif isinstance(value, dt.time):
            row.cut_off = value
        else:
            errors["cut_off"] = [_("Enter a time as HH:MM.")]
    if "business_hours" in changes:
        try:
            engine.parse_business_hours(changes["business_hours"] or {})
            row.business_hours = changes["business_hours"] or {}
        except engine.EngineError as error:
            errors[error.field] = [message_for(error)]
    if "closures" in changes:
        try:
            for index, closure in enumerate(changes["closures"] or []):
                engine.parse_closure(closure, f"closures/{index}")
            row.closures = list(changes["closures"] or [])
        except engine.EngineError as error:
            errors["closures"] = [message_for(error)]
    if errors:
        raise ValidationFailed(field_errors=errors)
    row.save()
    audit_update(actor=actor or "system", action="deadline_settings.update", obj=row, before=before, fields=SETTINGS_FIELDS)
    return row


@transaction.atomic
def deadline_rule_version_create(
    *,
    actor: Actor,
    key: str,
    valid_from: dt.date,
    parameters: dict[str, Any],
    name_de: str = "",
    name_en: str = "",
    legal_basis: str | None = None,
    source_url: str | None = None,
    country: str | None = None,
) -> DeadlineRule:
    """A new version of a rule (e.g. after a regulator changed it), valid for complaints
    received from `valid_from` on. The version valid until then ends the day before; clocks
    already started keep the version they name. Names, legal basis, link and country default
    to the previous version's."""
    import re

    if actor is not None and not has_capability(actor, MANAGE_ORGANISATION):
        raise PermissionDenied()
    errors: dict[str, list[str]] = {}
    key = (key or "").strip()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", key):
        errors["key"] = [_("Lower-case letters, digits, hyphens and underscores.")]
    try:
        engine.rule_from_dict(parameters, key=key or "rule", prefix="parameters/")
    except engine.EngineError as error:
        errors[error.field] = [message_for(error)]
    if errors:
        raise ValidationFailed(field_errors=errors)
    versions = list(DeadlineRule.objects.select_for_update().filter(key=key).order_by("version"))
    previous = versions[-1] if versions else None
    if previous is None and not (name_de and name_en):
        raise ValidationFailed(field_errors={"name_en": [_("A new rule needs names in German and English.")]})
    if previous is not None and valid_from <= previous.valid_from:
        raise ValidationFailed(field_errors={"valid_from": [_("Must be after the start of the current version.")]})
    if country not in (None, "", "DE", "GB"):
        raise ValidationFailed(field_errors={"country": [_("Choose one of the offered values.")]})
    if previous is not None and (previous.valid_to is None or previous.valid_to >= valid_from):
        before = snapshot(previous, ["valid_to"])
        previous.valid_to = valid_from - dt.timedelta(days=1)
        previous.save(update_fields=["valid_to"])
        audit_update(actor=actor or "system", action="deadline_rule.update", obj=previous, before=before, fields=["valid_to"])
    rule = DeadlineRule.objects.create(
        key=key,
        version=(previous.version + 1) if previous else 1,
        name_de=name_de or (previous.name_de if previous else ""),
        name_en=name_en or (previous.name_en if previous else ""),
        legal_basis=legal_basis if legal_basis is not None else (previous.legal_basis if previous else ""),
        source_url=source_url if source_url is not None else (previous.source_url if previous else ""),
        country=country if country is not None else (previous.country if previous else ""),
        valid_from=valid_from,
        parameters=parameters,
    )
    after = {"key": key, "version": rule.version, "valid_from": valid_from.isoformat(), "parameters": parameters}
    audit_record(actor=actor or "system", action="deadline_rule.create", obj=rule, after=after)
    return rule
