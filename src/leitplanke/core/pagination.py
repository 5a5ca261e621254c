"""Keyset (cursor) pagination: pages cost the same at row 20 and at row 900,000.

A cursor is an opaque, signed token holding the sort values of the last row seen.
Ordering must end in a unique column (the primary key) so that the position is exact.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, Q, QuerySet

from .errors import ValidationFailed

M = TypeVar("M", bound=Model)
_signer = signing.Signer(salt="leitplanke.cursor")


class InvalidCursor(ValidationFailed):
    code = "invalid_cursor"


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and "dt" in value:
        return dt.datetime.fromisoformat(value["dt"])
    if isinstance(value, dict) and "d" in value:
        return dt.date.fromisoformat(value["d"])
    return value


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([_encode_value(v) for v in values], separators=(",", ":"))
    return _signer.sign(base64.urlsafe_b64encode(raw.encode()).decode().rstrip("="))


def decode_cursor(cursor: str, expected_length: int) -> list[Any]:
    try:
        payload = _signer.unsign(cursor)
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        values = [_decode_value(v) for v in json.loads(raw)]
    except (signing.BadSignature, ValueError, TypeError):
        raise InvalidCursor(field_errors={"cursor": ["invalid cursor"]}) from None
    if len(values) != expected_length:
        raise InvalidCursor(field_errors={"cursor": ["invalid cursor"]})
    return values


@dataclass
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None
    has_more: bool


def _field_value(obj: Model, name: str) -> Any:
    value: Any = obj
    for part in name.split("__"):
        value = getattr(value, part)
    return value


def keyset_page(queryset: QuerySet[M], *, ordering: list[str], cursor: str | None, limit: int) -> Page[M]:
    """Returns one page; `ordering` like ["-received_at", "-id"] (last item unique)."""
    fields = [item.lstrip("-") for item in ordering]
    qs = queryset.order_by(*ordering)
    if cursor:
        values = decode_cursor(cursor, len(fields))
        try:
            qs = qs.filter(_after(ordering, values))
        except (ValueError, TypeError, DjangoValidationError):  # a cursor of another list, with other types
            raise InvalidCursor(field_errors={"cursor": ["invalid cursor"]}) from None
    rows = list(qs[: limit + 1])
    has_more = len(rows) > limit
    items = rows[:limit]
    next_cursor = encode_cursor([_field_value(items[-1], f) for f in fields]) if has_more and items else None
    return Page(items=items, next_cursor=next_cursor, has_more=has_more)


def _after(ordering: list[str], values: list[Any]) -> Q:
    """(a, b, c) > (x, y, z) in the given directions, as an OR of prefixes."""
    condition = Q()
    for index, item in enumerate(ordering):
        name = item.lstrip("-")
        lookup = "lt" if item.startswith("-") else "gt"
        prefix = Q(**{ordering[i].lstrip("-"): values[i] for i in range(index)})
        condition |= prefix & Q(**{f"{name}__{lookup}": values[index]})
    return condition
