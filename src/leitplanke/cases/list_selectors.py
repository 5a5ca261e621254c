"""Reads for the case list: filters, full-text search, sorting, keyset pages, capped counts,
saved views and the rows of an export. Everything starts from `selectors.visible_cases`, so
a list never shows more than the actor may see.

Counting: an exact COUNT(*) over a million visible rows costs a full index scan on every
page view. `case_count_estimate` therefore counts at most COUNT_CAP + 1 rows
(`SELECT COUNT(*) FROM (… LIMIT 10001)`) and shows "10,000+" beyond; the cost is bounded by
the cap, not by the table. See docs/case-list.md.

Custom fields filter by their kind (`custom_field_filters`): `cf.<key>=<value>` (repeat for
any of several) and `cf.<key>.min` / `cf.<key>.max` for numbers, amounts and dates. The UI
and the API share this one implementation; the API answers 422 where the UI shows a form error.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import NotSupportedError, connection
from django.db.models import BooleanField, DecimalField, F, Func, Q, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.db.models.lookups import Exact, GreaterThanOrEqual, LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext as _

from leitplanke.accounts.actors import Actor, is_user
from leitplanke.core.days import day_start
from leitplanke.core.pagination import Page, decode_cursor, keyset_page
from leitplanke.customers.normalise import phone_search_token

from . import permissions
from .models import (
    NO_DUE,
    Case,
    CaseFieldValue,
    Category,
    Channel,
    CustomFieldDefinition,
    FieldKind,
    Priority,
    SavedView,
    StatusKind,
    Tag,
    tag_key,
)
from .selectors import active_case_type, active_custom_fields, custom_field_definitions, visible_cases

CHANNEL_CHOICES = list(Channel.choices)
PRIORITY_CHOICES = [(str(value), label) for value, label in Priority.choices]
STATUS_KIND_CHOICES = list(StatusKind.choices)

DEFAULT_SORT = "received_desc"
# Every ordering ends with the primary key, so keyset positions are exact.
SORTS: dict[str, list[str]] = {
    "received_desc": ["-received_at", "-id"],
    "received_asc": ["received_at", "id"],
    "priority": ["-priority", "-received_at", "-id"],
    "updated": ["-updated_at", "-id"],
    # Cases without a running deadline clock carry models.NO_DUE and come last.
    "due": ["next_due_at", "id"],
}
PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
COUNT_CAP = 10_000
LIST_RELATED = ("case_type", "team", "responsible_user", "customer", "category")
REFERENCE = re.compile(r"^\s*LP-\d{4}-\d{4,}\s*$", re.IGNORECASE)
# The keys administrators can give a custom field (catalog_services.KEY_PATTERN, at most 50).
CUSTOM_FIELD_KEY = re.compile(r"^[a-z0-9][-a-z0-9_]{0,49}$")
# Filter keys a saved view or an export records (everything except paging).
FILTER_KEYS = (
    "q",
    "status",
    "status_kind",
    "case_type",
    "team",
    "responsible",
    "category",
    "priority",
    "channel",
    "customer",
    "product",
    "received_from",
    "received_to",
    "tags",
    "deadline",
    "sort",
)


def _values(params: Mapping[str, Any], key: str) -> list[str]:
    """All non-empty values of a parameter (QueryDict lists, plain lists or one string)."""
    if hasattr(params, "getlist"):
        raw: Iterable[Any] = params.getlist(key)
    else:
        value = params.get(key)
        raw = value if isinstance(value, list | tuple) else [value]
    out: list[str] = []
    for item in raw:
        if item is None:
            continue
        parts = str(item).split(",") if key == "tags" else [str(item)]
        out.extend(part.strip() for part in parts if part.strip())
    return out


def _ints(values: list[str]) -> list[int]:
    out = []
    for value in values:
        try:
            out.append(int(value))
        except ValueError:
            continue
    return out


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _day_start(day: dt.date) -> dt.datetime:
    return day_start(day)


def fts5_query(text: str) -> str:
    """The user's words as FTS5 prefix phrases joined by AND: `"zählerstand"* "rechnung"*`.

    Every token becomes a quoted string (inner quotes doubled), so FTS5 operators, column
    filters and parentheses typed by a user are searched as words, never interpreted.
    Prefix matching stands in for the stemming PostgreSQL does ("Rechnung" finds "Rechnungen").
    """
    words = [word for word in re.split(r"\s+", text.strip()) if any(ch.isalnum() for ch in word)]
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words[:12])


# A search whose words match at most this many cases (in the whole table) is driven by its
# matches: the ids are read from the full-text index first (one bounded query) and the list
# reads those rows by primary key and sorts them. Beyond it the list walks its sort index and
# probes each row (one page of a common word is found after few rows). Without this split a
# rare or absent word walked the whole sort index, and the capped count scanned every case:
# a cost growing with the table. See docs/case-list.md, "Search".
SEARCH_MATCH_LIMIT = 2000


def _pg_match(text: str) -> tuple[str, tuple[str, str, str]]:
    """The PostgreSQL full-text condition on a search document, with its parameters: German
    or English words, or the phone token (an empty query when the text is no phone number)."""
    phone = phone_search_token(text) or text
    sql = (
        "vector @@ (websearch_to_tsquery('german', %s) || websearch_to_tsquery('english', %s)"
        " || websearch_to_tsquery('simple', %s))"
    )
    return sql, (text, text, phone if phone != text else "")


def _fts5_match(text: str) -> str:
    """The SQLite FTS5 query for the words, or "" when nothing searchable is left.

    An e-mail address is searched by its local part: FTS5 splits the address into words,
    and the domain's words ("example", "de") are in most documents, which makes the phrase
    slow to match; the local part alone is as selective. A typed phone number ("0221 123456")
    is searched as the token the customer's words in the search document carry
    ("49221123456", services._search_head) as well."""
    phone = phone_search_token(text) or text
    local, at, domain = text.partition("@")
    query = fts5_query(local if at and local.strip() and " " not in text and "." in domain else text)
    if query and phone != text:
        query = f"({query}) OR ({fts5_query(phone)})"
    return query


def search_match_ids(text: str, limit: int | None = None) -> list[int] | None:
    """The ids of the cases whose search document contains the words, if at most `limit`
    (default SEARCH_MATCH_LIMIT); None if there are more (or the words are no full-text
    query: a reference, nothing)."""
    limit = SEARCH_MATCH_LIMIT if limit is None else limit
    text = (text or "").strip()[:200]
    if not text or REFERENCE.match(text):
        return None
    if connection.vendor == "postgresql":
        match, words = _pg_match(text)
        sql = f"SELECT case_id FROM cases_casesearchdocument WHERE {match} LIMIT %s"  # noqa: S608 - fixed SQL, user text only as a parameter
        params: tuple[Any, ...] = (*words, limit + 1)
    elif connection.vendor == "sqlite":
        query = _fts5_match(text)
        if not query:
            return []
        sql = "SELECT rowid FROM cases_search_fts WHERE cases_search_fts MATCH %s LIMIT %s"
        params = (query, limit + 1)
    else:
        return None
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = [int(row[0]) for row in cursor.fetchall()]
    return found if len(found) <= limit else None


def _id_in(ids: list[int]) -> Q | RawSQL:
    """`id IN (ids)` that the database drives by primary key, with any number of ids."""
    if not ids:
        return Q(pk__in=[])
    if connection.vendor == "postgresql":
        return RawSQL('"cases_case"."id" = ANY(%s)', (ids,), output_field=BooleanField())
    # Integers read from the database, written as literals: no limit on bound parameters.
    return RawSQL('"cases_case"."id" IN (' + ",".join(str(int(i)) for i in ids) + ")", (), output_field=BooleanField())  # noqa: S611 - integers only


def text_search_condition(text: str, *, counting: bool = False) -> Q | RawSQL | None:
    """A condition matching cases whose search document contains the words (or the reference).

    Rare and absent words (at most SEARCH_MATCH_LIMIT matches) become an id list the query is
    driven by. `counting`: the condition serves a (capped) count, which is cheapest driven by
    the matches whatever their number.
    """
    text = (text or "").strip()[:200]
    if not text:
        return None
    if REFERENCE.match(text):
        return Q(reference=text.strip().upper())
    if connection.vendor in ("postgresql", "sqlite"):
        matches = search_match_ids(text)
        if matches is not None:
            return _id_in(matches)
    if connection.vendor == "postgresql":
        match, words = _pg_match(text)
        sql = f"SELECT case_id FROM cases_casesearchdocument WHERE {match}"  # noqa: S608 - fixed SQL, user text only as a parameter
        return Q(id__in=RawSQL(sql, words))  # noqa: S611 - fixed SQL, user text only as a parameter
    if connection.vendor == "sqlite":
        query = _fts5_match(text)
        if not query:
            return Q(pk__in=[])
        # For a page, the unary + keeps SQLite from driving the query by the (large) match
        # list and sorting it: it walks the list's sort index instead and stops after one
        # page. A count reads at most COUNT_CAP + 1 matches by primary key instead.
        sql = '"cases_case"."id" IN (SELECT rowid FROM cases_search_fts WHERE cases_search_fts MATCH %s)'
        sql = sql if counting else "+" + sql
        return RawSQL(sql, (query,), output_field=BooleanField())  # noqa: S611 - fixed SQL, user text only as a parameter
    return Q(search_document__text__icontains=text)


# --- custom fields ---------------------------------------------------------------------------

CUSTOM_FIELD_PREFIX = "cf."
EXACT, MIN, MAX = "exact", "min", "max"
ORDERED_KINDS = (FieldKind.NUMBER, FieldKind.MONEY, FieldKind.DATE)
# A number typed into a filter: one decimal comma or point, no exponent, no thousands
# separators, and short, so that no database overflows on it.
NUMBER_INPUT = re.compile(r"^[-+]?(\d{1,15}([.,]\d{0,10})?|[.,]\d{1,10})$")
TRUE_WORDS = frozenset({"true", "yes", "ja", "1"})
FALSE_WORDS = frozenset({"false", "no", "nein", "0"})
# Stored text PostgreSQL may cast to numeric without an error (digit counts bounded so the
# cast cannot overflow); other text is no number.
PG_NUMERIC_TEXT = r"^\s*[-+]?(\d{1,100}(\.\d{0,100})?|\.\d{1,100})([eE][-+]?\d{1,4})?\s*$"
PG_ISO_DATE_TEXT = r"^\d{4}-\d{2}-\d{2}$"
# SQLite's GLOB has no alternatives: numeric text has a digit and no other characters than
# digits, signs, points and exponent letters (its CAST reads the numeric prefix, never fails).
SQLITE_HAS_DIGIT = "*[0-9]*"
SQLITE_NON_NUMERIC_CHARACTER = "*[^0-9.eE+-]*"
SQLITE_ISO_DATE = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"


def _expand(template: str, pieces: dict[str, tuple[str, list[Any]]], params: tuple[Any, ...]) -> tuple[str, list[Any]]:
    """Fills `{name}` pieces (SQL with their own parameters) and `%s` (from `params`) into a
    template, keeping the parameters in the order their placeholders appear."""
    sql: list[str] = []
    ordered: list[Any] = []
    own = iter(params)
    for part in re.split(r"(\{\w+\}|%s)", template):
        if part in pieces:
            sql.append(pieces[part][0])
            ordered.extend(pieces[part][1])
        else:
            sql.append(part)
            if part == "%s":
                ordered.append(next(own))
    return "".join(sql), ordered


class _JsonScalar(Func):
    """A value inside a JSON column at `path`, typed for comparisons, or NULL where the stored
    value has another type. Whatever a row holds (a field's kind may have been changed after
    values were stored), it never raises a database error. The templates use `{type}` (the
    JSON type name there) and `{value}` (the value: SQLite's SQL value, PostgreSQL's text)."""

    sqlite_template = ""
    sqlite_params: tuple[str, ...] = ()
    postgresql_template = ""
    postgresql_params: tuple[str, ...] = ()

    def __init__(self, column: str, path: tuple[str, ...]) -> None:
        super().__init__(F(column))
        self.path = path

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> Any:
        raise NotSupportedError("Custom-field comparisons are written for SQLite and PostgreSQL.")

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        # Every key quoted: Django's own path would read a key such as "123" as an array index.
        path = [*params, "$" + "".join(f".{json.dumps(part)}" for part in self.path)]
        pieces = {"{type}": (f"JSON_TYPE({column}, %s)", path), "{value}": (f"JSON_EXTRACT({column}, %s)", path)}
        return _expand(self.sqlite_template, pieces, self.sqlite_params)

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        path = [*params, list(self.path)]
        pieces = {"{type}": (f"jsonb_typeof({column} #> %s)", path), "{value}": (f"({column} #>> %s)", path)}
        return _expand(self.postgresql_template, pieces, self.postgresql_params)


class JsonNumber(_JsonScalar):
    """A JSON number, or numeric text, as a number."""

    output_field = DecimalField()
    # The outer CAST gives the result NUMERIC affinity, so a parameter compares as a number.
    sqlite_template = (
        "CAST(CASE {type} WHEN 'integer' THEN {value} WHEN 'real' THEN {value} "
        "WHEN 'text' THEN CASE WHEN {value} GLOB %s AND {value} NOT GLOB %s THEN {value} END END AS NUMERIC)"
    )
    sqlite_params = (SQLITE_HAS_DIGIT, SQLITE_NON_NUMERIC_CHARACTER)
    # Only text matching the pattern is cast: CAST('viel' AS numeric) is an error.
    postgresql_template = (
        "(CASE {type} WHEN 'number' THEN CAST({value} AS numeric) "
        "WHEN 'string' THEN CASE WHEN {value} ~ %s THEN CAST({value} AS numeric) END END)"
    )
    postgresql_params = (PG_NUMERIC_TEXT,)


class JsonIsoDate(_JsonScalar):
    """A JSON string of the form YYYY-MM-DD; ISO dates sort correctly as text."""

    output_field = TextField()
    sqlite_template = "(CASE WHEN {type} = 'text' AND {value} GLOB %s THEN {value} END)"
    sqlite_params = (SQLITE_ISO_DATE,)
    postgresql_template = "(CASE WHEN {type} = 'string' AND {value} ~ %s THEN {value} END)"
    postgresql_params = (PG_ISO_DATE_TEXT,)


class JsonString(_JsonScalar):
    """A JSON string as text."""

    output_field = TextField()
    sqlite_template = "(CASE WHEN {type} = 'text' THEN {value} END)"
    postgresql_template = "(CASE WHEN {type} = 'string' THEN {value} END)"


class JsonBoolean(_JsonScalar):
    """A JSON boolean as the text 'true' or 'false'."""

    output_field = TextField()
    sqlite_template = "(CASE WHEN {type} IN ('true', 'false') THEN {type} END)"
    postgresql_template = "(CASE WHEN {type} = 'boolean' THEN {value} END)"


def custom_fields_of_case_type(case_type_key: str) -> list[CustomFieldDefinition]:
    """The active custom fields of the active case type with this key (none for another key)."""
    case_type = active_case_type(case_type_key)
    return custom_field_definitions(case_type)


@dataclass(frozen=True)
class KindGroup:
    """Where a custom field key has one kind: those case types (and a choice field's values)."""

    kind: str
    case_type_ids: tuple[int, ...]
    choice_values: frozenset[str]
    definition_ids: tuple[int, ...] = ()


def custom_field_kinds() -> dict[str, list[KindGroup]]:
    """Active custom field keys → their kinds; a key may have different kinds on different case types."""
    grouped: dict[str, dict[str, list[CustomFieldDefinition]]] = {}
    for definition in active_custom_fields():
        grouped.setdefault(definition.key, {}).setdefault(definition.kind, []).append(definition)
    return {key: [_kind_group(kind, definitions) for kind, definitions in kinds.items()] for key, kinds in grouped.items()}


def _kind_group(kind: str, definitions: list[CustomFieldDefinition]) -> KindGroup:
    values = {str(choice.get("value")) for d in definitions for choice in d.choices or [] if isinstance(choice, dict)}
    return KindGroup(
        kind=kind,
        case_type_ids=tuple(d.case_type_id for d in definitions),
        choice_values=frozenset(values),
        definition_ids=tuple(d.pk for d in definitions),
    )


def custom_field_parameter(key: str, bound: str = EXACT) -> str:
    """The query parameter of a filter: `cf.amount`, `cf.amount.min`, `cf.amount.max`."""
    return f"{CUSTOM_FIELD_PREFIX}{key}" if bound == EXACT else f"{CUSTOM_FIELD_PREFIX}{key}.{bound}"


def split_custom_field_parameter(parameter: str) -> tuple[str, str]:
    """`cf.amount.min` → ("amount", "min"); `cf.amount` → ("amount", "exact"). Keys have no dots."""
    rest = parameter[len(CUSTOM_FIELD_PREFIX) :]
    key, dot, bound = rest.rpartition(".")
    return (key, bound) if dot and bound in (MIN, MAX) else (rest, EXACT)


def custom_field_parameters(params: Mapping[str, Any]) -> dict[str, list[str]]:
    """The `cf.` parameters that carry a value; an empty form input is no filter."""
    found = {str(name): _values(params, name) for name in params if str(name).startswith(CUSTOM_FIELD_PREFIX)}
    return {name: values for name, values in found.items() if values}


def _parse_number(text: str, group: KindGroup) -> decimal.Decimal | None:
    text = text.strip()
    return decimal.Decimal(text.replace(",", ".")) if NUMBER_INPUT.match(text) else None


def _parse_date(text: str, group: KindGroup) -> str | None:
    try:
        return dt.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        return None


def _parse_boolean(text: str, group: KindGroup) -> str | None:
    word = text.strip().lower()
    return "true" if word in TRUE_WORDS else "false" if word in FALSE_WORDS else None


def _parse_choice(text: str, group: KindGroup) -> str | None:
    return text if text in group.choice_values else None


def _parse_text(text: str, group: KindGroup) -> str | None:
    return text.strip() or None


PARSERS: dict[str, Callable[[str, KindGroup], Any]] = {
    FieldKind.TEXT: _parse_text,
    FieldKind.NUMBER: _parse_number,
    FieldKind.MONEY: _parse_number,
    FieldKind.DATE: _parse_date,
    FieldKind.CHOICE: _parse_choice,
    FieldKind.BOOLEAN: _parse_boolean,
}


def _invalid_value_message(kind: str) -> str:
    messages: dict[str, str] = {
        FieldKind.NUMBER: _("Enter a number."),
        FieldKind.MONEY: _("Enter an amount such as 12.50."),
        FieldKind.DATE: _("Enter a date as YYYY-MM-DD."),
        FieldKind.BOOLEAN: _("Choose yes or no."),
    }
    return messages.get(kind, _("Choose one of the offered values."))


def _stored_value(kind: str, key: str) -> _JsonScalar:
    """What a filter compares: the number, the amount of a money value (its currency is not
    compared), the ISO date text, the yes/no value or the text."""
    if kind == FieldKind.NUMBER:
        return JsonNumber("custom_fields", (key,))
    if kind == FieldKind.MONEY:
        return JsonNumber("custom_fields", (key, "amount"))
    if kind == FieldKind.DATE:
        return JsonIsoDate("custom_fields", (key,))
    if kind == FieldKind.BOOLEAN:
        return JsonBoolean("custom_fields", (key,))
    return JsonString("custom_fields", (key,))


COMPARISONS = {EXACT: Exact, MIN: GreaterThanOrEqual, MAX: LessThanOrEqual}


def _value_condition(kind: str, key: str, bound: str, value: Any) -> Q:
    return Q(COMPARISONS[bound](_stored_value(kind, key), value))


@dataclass(frozen=True)
class CustomFieldFilter:
    """One `cf.` parameter, its values parsed for each kind its key has (`None`: not understood)."""

    parameter: str
    key: str
    bound: str
    parsed: dict[KindGroup, list[Any]]

    def condition(self) -> Q:
        """Any of the values, each kind compared on that kind's case types only."""
        per_kind = []
        for group, values in self.parsed.items():
            matches = [_value_condition(group.kind, self.key, self.bound, value) for value in values if value is not None]
            if matches:
                per_kind.append(Q(case_type_id__in=group.case_type_ids) & _any(matches))
        return _any(per_kind)


def _all(conditions: Iterable[Q]) -> Q:
    combined = Q()
    for condition in conditions:
        combined &= condition
    return combined


def _any(conditions: list[Q]) -> Q:
    """OR of the conditions; no condition matches nothing."""
    if not conditions:
        return Q(pk__in=[])
    combined = conditions[0]
    for condition in conditions[1:]:
        combined |= condition
    return combined


# A custom-field filter on a number, an amount or a date that matches at most this many
# cases is driven by its matches, like a rare search word (ADR 0020, ADR 0025): one bounded
# query reads the case ids from the typed side rows' index (models.CaseFieldValue) and the
# list reads those cases by primary key. Beyond it a page walks the sort index and tests each
# row's JSON (a page of a common range is found after few rows), and a count lets the
# index's matches drive.
FIELD_MATCH_LIMIT = 2000
TYPED_COLUMN: dict[str, str] = {FieldKind.NUMBER: "number", FieldKind.MONEY: "number", FieldKind.DATE: "date"}


def _typed(kind: str, value: Any) -> Any:
    """A parsed filter value as the side row's column holds it."""
    return dt.date.fromisoformat(value) if kind == FieldKind.DATE else value


def _typed_rows_condition(items: list[CustomFieldFilter]) -> Q | None:
    """The side rows matching every filter of one key (a row per case and field), or None
    when a filter of the key cannot be answered from them (a key that also has a kind without
    typed rows on some case type). Each of the key's kinds on its own case types' fields."""
    groups = {group for item in items for group in item.parsed}
    if not groups or any(group.kind not in TYPED_COLUMN or not group.definition_ids for group in groups):
        return None
    per_group = []
    for group in groups:
        column = TYPED_COLUMN[group.kind]
        # The IS NOT NULL term lets both databases use the partial index of the column.
        condition = Q(definition_id__in=group.definition_ids, **{f"{column}__isnull": False})
        for item in items:
            values = [_typed(group.kind, v) for v in item.parsed.get(group, []) if v is not None]
            if not values:
                condition = Q(pk__in=[])
                break
            if item.bound == EXACT:
                condition &= Q(**{f"{column}__in": values})
            else:
                condition &= Q(**{f"{column}__{'gte' if item.bound == MIN else 'lte'}": values[0]})
        per_group.append(condition)
    return _any(per_group)


def field_match_ids(rows: Q, limit: int | None = None) -> list[int] | None:
    """The ids of the cases with a side row matching `rows`, if at most `limit` (default
    FIELD_MATCH_LIMIT); None if there are more. One query, read from the value index."""
    limit = FIELD_MATCH_LIMIT if limit is None else limit
    found = list(CaseFieldValue.objects.filter(rows).values_list("case_id", flat=True)[: limit + 1])
    return sorted(set(found)) if len(found) <= limit else None


@dataclass
class CustomFieldFilters:
    """The custom-field filters of list parameters: the usable ones, and problems by query
    parameter (in the active language). A parameter with a problem filters nothing."""

    filters: list[CustomFieldFilter] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def condition(self) -> Q:
        """Every filter tested on each case's JSON (no query; the walking form)."""
        condition = Q()
        for item in self.filters:
            condition &= item.condition()
        return condition

    def query_conditions(self, *, counting: bool = False) -> list[Q | RawSQL]:
        """The conditions for a list query, one per key. A key's filters on numbers, amounts
        or dates that match at most FIELD_MATCH_LIMIT cases become `id IN (<ids>)` (read by
        primary key; none: nothing matches, without a query on cases). Filters matching more
        test the JSON of each row of a page's walk; a count is driven by the side rows."""
        by_key: dict[str, list[CustomFieldFilter]] = {}
        for item in self.filters:
            by_key.setdefault(item.key, []).append(item)
        conditions: list[Q | RawSQL] = []
        for items in by_key.values():
            rows = _typed_rows_condition(items)
            if rows is not None and (ids := field_match_ids(rows)) is not None:
                conditions.append(_id_in(ids))
            elif rows is not None and counting:
                conditions.append(Q(id__in=CaseFieldValue.objects.filter(rows).values("case_id")))
            else:
                conditions.append(_all(item.condition() for item in items))
        return conditions

    def refuse(self, parameter: str, message: str) -> None:
        self.errors.setdefault(parameter, []).append(message)
        self.filters = [item for item in self.filters if item.parameter != parameter]


def custom_field_filters(params: Mapping[str, Any]) -> CustomFieldFilters:
    """Reads `cf.<key>` (exact; repeated: any of them), `cf.<key>.min` and `cf.<key>.max`
    (inclusive; number, money amount, date) by the kinds of the active fields with that key."""
    result = CustomFieldFilters()
    parameters = custom_field_parameters(params)
    if not parameters:
        return result  # no reference data read at all
    kinds = custom_field_kinds()
    for parameter, values in parameters.items():
        outcome = _read_parameter(parameter, values, kinds)
        if isinstance(outcome, CustomFieldFilter):
            result.filters.append(outcome)
        else:
            result.refuse(parameter, outcome)
    _refuse_reversed_ranges(result)
    return result


def _read_parameter(parameter: str, values: list[str], kinds: dict[str, list[KindGroup]]) -> CustomFieldFilter | str:
    """The filter one parameter asks for, or why it cannot be applied."""
    key, bound = split_custom_field_parameter(parameter)
    known = kinds.get(key, []) if CUSTOM_FIELD_KEY.match(key) else []
    if not known:
        return _("There is no field “%(key)s” to filter by.") % {"key": key}
    groups = known if bound == EXACT else [group for group in known if group.kind in ORDERED_KINDS]
    if not groups:
        return _("The field “%(key)s” can only be filtered by exact values, not by a range.") % {"key": key}
    if bound != EXACT:
        values = values[-1:]  # a bound has one value; the last one given counts
    parsed = {group: [PARSERS[group.kind](value, group) for value in values] for group in groups}
    # A value counts if one of the key's kinds understands it; the others then do not match.
    if not all(any(parsed[group][i] is not None for group in groups) for i in range(len(values))):
        return _invalid_value_message(groups[0].kind)
    return CustomFieldFilter(parameter=parameter, key=key, bound=bound, parsed=parsed)


def _refuse_reversed_ranges(result: CustomFieldFilters) -> None:
    """`cf.x.min` above `cf.x.max` matches nothing: most likely a typing error, so say so."""
    lower = {item.key: item for item in result.filters if item.bound == MIN}
    for upper in [item for item in result.filters if item.bound == MAX and item.key in lower]:
        pairs = [(lower[upper.key].parsed[group][0], upper.parsed[group][0]) for group in upper.parsed]
        if any(low is not None and high is not None and low > high for low, high in pairs):
            result.refuse(upper.parameter, _("Must not be below the lower bound."))


DEADLINE_CHOICES = ("overdue", "at_risk", "running")


def deadline_condition(values: list[str], now: dt.datetime | None = None) -> Q:
    """Cases by their deadline clocks: overdue (the earliest running clock is past due), at
    risk (past its warning, not yet due), running (any running clock)."""
    now = now or timezone.now()
    condition = Q()
    if "overdue" in values:
        condition |= Q(next_due_at__lt=now)
    if "at_risk" in values:
        condition |= Q(next_warn_at__lte=now, next_due_at__gte=now)
    if "running" in values:
        condition |= Q(next_due_at__lt=NO_DUE)
    return condition if condition else Q(pk__in=[])


def filter_cases(qs: QuerySet[Case], params: Mapping[str, Any], *, counting: bool = False) -> QuerySet[Case]:
    """Narrows a case queryset by the list's filter parameters; unknown or malformed values
    are ignored (the form reports them). `counting`: the result is only counted."""
    if statuses := _values(params, "status"):
        qs = qs.filter(status__in=statuses)
    if kinds := _values(params, "status_kind"):
        qs = qs.filter(status_kind__in=kinds)
    if deadline := _values(params, "deadline"):
        qs = qs.filter(deadline_condition(deadline))
    if case_types := _values(params, "case_type"):
        qs = qs.filter(case_type__key__in=case_types)
    if teams := _ints(_values(params, "team")):
        qs = qs.filter(team_id__in=teams)
    responsible = _values(params, "responsible")
    if responsible:
        condition = Q()
        if "none" in responsible:
            condition |= Q(responsible_user__isnull=True)
        if ids := _ints(responsible):
            condition |= Q(responsible_user_id__in=ids)
        qs = qs.filter(condition) if condition else qs
    if categories := _ints(_values(params, "category")):
        paths = list(Category.objects.filter(pk__in=categories).values_list("path", flat=True))
        condition = Q()
        for path in paths:
            condition |= Q(category__path__startswith=path)
        qs = qs.filter(condition) if paths else qs.none()
    if priorities := _ints(_values(params, "priority")):
        qs = qs.filter(priority__in=priorities)
    if channels := _values(params, "channel"):
        qs = qs.filter(channel__in=channels)
    if customers := _ints(_values(params, "customer")):
        qs = qs.filter(customer_id__in=customers)
    if products := _ints(_values(params, "product")):
        qs = qs.filter(product_id__in=products)
    if start := _date(params.get("received_from")):
        qs = qs.filter(received_at__gte=_day_start(start))
    if end := _date(params.get("received_to")):
        qs = qs.filter(received_at__lt=day_start(end, days_later=1))
    if tags := _values(params, "tags"):
        tagged = Case.tags.through.objects.filter(tag__name_key__in=[tag_key(t) for t in tags]).values("case_id")
        qs = qs.filter(id__in=tagged)
    for custom in custom_field_filters(params).query_conditions(counting=counting):
        qs = qs.filter(custom)
    text_condition = text_search_condition(str(params.get("q") or ""), counting=counting)
    if text_condition is not None:
        qs = qs.filter(text_condition)
    return qs


AGENT_DEFAULT_SORT = "due"


def default_sort(actor: Actor) -> str:
    """Agents see what is due next first; every other role the newest cases first."""
    from .process import role_keys

    return AGENT_DEFAULT_SORT if "agent" in role_keys(actor) else DEFAULT_SORT


def sort_key(params: Mapping[str, Any], actor: Actor = None) -> str:
    """The sort asked for, or the actor's default (`default_sort`) when none or an unknown
    one is given."""
    fallback = default_sort(actor) if actor is not None else DEFAULT_SORT
    value = params.get("sort") or fallback
    return value if value in SORTS else fallback


def listed_cases(*, actor: Actor, params: Mapping[str, Any], counting: bool = False) -> QuerySet[Case]:
    return filter_cases(visible_cases(actor=actor), params, counting=counting)


def case_list_page(*, actor: Actor, params: Mapping[str, Any], cursor: str | None, limit: int = PAGE_SIZE) -> Page[Case]:
    """One keyset page of the visible, filtered cases: a fixed number of queries at any size.

    Raises core.pagination.InvalidCursor for a tampered or foreign cursor.
    """
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    ordering = SORTS[sort_key(params, actor)]
    qs = listed_cases(actor=actor, params=params).select_related(*LIST_RELATED).prefetch_related("tags")
    if cursor:
        # A redundant bound on the leading sort column lets the database seek in the index
        # instead of evaluating keyset_page's OR condition row by row.
        first = decode_cursor(cursor, len(ordering))[0]
        lead = ordering[0].lstrip("-")
        qs = qs.filter(**{f"{lead}__{'lte' if ordering[0].startswith('-') else 'gte'}": first})
    return keyset_page(qs, ordering=ordering, cursor=cursor, limit=limit)


@dataclass(frozen=True)
class CountEstimate:
    value: int
    capped: bool  # True: at least `value` rows, maybe many more


def case_count_estimate(*, actor: Actor, params: Mapping[str, Any], cap: int = COUNT_CAP) -> CountEstimate:
    """How many cases match, counted up to `cap` (one bounded query, no full scan)."""
    qs = listed_cases(actor=actor, params=params, counting=True).order_by()
    found = qs.values("id")[: cap + 1].count()
    return CountEstimate(value=min(found, cap), capped=found > cap)


def export_rows(*, actor: Actor, params: Mapping[str, Any], cap: int, chunk_size: int = 2000) -> Iterator[Case]:
    """The visible, filtered cases in list order, streamed from the database in chunks."""
    qs = listed_cases(actor=actor, params=params).select_related(*LIST_RELATED, "product")
    return qs.order_by(*SORTS[sort_key(params, actor)])[:cap].iterator(chunk_size=chunk_size)


def export_count(*, actor: Actor, params: Mapping[str, Any]) -> int:
    """How many visible cases match the filters, exactly (an export may leave some out and
    must say how many)."""
    return listed_cases(actor=actor, params=params, counting=True).order_by().count()


# --- saved views -----------------------------------------------------------------------------


def saved_views_for(*, actor: Actor) -> list[SavedView]:
    """The actor's own saved views and those shared with one of the actor's teams."""
    if not is_user(actor):
        return []
    condition = Q(owner_id=actor.pk)
    if team_ids := permissions.team_ids_of(actor):
        condition |= Q(team_id__in=team_ids)
    return list(SavedView.objects.filter(condition).select_related("team", "owner").order_by("name", "id"))


def saved_view_get(*, actor: Actor, saved_view_id: int) -> SavedView | None:
    return next((view for view in saved_views_for(actor=actor) if view.pk == saved_view_id), None)


def tag_names() -> list[str]:
    return list(Tag.objects.order_by("name").values_list("name", flat=True)[:500])


def cases_for_bulk(*, actor: Actor, ids: Iterable[int]) -> list[Case]:
    """The visible cases among `ids`, in the order given (invisible ids are dropped)."""
    wanted = [int(i) for i in ids][:MAX_PAGE_SIZE]
    found = {case.pk: case for case in visible_cases(actor=actor).filter(pk__in=wanted).select_related("case_type")}
    return [found[i] for i in wanted if i in found]


def team_choices() -> list[tuple[int, str]]:
    from leitplanke.accounts.models import Team

    return list(Team.objects.filter(is_active=True).order_by("name").values_list("pk", "name"))


def user_choices() -> list[tuple[int, str]]:
    """Active users who may work on cases (for the responsible filter and bulk assignment)."""
    from leitplanke.accounts.models import User

    return list(User.objects.filter(is_active=True).order_by("full_name", "id").values_list("pk", "full_name")[:1000])


def conversation_states(case_ids: list[int]) -> dict[int, dict[str, Any]]:
    """For the rows of one list page: when the customer last wrote and when we last answered
    (one grouped query over the page's messages), so that the list can say "customer
    replied" or "waiting since"."""
    from django.db.models import Max

    from .models import Interaction, InteractionKind

    states: dict[int, dict[str, Any]] = {case_id: {} for case_id in case_ids}
    if not case_ids:
        return states
    rows = (
        Interaction.objects.filter(
            case_id__in=case_ids, kind__in=[InteractionKind.INBOUND_MESSAGE, InteractionKind.OUTBOUND_MESSAGE]
        )
        .values("case_id", "kind")
        .annotate(last=Max("occurred_at"))
        .order_by()
    )
    for row in rows:
        key = "last_in" if row["kind"] == InteractionKind.INBOUND_MESSAGE else "last_out"
        states[row["case_id"]][key] = row["last"]
    return states
