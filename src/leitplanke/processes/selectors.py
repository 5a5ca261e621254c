"""Reads of process definitions, and the compiled processes the cases run on.

Compiled processes are cached per process (`core.refcache`): a published version never
changes, a draft's cache key carries its revision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from leitplanke.accounts.models import Role
from leitplanke.core import refcache
from leitplanke.core.errors import NotFound

from . import catalogue
from .engine import FieldSpec, Problem, Process, build, validate
from .models import ProcessDefinition, ProcessStatus

# Upper apps (cases) tell which custom fields a process may name: provider(process_key)
# returns dicts with key, label_de, label_en, kind, choices. Registered in their ready().
CustomFieldProvider = Callable[[str], Iterable[Mapping[str, Any]]]
_custom_field_providers: list[CustomFieldProvider] = []


def register_custom_fields(provider: CustomFieldProvider) -> None:
    if provider not in _custom_field_providers:
        _custom_field_providers.append(provider)


KeyProvider = Callable[[], Iterable[str]]


class _Keys:
    """Keys another app names for a definition's references; without a provider they are not
    checked (only that one is given)."""

    def __init__(self) -> None:
        self.providers: list[KeyProvider] = []

    def register(self, provider: KeyProvider) -> None:
        if provider not in self.providers:
            self.providers.append(provider)

    def known(self) -> list[str] | None:
        if not self.providers:
            return None
        return [str(key) for provider in self.providers for key in provider()]


# The deadlines app names the clock (deadline rule) keys that states may pause and clock
# effects may start or stop; the decisions app the decision tables a `decide` effect may
# evaluate (the keys with a published version).
_clock_keys = _Keys()
_table_keys = _Keys()
register_clock_keys = _clock_keys.register
known_clocks = _clock_keys.known
register_table_keys = _table_keys.register
known_tables = _table_keys.known


# The editor's forms offer choices the upper apps know: "clocks" (deadline rules the process's
# case types use), "templates" (reply template keys), "webhooks" (endpoint names), "tables"
# (published decision tables, for the `decide` effect). A
# provider(process_key) returns (value, label) pairs; registered in the apps' ready().
EditorChoiceProvider = Callable[[str], Iterable[tuple[str, str]]]
_editor_choice_providers: dict[str, EditorChoiceProvider] = {}


def register_editor_choices(name: str, provider: EditorChoiceProvider) -> None:
    _editor_choice_providers[name] = provider


def editor_choices(name: str, process_key: str) -> list[tuple[str, str]]:
    """(value, label) pairs for a choice of the editor's forms; clocks without a provider:
    every known clock key."""
    provider = _editor_choice_providers.get(name)
    if provider is not None:
        return [(str(value), str(label)) for value, label in provider(process_key)]
    if name == "clocks":
        return [(key, key) for key in sorted(known_clocks() or [])]
    return []


def known_fields(process_key: str) -> dict[str, FieldSpec]:
    custom: list[Mapping[str, Any]] = []
    for provider in _custom_field_providers:
        custom.extend(provider(process_key))
    return catalogue.known_fields(custom)


def known_roles() -> list[str]:
    return refcache.cached("process_role_keys", lambda: list(Role.objects.values_list("key", flat=True))) or []


def problems(process_key: str, data: Any) -> list[Problem]:
    """Every problem of a definition, with its place (empty if it can be published)."""
    return validate(
        data,
        known_fields(process_key),
        known_roles=known_roles(),
        known_clocks=known_clocks(),
        known_tables=known_tables(),
    )


def published(key: str) -> ProcessDefinition | None:
    """The published version of a process (shared, cached: do not modify)."""
    return refcache.cached(
        ("process_published", key),
        lambda: ProcessDefinition.objects.filter(key=key, status=ProcessStatus.PUBLISHED).first(),
    )


def definition_by_id(pk: int) -> ProcessDefinition | None:
    return refcache.cached(("process_definition", pk), lambda: ProcessDefinition.objects.filter(pk=pk).first())


def compiled(definition: ProcessDefinition) -> Process:
    """The runtime form of a stored definition (published ones are validated on publishing)."""
    return refcache.cached(("process_compiled", definition.pk, definition.revision), lambda: build(definition.definition))


def definitions(*, key: str | None = None) -> list[ProcessDefinition]:
    queryset = ProcessDefinition.objects.select_related("published_by", "created_by").order_by("key", "-version")
    if key is not None:
        queryset = queryset.filter(key=key)
    return list(queryset)


def definition_get(*, key: str, version: Any) -> ProcessDefinition:
    try:
        return ProcessDefinition.objects.select_related("published_by").get(key=str(key), version=int(version))
    except (ProcessDefinition.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def published_processes() -> list[ProcessDefinition]:
    return list(ProcessDefinition.objects.filter(status=ProcessStatus.PUBLISHED).order_by("key"))


def process_keys() -> list[str]:
    return sorted(set(ProcessDefinition.objects.values_list("key", flat=True)))


def _labels(section: str) -> dict[str, dict[str, str]]:
    def load() -> dict[str, dict[str, str]]:
        labels: dict[str, dict[str, str]] = {"de": {}, "en": {}}
        # Published first (their words win), the inquiry process before the others so that
        # the plain words (New, Resolved) name the shared states in mixed lists.
        rows = ProcessDefinition.objects.exclude(status=ProcessStatus.DRAFT).order_by("status", "-version")
        for definition in sorted(rows, key=lambda d: (d.status != ProcessStatus.PUBLISHED, d.key != "inquiry", d.key)):
            for item in definition.definition.get(section, []):
                if isinstance(item, Mapping) and isinstance(item.get("key"), str):
                    labels["de"].setdefault(item["key"], str(item.get("label_de") or item["key"]))
                    labels["en"].setdefault(item["key"], str(item.get("label_en") or item["key"]))
        return labels

    return refcache.cached(("process_labels", section), load)


def state_labels(language: str) -> dict[str, str]:
    """Labels of every state of every process in use (for lists that mix case types)."""
    return _labels("states")["de" if language == "de" else "en"]


def transition_labels(language: str) -> dict[str, str]:
    """Labels of every transition of every process in use (bulk actions over mixed lists)."""
    return _labels("transitions")["de" if language == "de" else "en"]
