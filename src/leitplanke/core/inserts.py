"""One-row INSERTs whose SQL is compiled once per model and database, for hot write paths.

`Model.objects.create()` builds its INSERT statement anew for every row: a `Query`, a
compiler, a placeholder per field, the RETURNING clause. Creating a case writes four rows
that way; keeping the statements took a sixth off a create's CPU through the API (ADR 0006).
`insert_row` does for a new row what `save()` does for a plain model — `pre_save` of each
field (`auto_now`, `auto_now_add`), `get_db_prep_save`, the primary key read back with
RETURNING — and keeps the statement text per model and database.

What it leaves out, and so what it refuses:

- model signals: a model with `pre_save` or `post_save` receivers is refused (receivers
  are connected in `AppConfig.ready()`, before the first insert), unless the caller says
  that it has done what they do (`receivers_done=True`, as `core.background` does for the
  task row's `run_after` default);
- `save()` overrides: refused, unless the model declares that its override only guards
  updates (`INSERT_ROW_SKIPS_NOTHING = True`, as the append-only audit log does);
- multi-table inheritance, and database expressions as field values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save

from .prepared import statement_cursor


@dataclass(frozen=True)
class _Statement:
    sql: str
    fields: tuple[Field, ...]
    returned_pk: Field | None  # the primary key the database numbers, read back with RETURNING
    # Per field: the one Python type whose values (and None) go to the database as they are,
    # or None where `get_db_prep_save` must convert (dates, JSON, decimals, …).
    plain: tuple[type | None, ...] = ()
    head: str = ""  # "INSERT INTO t (a, b)": `sql` is head, " VALUES ", values and returning
    values: str = ""  # "(%s, %s, …)": one row's placeholders
    returning: str = ""  # " RETURNING id" or ""
    has_save_receivers: bool = False


# Fields whose `get_db_prep_save` returns a value of this exact type unchanged (`to_python` of
# a str is the str, `int()` of an int the int): the per-value conversion is skipped for them.
_PLAIN_TYPES: dict[type[Field], type] = {
    models.CharField: str,
    models.TextField: str,
    models.EmailField: str,
    models.SlugField: str,
    models.IntegerField: int,
    models.SmallIntegerField: int,
    models.BigIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.BooleanField: bool,
}


class _Aware:
    """The `plain` marker of a DateTimeField on PostgreSQL: an aware datetime (or None) goes
    to the database as it is, which is what Django's `get_db_prep_save` gives for it there
    (`to_python` keeps a datetime, `adapt_datetimefield_value` returns it); a naive one
    still goes through it (Django's warning and conversion)."""


def _plain_type(field: Field, vendor: str = "") -> type | None:
    if vendor == "postgresql" and type(field) is models.DateTimeField:
        return _Aware
    if isinstance(field, models.ForeignKey):
        target = field.target_field
        return int if isinstance(target, models.AutoField | models.BigAutoField | models.SmallAutoField) else None
    return _PLAIN_TYPES.get(type(field))


M = TypeVar("M", bound=Model)

_STATEMENTS: dict[tuple[type[Model], str], _Statement] = {}


def _compile(model: type[Model], connection: BaseDatabaseWrapper) -> _Statement:
    meta = model._meta
    if meta.parents:
        raise TypeError(f"insert_row does not handle multi-table inheritance ({meta.label})")
    if model.save is not Model.save and not getattr(model, "INSERT_ROW_SKIPS_NOTHING", False):
        raise TypeError(f"{meta.label} overrides save(); use save()")
    pk = meta.pk if getattr(meta.pk, "db_returning", False) else None  # an AutoField: the database numbers it
    fields = tuple(field for field in meta.local_concrete_fields if not field.generated and field is not pk)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)  # concrete fields have a column
    values = "(" + ", ".join("%s" for _field in fields) + ")"
    returning = f" RETURNING {quote(str(pk.column))}" if pk is not None else ""
    # Table and column names come from the model's metadata, quoted; values are parameters.
    head = f"INSERT INTO {quote(meta.db_table)} ({columns})"
    return _Statement(
        sql=f"{head} VALUES {values}{returning}",
        head=head,
        fields=fields,
        returned_pk=pk,
        plain=tuple(_plain_type(field, connection.vendor) for field in fields),
        values=values,
        returning=returning,
        has_save_receivers=pre_save.has_listeners(model) or post_save.has_listeners(model),
    )


