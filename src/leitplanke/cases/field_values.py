"""The typed side rows of custom-field values (models.CaseFieldValue, ADR 0025).

Case.custom_fields (JSON) stays the record; for every value of a field of kind number, money
or date a case also has one row with the value typed (`number`: the number or the money
amount; `date`), so that the case list's range filters read matching case ids from an index
(definition, value, case) instead of testing the JSON of every case. Every write path that
sets custom values calls `sync` in its transaction: cases.services (create, update,
process steps; the API and intake go through them), the demo's bulk seed (`typed_value`
for its own INSERTs) and migration 0015 for the cases that existed before.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Iterable, Mapping
from typing import Any

# The kinds whose values are ordered and get a typed row (FieldKind values, spelt out so
# that migrations can import this module without the models).
NUMBER, MONEY, DATE = "number", "money", "date"
TYPED_KINDS = (NUMBER, MONEY, DATE)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_DIGITS = 100


def _decimal(raw: Any) -> decimal.Decimal | None:
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        number = decimal.Decimal(str(raw).strip())
    except (decimal.InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    # What the databases' columns hold without an error (PostgreSQL's numeric has limits,
    # SQLite would read infinity): the old JSON comparison cast no longer text either.
    exponent = number.as_tuple().exponent
    if number and (number.adjusted() > MAX_DIGITS or (isinstance(exponent, int) and exponent < -MAX_DIGITS)):
        return None
    return number


def typed_value(kind: str, raw: Any) -> tuple[decimal.Decimal | None, dt.date | None] | None:
    """(number, date) for a stored custom value of this kind, or None where the value is no
    such value (then the case has no row, and no range filter finds it, as before)."""
    if kind == NUMBER:
        number = _decimal(raw)
        return None if number is None else (number, None)
    if kind == MONEY:
        number = _decimal(raw.get("amount")) if isinstance(raw, Mapping) else None
        return None if number is None else (number, None)
    if kind == DATE:
        if not isinstance(raw, str) or not ISO_DATE.match(raw):
            return None
        try:
            return None, dt.date.fromisoformat(raw)
        except ValueError:
            return None
    return None


def rows_for(
    case_id: int, custom_fields: Mapping[str, Any] | None, definitions: Iterable[Any]
) -> list[tuple[int, int, Any, Any]]:
    """(case id, definition id, number, date) for each typed value among the case's values;
    `definitions`: the custom fields of the case's type."""
    values = custom_fields or {}
    rows = []
    for definition in definitions:
        if definition.kind in TYPED_KINDS and definition.key in values:
            typed = typed_value(definition.kind, values[definition.key])
            if typed is not None:
                rows.append((case_id, definition.pk, *typed))
    return rows


def sync(case: Any, *, created: bool = False) -> None:
    """Makes the case's typed rows match its custom_fields (call inside the write's
    transaction, after the case row is written). `created`: a new case has no rows yet, so
    nothing is deleted; a case without typed values then costs no query."""
    from .models import CaseFieldValue
    from .selectors import active_custom_fields

    definitions = [d for d in active_custom_fields() if d.case_type_id == case.case_type_id]
    rows = rows_for(case.pk, case.custom_fields, definitions)
    if not created:
        CaseFieldValue.objects.filter(case_id=case.pk).delete()
    if rows:
        CaseFieldValue.objects.bulk_create(
            [CaseFieldValue(case_id=c, definition_id=d, number=number, date=date) for c, d, number, date in rows]
        )
