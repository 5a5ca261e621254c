"""Model instances from statements written once, for hot read paths (the write side is
`core.inserts`): the column list of a model, and an instance from a fetched row with every
value converted as the ORM converts it (the backend's and the field's converters).

A query through the ORM is compiled anew on every call; for a lookup that runs for every
message of an e-mail import that compile costs more than the database's answer.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)


def columns(model: type[Model], connection: BaseDatabaseWrapper, *, leave_out: tuple[str, ...] = ()) -> tuple[str, list[Field]]:
    """`table.column, …` of the model's concrete fields (but `leave_out`, by attname) and the
    fields in that order. Names come from the model's metadata, quoted."""
    quote = connection.ops.quote_name
    table = model._meta.db_table
    fields = [field for field in model._meta.concrete_fields if field.attname not in leave_out]
    return ", ".join(f"{quote(table)}.{quote(str(field.column))}" for field in fields), fields


# Per (model, fields, database vendor): the attribute names and, per field, its column and the
# converters the ORM applies to its values (looked up once, not for every row).
_CONVERTERS: dict[tuple[type[Model], tuple[Field, ...], str], tuple[list[str], list[tuple[Any, tuple[Any, ...]]]]] = {}


def _converters(
    model: type[Model], fields: list[Field], connection: BaseDatabaseWrapper
) -> tuple[list[str], list[tuple[Any, tuple[Any, ...]]]]:
    key = (model, tuple(fields), connection.vendor)
    found = _CONVERTERS.get(key)
    if found is None:
        table = model._meta.db_table
        per_field = []
        for field in fields:
            column = field.get_col(table)
            per_field.append((column, (*connection.ops.get_db_converters(column), *field.get_db_converters(connection))))
        found = _CONVERTERS[key] = ([field.attname for field in fields], per_field)
    return found


def instance(model: type[M], fields: list[Field], row: tuple[Any, ...], connection: BaseDatabaseWrapper) -> M:
    """The instance a queryset would give for `row` (the values of `fields`, in order); fields
    left out are deferred, as with `.defer()`."""
    names, per_field = _converters(model, fields, connection)
    values = []
    for (column, converters), value in zip(per_field, row, strict=True):
        for converter in converters:
            value = converter(value, column, connection)
        values.append(value)
    return model.from_db(connection.alias, names, values)