def _statement(model: type[Model], connection: BaseDatabaseWrapper) -> _Statement:
    key = (model, connection.vendor)
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = _compile(model, connection)
    return statement


def insert_row(instance: M, *, using: str = DEFAULT_DB_ALIAS, receivers_done: bool = False) -> M:
    """INSERTs `instance` as a new row and sets its primary key; returns it.

    `receivers_done`: the caller has done what the model's `pre_save`/`post_save` receivers
    would do; without it, a model that has any is refused."""
    insert_rows([instance], using=using, receivers_done=receivers_done)
    return instance


def insert_rows(instances: list[M], *, using: str = DEFAULT_DB_ALIAS, receivers_done: bool = False) -> list[M]:
    """INSERTs new rows of one model in one statement (a case's deadline clocks) and sets
    their primary keys, read back with RETURNING in the order of the rows (as Django's
    `bulk_create` relies on for both databases); returns them."""
    if not instances:
        return instances
    model = type(instances[0])
    if any(type(instance) is not model for instance in instances):
        raise TypeError("insert_rows takes rows of one model")
    connection = connections[using]
    if not connection.features.can_return_columns_from_insert:  # pragma: no cover - SQLite before 3.35
        for instance in instances:
            instance.save(force_insert=True, using=using)
        return instances
    statement = _statement(model, connection)
    if statement.has_save_receivers and not receivers_done:
        raise TypeError(f"{model._meta.label} has save signal receivers; use save()")
    pk = statement.returned_pk
    params: list[Any] = []
    for instance in instances:
        if pk is not None and instance.pk is not None:
            raise TypeError(f"{model._meta.label} {instance.pk} already has a primary key; the database numbers new rows")
        params.extend(_values(statement, instance, connection))
    with statement_cursor(connection, params) as cursor:
        cursor.execute(_rows_sql(statement, len(instances)), params)
        if pk is not None:
            for instance, (value,) in zip(instances, cursor.fetchall(), strict=True):
                for converter in pk.get_db_converters(connection):
                    value = converter(value, None, connection)
                setattr(instance, pk.attname, value)
    for instance in instances:
        instance._state.adding = False
        instance._state.db = using
    return instances


