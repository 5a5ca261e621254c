"""Reads of decision tables, the compiled tables evaluation runs on, and evaluation itself.

Visibility: process owners (`processes.manage`) see every version, drafts included; case
workers (`cases.edit`) see published and retired versions (a decision record names the version
that recommended it) and evaluate the published one; anyone else sees nothing (404/403).

Compiled tables are kept per (row id, revision) — a published version never changes and a
draft's revision moves with every save — so evaluating does not compile again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext

from leitplanke.accounts.actors import Actor
from leitplanke.core import refcache
from leitplanke.core.errors import NotFound, PermissionDenied

from . import engine, permissions, table_diff
from .errors import EvaluationInputInvalid, NoPublishedTable, TableInvalid
from .models import DecisionTable, TableStatus
from .texts import problem_errors

MAX_LIST = 500
COMPILED_CACHE_SIZE = 128
_compiled_lock = threading.Lock()
_compiled: OrderedDict[tuple[int, int, Any], engine.Table] = OrderedDict()


def _visible(actor: Actor) -> Any:
    if permissions.may_manage(actor):
        return DecisionTable.objects.all()
    if permissions.may_read(actor):
        return DecisionTable.objects.exclude(status=TableStatus.DRAFT)
    raise PermissionDenied()


def tables(
    *,
    actor: Actor,
    key: str | None = None,
    status: str | None = None,
    after: tuple[str, int] | None = None,
    limit: int = 100,
) -> list[DecisionTable]:
    """Versions the actor may see, ordered by key and newest version first; keyset paging:
    pass the last row's (key, version) as `after`. At most 500 per call."""
    queryset = _visible(actor).select_related("published_by", "created_by").order_by("key", "-version")
    if key is not None:
        queryset = queryset.filter(key=key)
    if status is not None:
        queryset = queryset.filter(status=status)
    if after is not None:
        after_key, after_version = after
        queryset = queryset.filter(Q(key__gt=after_key) | Q(key=after_key, version__lt=after_version))
    return list(queryset[: max(1, min(int(limit), MAX_LIST))])


def table_keys(*, actor: Actor) -> list[dict[str, Any]]:
    """One entry per key the actor may see: {key, latest (row), published (row or None),
    draft (row or None)} — the list page and `GET /decision-tables`. Bounded by MAX_LIST keys."""
    out: dict[str, dict[str, Any]] = {}
    rows = _visible(actor).select_related("published_by").order_by("key", "-version")
    for row in rows.iterator(chunk_size=500):
        entry = out.get(row.key)
        if entry is None:
            if len(out) >= MAX_LIST:
                break
            entry = out[row.key] = {"key": row.key, "latest": row, "published": None, "draft": None}
        if row.status == TableStatus.PUBLISHED:
            entry["published"] = row
        elif row.status == TableStatus.DRAFT and entry["draft"] is None:
            entry["draft"] = row
    return list(out.values())


