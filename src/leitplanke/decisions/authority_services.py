"""Writers of authority limits (administrators, `org.manage`): create, update, delete — each
audited with before and after."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from leitplanke.accounts.actors import Actor
from leitplanke.accounts.models import Role, Skill, User
from leitplanke.accounts.permissions import MANAGE_ORGANISATION, has_capability
from leitplanke.cases.models import CaseType
from leitplanke.core.audit import audit_record, snapshot
from leitplanke.core.errors import NotFound, PermissionDenied, ValidationFailed
from leitplanke.processes.catalogue import CURRENCIES

from .models import AuthorityLimit, DecisionKind

FIELDS = ["role", "user", "kind", "currency", "case_type", "skill", "min_level", "per_decision", "per_customer_year"]
MAX_AMOUNT = Decimal("9999999999.99")


def _require_admin(actor: Actor) -> None:
    if not has_capability(actor, MANAGE_ORGANISATION):
        raise PermissionDenied()


def _amount(value: Any, field: str, errors: dict[str, list[str]], *, required: bool) -> Decimal | None:
    if value is None or value == "":
        if required:
            errors[field] = [_("This field is required.")]
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[field] = [_("Enter an amount such as 100 or 99.50.")]
        return None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        errors[field] = [_("Enter an amount between 0 and 9,999,999,999.99 with at most two decimals.")]
        return None
    return amount.quantize(Decimal("0.01"))


def _instance(model: Any, value: Any) -> Any:
    if value is None or value == "" or isinstance(value, model):
        return value or None
    return model.objects.filter(pk=value).first()


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    role = _instance(Role, data.get("role"))
    user = _instance(User, data.get("user"))
    if (role is None) == (user is None):
        errors["role"] = [_("Choose either a role or a person.")]
    kind = data.get("kind")
    if kind not in DecisionKind.values:
        errors["kind"] = [_("Choose a decision kind.")]
    currency = str(data.get("currency") or "").strip().upper()
    if currency not in CURRENCIES:
        errors["currency"] = [_("Choose one of the currencies %(list)s.") % {"list": ", ".join(CURRENCIES)}]
    case_type = _instance(CaseType, data.get("case_type"))
    skill = _instance(Skill, data.get("skill"))
    try:
        min_level = int(data.get("min_level") or 1)
    except (TypeError, ValueError):
        min_level = 0
    if not 1 <= min_level <= 3:
        errors["min_level"] = [_("Choose a level from 1 to 3.")]
    per_decision = _amount(data.get("per_decision"), "per_decision", errors, required=True)
    per_year = _amount(data.get("per_customer_year"), "per_customer_year", errors, required=False)
    if per_decision is not None and per_year is not None and per_year < per_decision:
        errors["per_customer_year"] = [_("The yearly limit per customer cannot be lower than the limit per decision.")]
    if errors:
        raise ValidationFailed(field_errors=errors)
    return {
        "role": role,
        "user": user,
        "kind": kind,
        "currency": currency,
        "case_type": case_type,
        "skill": skill,
        "min_level": min_level,
        "per_decision": per_decision,
        "per_customer_year": per_year,
    }


def _duplicate(values: dict[str, Any], exclude: int | None = None) -> bool:
    lookup = {key: values[key] for key in ("role", "user", "kind", "currency", "case_type", "skill")}
    if values["skill"] is not None:
        lookup["min_level"] = values["min_level"]
    same = AuthorityLimit.objects.filter(**{k: v for k, v in lookup.items() if v is not None})
    for key, value in lookup.items():
        if value is None:
            same = same.filter(**{f"{key}__isnull": True})
    if exclude is not None:
        same = same.exclude(pk=exclude)
    return same.exists()


def _refuse_duplicate(values: dict[str, Any], exclude: int | None = None) -> None:
    if _duplicate(values, exclude):
        raise ValidationFailed(
            _("There is already a limit for this holder, kind, currency, case type and qualification."),
            field_errors={"kind": [_("There is already a limit for this holder, kind, currency, case type and qualification.")]},
        )


@transaction.atomic
def authority_limit_create(*, actor: Actor, **data: Any) -> AuthorityLimit:
    _require_admin(actor)
    values = _clean(data)
    _refuse_duplicate(values)
    try:
        with transaction.atomic():
            limit = AuthorityLimit.objects.create(**values)
    except IntegrityError:
        raise ValidationFailed(field_errors={"per_decision": [_("These values cannot be stored.")]}) from None
    audit_record(actor=actor, action="decision.authority_limit_create", obj=limit, after=snapshot(limit, FIELDS))
    return limit


@transaction.atomic
def authority_limit_update(*, actor: Actor, limit: AuthorityLimit, **data: Any) -> AuthorityLimit:
    _require_admin(actor)
    locked = AuthorityLimit.objects.select_for_update().filter(pk=limit.pk).first()
    if locked is None:
        raise NotFound()
    before = snapshot(locked, FIELDS)
    values = _clean(data)
    _refuse_duplicate(values, exclude=locked.pk)
    for key, value in values.items():
        setattr(locked, key, value)
    locked.save()
    audit_record(actor=actor, action="decision.authority_limit_update", obj=locked, before=before, after=snapshot(locked, FIELDS))
    return locked


@transaction.atomic
def authority_limit_delete(*, actor: Actor, limit: AuthorityLimit) -> None:
    _require_admin(actor)
    locked = AuthorityLimit.objects.select_for_update().filter(pk=limit.pk).first()
    if locked is None:
        raise NotFound()
    before = snapshot(locked, FIELDS)
    pk = locked.pk
    locked.delete()
    audit_record(
        actor=actor,
        action="decision.authority_limit_delete",
        object_type="decisions.authoritylimit",
        object_id=pk,
        before=before,
    )