def insert_family(
    parent: Model,
    children: Sequence[tuple[str | None, Sequence[Model]]],
    *,
    using: str = DEFAULT_DB_ALIAS,
    lead: Sequence[tuple[str, str, Sequence[Any]]] = (),
    expressions: Mapping[type[Model], Mapping[str, str]] | None = None,
    report: str = "",
) -> Any:
    """INSERTs a new `parent` row and, per (foreign key name, rows) of `children`, rows that
    point at it: one statement on PostgreSQL, which numbers the parent and hands its id to
    the children (a data-modifying WITH; one round trip instead of one per table), one
    `insert_rows` per table elsewhere. Sets every primary key and foreign key. The children's
    foreign keys must be deferred constraints (Django's default on PostgreSQL): they are
    checked at commit. Same values, same checks as `insert_row`.

    PostgreSQL only, for a write that needs a value the database makes in the same statement
    (a case's reference number, ADR 0032):
    - `lead`: (name, SQL, positional parameters) of WITH parts that come before the parent;
    - `expressions`: per model, a column's SQL instead of its placeholder, in which `%s`
      stands for the column's value; it may read the lead parts, and `parent`'s id;
    - a child group named None: rows of any model that do not point at the parent by a
      foreign key (an audit event naming it through an expression);
    - `report`: an SQL expression of type integer read after the statement (`last_value FROM
      counter`), returned; None when empty."""
    connection = connections[using]
    groups = [(name, rows) for name, rows in children if rows]
    if connection.vendor != "postgresql":
        if lead or expressions or report or any(name is None for name, _rows in groups):
            raise TypeError("insert_family: lead, expressions, unlinked rows and report need PostgreSQL")
        insert_row(parent, using=using)
        for name, rows in groups:
            for row in rows:
                setattr(row, str(name), parent)
            insert_rows(list(rows), using=using)
        return None
    parent_statement = _statement(type(parent), connection)
    if parent_statement.returned_pk is None or parent.pk is not None:
        raise TypeError(f"insert_family numbers a new {type(parent)._meta.label} row")
    if parent_statement.has_save_receivers:
        raise TypeError(f"{type(parent)._meta.label} has save signal receivers; use save()")
    expressions = expressions or {}
    params: list[Any] = [param for _name, _sql, lead_params in lead for param in lead_params]
    parts = [f"{name} AS ({sql})" for name, sql, _params in lead]
    parent_id = connection.ops.quote_name(str(parent_statement.returned_pk.column))
    link_value = f"(SELECT {parent_id} FROM parent)"  # noqa: S608
    parent_values, values = _with_expressions(parent_statement, parent, expressions, connection, link=None, link_value="")
    params.extend(values)
    parts.append(f"parent AS ({parent_statement.head} VALUES {parent_values}{parent_statement.returning})")
    # Table and column names come from the models' metadata, quoted; values are parameters.
    selects = [f"SELECT 0, {parent_id} FROM parent"]  # noqa: S608
    for index, (name, rows) in enumerate(groups):
        model = type(rows[0])
        if any(type(row) is not model for row in rows):
            raise TypeError("insert_family takes rows of one model per foreign key")
        statement = _statement(model, connection)
        if statement.has_save_receivers:
            raise TypeError(f"{model._meta.label} has save signal receivers; use save()")
        link = model._meta.get_field(name) if name is not None else None
        if link is not None and not isinstance(link, Field):
            raise TypeError(f"insert_family: {model._meta.label}.{name} is no column")
        if statement.returned_pk is None and (link is None or model._meta.pk is not link):
            raise TypeError(f"insert_family needs {model._meta.label} to be numbered or keyed by {name}")
        returning = statement.returning or f" RETURNING {connection.ops.quote_name(str(link.column))}"  # type: ignore[union-attr]
        row_sql = []
        for row in rows:
            if statement.returned_pk is not None and row.pk is not None:
                raise TypeError(f"{model._meta.label} {row.pk} already has a primary key; the database numbers new rows")
            # The link's placeholder takes the parent's new id; every other value is a parameter.
            sql, values = _with_expressions(statement, row, expressions, connection, link=link, link_value=link_value)
            row_sql.append(sql)
            params.extend(values)
        parts.append(f"child{index} AS ({statement.head} VALUES {', '.join(row_sql)}{returning})")
        selects.append(f"SELECT {index + 1}, {returning.removeprefix(' RETURNING ')} FROM child{index}")  # noqa: S608
    if report:
        selects.append(f"SELECT -1, {report}")  # the caller's SQL, from code
    ids = _run_with(connection, parts, selects, params)
    setattr(parent, parent_statement.returned_pk.attname, ids[0][0])
    _saved(parent, using)
    for index, (name, rows) in enumerate(groups):
        if name is not None:
            for row in rows:
                setattr(row, name, parent)
        _numbered(rows, _statement(type(rows[0]), connection).returned_pk, ids.get(index + 1, []), using)
    return ids[-1][0] if report else None


def _run_with(connection: BaseDatabaseWrapper, parts: list[str], selects: list[str], params: list[Any]) -> dict[int, list[Any]]:
    """Runs `WITH parts SELECT … UNION ALL SELECT …` (each select reads (group, value)) and
    returns the values read back per group."""
    with statement_cursor(connection, params) as cursor:
        cursor.execute("WITH " + ", ".join(parts) + " " + " UNION ALL ".join(selects), params)
        returned = cursor.fetchall()
    ids: dict[int, list[Any]] = {}
    for group, value in returned:
        ids.setdefault(group, []).append(value)
    return ids