def table_get(*, actor: Actor, key: str, version: Any) -> DecisionTable:
    """One version (404 when it does not exist or the actor may not see it)."""
    try:
        return _visible(actor).select_related("published_by", "created_by").get(key=str(key), version=int(version))
    except (DecisionTable.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound() from None


def table_versions(*, actor: Actor, key: str) -> list[DecisionTable]:
    """Every version of `key` the actor may see, newest first (404 when there is none)."""
    rows = list(_visible(actor).select_related("published_by", "created_by").filter(key=str(key)).order_by("-version"))
    if not rows:
        raise NotFound()
    return rows


def table_draft(*, actor: Actor, key: str) -> DecisionTable | None:
    """The draft of `key` (a key has at most one), for process owners; None otherwise."""
    if not permissions.may_manage(actor):
        return None
    return DecisionTable.objects.filter(key=str(key), status=TableStatus.DRAFT).order_by("-version").first()


def published(key: str) -> DecisionTable | None:
    """The published version of `key` (shared, cached per reference generation: do not modify)."""
    return refcache.cached(
        ("decision_table_published", str(key)),
        lambda: DecisionTable.objects.filter(key=str(key), status=TableStatus.PUBLISHED).first(),
    )


def published_keys() -> list[str]:
    """The keys with a published version (what a process's decision step may name; cached
    per reference generation)."""
    return refcache.cached(
        "decision_table_published_keys",
        lambda: list(DecisionTable.objects.filter(status=TableStatus.PUBLISHED).order_by("key").values_list("key", flat=True)),
    )


def step_table_choices(process_key: str) -> list[tuple[str, str]]:
    """(key, "name (key)") of the published tables, for the process editor's decision step."""
    from django.utils.translation import get_language

    language = (get_language() or "de")[:2]
    rows = DecisionTable.objects.filter(status=TableStatus.PUBLISHED).order_by("key").only("key", "name_de", "name_en")
    return [(row.key, f"{row.name(language)} ({row.key})") for row in rows]


def table_published(*, actor: Actor, key: str) -> DecisionTable:
    """The published version of `key` for the actor (404 `no_published_version` when the key
    exists but has none)."""
    if not permissions.may_read(actor):
        raise PermissionDenied()
    row = published(key)
    if row is None:
        if _visible(actor).filter(key=str(key)).exists():
            raise NoPublishedTable()
        raise NotFound()
    return row


def compiled(table: DecisionTable) -> engine.Table:
    """The engine's table for a stored version, loaded (and compiled on first evaluation)
    once per (id, revision). Raises TableInvalid for a draft with problems."""
    # The row's creation time too: a row created in a transaction that rolled back leaves its
    # id to the next row (SQLite's sequence rolls back with it), which starts at revision 1.
    cache_key = (int(table.pk), int(table.revision), table.created_at)
    with _compiled_lock:
        found = _compiled.get(cache_key)
        if found is not None:
            _compiled.move_to_end(cache_key)
            return found
    try:
        loaded = engine.load(table.jdm, table.tests)
    except engine.InvalidTable as invalid:
        problems = [{"place": p.place, "code": p.code, "params": dict(p.params), "message": p.message} for p in invalid.problems]
        raise TableInvalid(field_errors=problem_errors({"problems": problems})) from None
    engine.compile_table(loaded)
    with _compiled_lock:
        _compiled[cache_key] = loaded
        while len(_compiled) > COMPILED_CACHE_SIZE:
            _compiled.popitem(last=False)
    return loaded


def _match(match: engine.Match, trace: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "position": match.index,
        "id": match.rule_id,
        "description": match.description,
        "description_de": match.description_de,
    }
    if trace:
        out["outputs"] = dict(match.outputs)
        out["seen"] = dict(match.seen) if match.seen is not None else None
    return out


def evaluate_table(table: DecisionTable, inputs: Any, *, trace: bool = False) -> dict[str, Any]:
    """Evaluate one stored version: {key, version, hit_policy, outputs, matched_rules, trace}.
    `matched_rules` (position, id, description) is always there; `trace` (each matched rule
    with its outputs and the input values it saw) only when asked for. Inputs the engine
    cannot read: `EvaluationInputInvalid` (422)."""
    loaded = compiled(table)
    if not isinstance(inputs, Mapping):
        raise EvaluationInputInvalid(field_errors={"inputs": [str(EvaluationInputInvalid.default_message)]})
    try:
        result = engine.evaluate(loaded, inputs, trace=trace)
    except engine.EvaluationError as error:
        raise EvaluationInputInvalid(detail_text(error), field_errors={"inputs": [detail_text(error)]}) from None
    return {
        "key": table.key,
        "version": table.version,
        "hit_policy": result.hit_policy,
        "outputs": result.outputs,
        "matched_rules": [_match(match, False) for match in result.matches],
        "trace": [_match(match, True) for match in result.matches] if trace else None,
    }


def detail_text(error: Exception) -> str:
    first = str(error).split("\n", 1)[0][:300]
    return gettext("The inputs could not be evaluated: %(error)s") % {"error": first}


def evaluate(*, actor: Actor, key: str, inputs: Any, trace: bool = False) -> dict[str, Any]:
    """Evaluate the published version of `key` for the actor (`cases.edit` or process owner)."""
    if not permissions.may_evaluate(actor):
        raise PermissionDenied()
    return evaluate_table(table_published(actor=actor, key=key), inputs, trace=trace)


def compare_versions(a: DecisionTable, b: DecisionTable) -> table_diff.TableDiff:
    """What changed from version `a` to version `b` (rules by `_id`, columns, hit policy, tests)."""
    return table_diff.compare(a.jdm, a.tests, b.jdm, b.tests)
