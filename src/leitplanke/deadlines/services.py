"""Writes of the deadlines app: the organisation's deadline settings (the choices where the
law leaves one, closures, business hours). Rule versions are data shipped by migrations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from leitplanke.accounts.permissions import MANAGE_ORGANISATION, has_capability
from leitplanke.core.audit import audit_update, snapshot
from leitplanke.core.errors import PermissionDenied, ValidationFailed, refuse_unknown_fields

from . import engine
from .messages import message_for
from .models import DeadlineSettings

SETTINGS_FIELDS = ["non_business_day_receipt", "cut_off", "due_time", "pause_end_day", "business_hours", "closures"]


@transaction.atomic
def deadline_settings_update(*, actor: Any, **changes: Any) -> DeadlineSettings:
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