def _numbered(rows: Sequence[Model], pk: Field | None, values: list[Any], using: str) -> None:
    """Gives rows written by one data-modifying WITH part the keys it returned (one sequence
    numbers a statement's rows in their order) and marks them saved."""
    numbers = sorted(values)
    if len(numbers) != len(rows):
        raise RuntimeError(f"{len(numbers)} ids for {len(rows)} {type(rows[0])._meta.label} rows")
    for row, number in zip(rows, numbers, strict=True):
        if pk is not None:
            setattr(row, pk.attname, number)
        _saved(row, using)


def _with_expressions(
    statement: _Statement,
    row: Model,
    expressions: Mapping[type[Model], Mapping[str, str]],
    connection: BaseDatabaseWrapper,
    *,
    link: Field | None,
    link_value: str,
) -> tuple[str, list[Any]]:
    """One row's `(…)` for a data-modifying WITH and its parameters: the `link` column (the
    foreign key to the parent) reads the parent's id, a column with an expression its SQL."""
    model = type(row)
    text, uses = _row_template(model, statement, tuple(expressions.get(model, {}).items()), link, link_value)
    params: list[Any] = []
    for value, count in zip(_values(statement, row, connection), uses, strict=True):
        if count == 1:
            params.append(value)
        elif count:
            params.extend([value] * count)
    return text, params


# Per statement, expressions and link: a row's text and how often each value goes into it.
_ROW_TEMPLATES: dict[tuple[type[Model], tuple[tuple[str, str], ...], str | None, str], tuple[str, tuple[int, ...]]] = {}


def _row_template(
    model: type[Model], statement: _Statement, own: tuple[tuple[str, str], ...], link: Field | None, link_value: str
) -> tuple[str, tuple[int, ...]]:
    """The row text `_with_expressions` writes, made once per shape (a create writes the
    same shapes every time): the link's placeholder is `link_value` (no parameter), a column
    with an expression takes its value once per `%s` in it, every other column once."""
    key = (model, own, None if link is None else link.name, link_value)
    template = _ROW_TEMPLATES.get(key)
    if template is not None:
        return template
    by_name = dict(own)
    unknown = set(by_name) - {field.name for field in statement.fields}
    if unknown:
        raise TypeError(f"insert_family: no column {sorted(unknown)[0]} in {model._meta.label}")
    placeholders: list[str] = []
    uses: list[int] = []
    for field in statement.fields:
        sql = link_value if field is link else by_name.get(field.name, "%s")
        placeholders.append(sql)
        uses.append(0 if field is link else sql.count("%s"))
    template = _ROW_TEMPLATES[key] = ("(" + ", ".join(placeholders) + ")", tuple(uses))
    return template


def _saved(instance: Model, using: str) -> None:
    instance._state.adding = False
    instance._state.db = using


def _values(statement: _Statement, instance: Model, connection: BaseDatabaseWrapper) -> list[Any]:
    params: list[Any] = []
    for field, plain in zip(statement.fields, statement.plain, strict=True):
        value = field.pre_save(instance, True)
        if plain is not None and (value is None or type(value) is plain):
            params.append(value)
            continue
        if plain is _Aware and type(value) is dt.datetime and value.utcoffset() is not None:
            params.append(value)
            continue
        if hasattr(value, "resolve_expression"):
            raise TypeError(f"insert_row takes plain values, not expressions ({field.name})")
        params.append(field.get_db_prep_save(value, connection=connection))
    return params


def _rows_sql(statement: _Statement, count: int) -> str:
    """The statement with `count` rows of values (the one-row text is the compiled one)."""
    if count == 1:
        return statement.sql
    return f"{statement.head} VALUES {', '.join([statement.values] * count)}{statement.returning}"


_UPDATES: dict[tuple[type[Model], tuple[str, ...], str], tuple[str, tuple[Field, ...], Field]] = {}


