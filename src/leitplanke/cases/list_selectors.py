"""Reads for the case list: filters, full-text search, sorting, keyset pages, capped counts,
saved views and the rows of an export. Everything starts from `selectors.visible_cases`, so
a list never shows more than the actor may see.

Counting: an exact COUNT(*) over a million visible rows costs a full index scan on every
page view. `case_count_estimate` therefore counts at most COUNT_CAP + 1 rows
(`SELECT COUNT(*) FROM (… LIMIT 10001)`) and shows "10,000+" beyond; the cost is bounded by
the cap, not by the table. See docs/case-list.md.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from leitplanke.core.pagination import Page, decode_cursor, keyset_page

from . import permissions
from .models import Case, Category, Channel, Priority, SavedView, StatusKind, Tag
from .selectors import visible_cases

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
}
PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
COUNT_CAP = 10_000
LIST_RELATED = ("case_type", "team", "responsible_user", "customer", "category")
REFERENCE = re.compile(r"^\s*LP-\d{4}-\d{4,}\s*$", re.IGNORECASE)
CUSTOM_FIELD_KEY = re.compile(r"^[a-z0-9_]{1,50}$")
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
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())


def fts5_query(text: str) -> str:
    """The user's words as FTS5 prefix phrases joined by AND: `"zählerstand"* "rechnung"*`.

    Every token becomes a quoted string (inner quotes doubled), so FTS5 operators, column
    filters and parentheses typed by a user are searched as words, never interpreted.
    Prefix matching stands in for the stemming PostgreSQL does ("Rechnung" finds "Rechnungen").
    """
    words = [word for word in re.split(r"\s+", text.strip()) if any(ch.isalnum() for ch in word)]
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words[:12])


def text_search_condition(text: str) -> Q | RawSQL | None:
    """A condition matching cases whose search document contains the words (or the reference)."""
    text = (text or "").strip()[:200]
    if not text:
        return None
    if REFERENCE.match(text):
        return Q(reference=text.strip().upper())
    if connection.vendor == "postgresql":
        sql = (
            "SELECT case_id FROM cases_casesearchdocument WHERE vector @@ "
            "(websearch_to_tsquery('german', %s) || websearch_to_tsquery('english', %s))"
        )
        return Q(id__in=RawSQL(sql, (text, text)))  # noqa: S611 - fixed SQL, user text only as a parameter
    if connection.vendor == "sqlite":
        query = fts5_query(text)
        if not query:
            return Q(pk__in=[])
        # The unary + keeps SQLite from driving the query by the (possibly huge) match list
        # and sorting it: it walks the list's sort index instead and stops after one page.
        sql = '+"cases_case"."id" IN (SELECT rowid FROM cases_search_fts WHERE cases_search_fts MATCH %s)'
        return RawSQL(sql, (query,), output_field=BooleanField())  # noqa: S611 - fixed SQL, user text only as a parameter
    return Q(search_document__text__icontains=text)


def filter_cases(qs: QuerySet[Case], params: Mapping[str, Any]) -> QuerySet[Case]:
    """Narrows a case queryset by the list's filter parameters; unknown or malformed values
    are ignored (the form reports them)."""
    if statuses := _values(params, "status"):
        qs = qs.filter(status__in=statuses)
    if kinds := _values(params, "status_kind"):
        qs = qs.filter(status_kind__in=kinds)
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
        qs = qs.filter(received_at__lt=_day_start(end + dt.timedelta(days=1)))
    if tags := _values(params, "tags"):
        tagged = Case.tags.through.objects.filter(tag__name__in=tags).values("case_id")
        qs = qs.filter(id__in=tagged)
    for key in list(params.keys()):
        if key.startswith("cf.") and CUSTOM_FIELD_KEY.match(key[3:]):
            value = params.get(key)
            if value not in (None, ""):
                qs = qs.filter(**{f"custom_fields__{key[3:]}": value})
    text_condition = text_search_condition(str(params.get("q") or ""))
    if text_condition is not None:
        qs = qs.filter(text_condition)
    return qs


def sort_key(params: Mapping[str, Any]) -> str:
    value = params.get("sort") or DEFAULT_SORT
    return value if value in SORTS else DEFAULT_SORT


def listed_cases(*, actor: Any, params: Mapping[str, Any]) -> QuerySet[Case]:
    return filter_cases(visible_cases(actor=actor), params)


def case_list_page(*, actor: Any, params: Mapping[str, Any], cursor: str | None, limit: int = PAGE_SIZE) -> Page[Case]:
    """One keyset page of the visible, filtered cases: a fixed number of queries at any size.

    Raises core.pagination.InvalidCursor for a tampered or foreign cursor.
    """
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    ordering = SORTS[sort_key(params)]
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


def case_count_estimate(*, actor: Any, params: Mapping[str, Any], cap: int = COUNT_CAP) -> CountEstimate:
    """How many cases match, counted up to `cap` (one bounded query, no full scan)."""
    qs = listed_cases(actor=actor, params=params).order_by()
    found = qs.values("id")[: cap + 1].count()
    return CountEstimate(value=min(found, cap), capped=found > cap)


def export_rows(*, actor: Any, params: Mapping[str, Any], cap: int, chunk_size: int = 2000) -> Iterator[Case]:
    """The visible, filtered cases in list order, streamed from the database in chunks."""
    qs = listed_cases(actor=actor, params=params).select_related(*LIST_RELATED, "product")
    return qs.order_by(*SORTS[sort_key(params)])[:cap].iterator(chunk_size=chunk_size)


def export_count(*, actor: Any, params: Mapping[str, Any], cap: int) -> int:
    return listed_cases(actor=actor, params=params).order_by().values("id")[:cap].count()


# --- saved views -----------------------------------------------------------------------------


def saved_views_for(*, actor: Any) -> list[SavedView]:
    """The actor's own saved views and those shared with one of the actor's teams."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return []
    condition = Q(owner_id=actor.pk)
    if team_ids := permissions.team_ids_of(actor):
        condition |= Q(team_id__in=team_ids)
    return list(SavedView.objects.filter(condition).select_related("team", "owner").order_by("name", "id"))


def saved_view_get(*, actor: Any, saved_view_id: int) -> SavedView | None:
    return next((view for view in saved_views_for(actor=actor) if view.pk == saved_view_id), None)


def tag_names() -> list[str]:
    return list(Tag.objects.order_by("name").values_list("name", flat=True)[:500])


def cases_for_bulk(*, actor: Any, ids: Iterable[int]) -> list[Case]:
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