def update_row(instance: Model, fields: Sequence[str], *, using: str = DEFAULT_DB_ALIAS) -> int:
    """UPDATEs the named fields of a saved row by primary key, as `save(update_fields=…)`
    does (each field's `pre_save`: an `auto_now` field named here gets the time), with the
    statement compiled once per model, fields and database; returns the number of rows
    changed. The same refusals as `insert_row`: no model with save signal receivers or a
    `save()` override, no expressions as values."""
    sql, params = update_statement(instance, fields, using=using)
    with statement_cursor(connections[using], params) as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def update_statement(instance: Model, fields: Sequence[str], *, using: str = DEFAULT_DB_ALIAS) -> tuple[str, list[Any]]:
    """`update_row`'s statement and parameters, not run: for a caller that makes it a WITH
    part of a statement writing other rows too (`insert_family`'s `lead`). The fields'
    `pre_save` has run (an `auto_now` field has its new time)."""
    connection = connections[using]
    model = type(instance)
    meta = model._meta
    names = tuple(fields)
    key = (model, names, connection.vendor)
    compiled = _UPDATES.get(key)
    if compiled is None:
        if model.save is not Model.save or pre_save.has_listeners(model) or post_save.has_listeners(model):
            raise TypeError(f"update_row: {meta.label} has save() logic or save signal receivers; use save()")
        chosen = [meta.get_field(name) for name in names]
        concrete = tuple(f for f in chosen if isinstance(f, Field) and f.concrete and not f.primary_key)
        if len(concrete) != len(chosen):
            raise TypeError(f"update_row: {meta.label}: only concrete columns other than the key")
        quote = connection.ops.quote_name
        assignments = ", ".join(f"{quote(str(f.column))} = %s" for f in concrete)
        # Table and column names come from the model's metadata, quoted; values are parameters.
        sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(str(meta.pk.column))} = %s"  # noqa: S608
        compiled = _UPDATES[key] = (sql, concrete, meta.pk)
    sql, concrete, pk = compiled
    params: list[Any] = []
    for field in concrete:
        value = field.pre_save(instance, False)
        if hasattr(value, "resolve_expression"):
            raise TypeError(f"update_row takes plain values, not expressions ({field.name})")
        params.append(field.get_db_prep_save(value, connection=connection))
    params.append(pk.get_db_prep_save(instance.pk, connection=connection))
    return sql, params


def write_rows(
    rows: Sequence[Model], *, using: str = DEFAULT_DB_ALIAS, lead: Sequence[tuple[str, str, Sequence[Any]]] = ()
) -> None:
    """INSERTs new rows of several models (models in the order their first row comes, rows of
    a model in their order): a change's timeline entries and audit events written together at
    its end. One statement on PostgreSQL (a data-modifying WITH per model), one `insert_rows`
    per model elsewhere.

    `lead`, PostgreSQL only: (name, SQL, parameters) of WITH parts written before the rows in
    the same statement — the change's UPDATE of its own row (`update_statement`)."""
    groups: dict[type[Model], list[Model]] = {}
    for row in rows:
        groups.setdefault(type(row), []).append(row)
    connection = connections[using]
    if lead and connection.vendor != "postgresql":
        raise TypeError("write_rows: lead needs PostgreSQL")
    if connection.vendor != "postgresql" or (len(groups) < 2 and not lead):
        for group in groups.values():
            insert_rows(group, using=using)
        return
    parts = [f"{name} AS ({sql})" for name, sql, _params in lead]
    params: list[Any] = [param for _name, _sql, lead_params in lead for param in lead_params]
    selects = []
    statements = []
    for index, (model, group) in enumerate(groups.items()):
        statement = _statement(model, connection)
        if statement.has_save_receivers or statement.returned_pk is None:
            raise TypeError(f"write_rows: {model._meta.label} needs save() or has no numbered key")
        for row in group:
            if row.pk is not None:
                raise TypeError(f"{model._meta.label} {row.pk} already has a primary key; the database numbers new rows")
            params.extend(_values(statement, row, connection))
        statements.append(statement)
        parts.append(f"rows{index} AS ({_rows_sql(statement, len(group))})")
        selects.append(f"SELECT {index}, {statement.returning.removeprefix(' RETURNING ')} FROM rows{index}")  # noqa: S608
    if not selects:
        selects.append("SELECT -1, 0")  # only the lead parts: the statement still needs a query
    ids = _run_with(connection, parts, selects, params)
    for index, (statement, group) in enumerate(zip(statements, groups.values(), strict=True)):
        _numbered(group, statement.returned_pk, ids.get(index, []), using)
