"""Tag names are unique case-insensitively (issue 19, item 12): in every script, on both
databases, and the migration merges the variants that exist."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from leitplanke.accounts.models import User
from leitplanke.cases import list_selectors, services
from leitplanke.cases.models import Case, Tag


@pytest.mark.django_db
@pytest.mark.parametrize(("first", "second"), [("Presse", "presse"), ("Ärger", "ÄRGER"), ("Straße", "STRASSE")])
def test_two_spellings_are_one_tag(first: str, second: str) -> None:
    Tag.objects.create(name=first)
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(name=second)


@pytest.mark.django_db
def test_a_case_gets_the_existing_tag_whatever_the_case(make_case: Callable[..., Case], make_user: Callable[..., User]) -> None:
    quality = make_user("quality_manager")
    first = make_case(actor=quality, tags=["Ärger"])
    second = make_case(actor=quality, tags=["ärger", "ÄRGER"])
    assert Tag.objects.count() == 1
    assert [t.name for t in second.tags.all()] == ["Ärger"]
    services.case_update(actor=quality, case=first, tags_add=["ÄRGER"])
    assert first.tags.count() == 1
    found = list_selectors.listed_cases(actor=quality, params={"tags": ["ärger"]})
    assert {case.pk for case in found} == {first.pk, second.pk}


@pytest.mark.django_db(transaction=True)
def test_the_migration_merges_the_variants(make_case: Callable[..., Case]) -> None:
    one, two = make_case(), make_case()
    executor = MigrationExecutor(connection)
    before = [("cases", "0008_bounced_and_download_only")]
    latest = executor.loader.graph.leaf_nodes()  # every app: going back also unapplied the apps that depend on cases
    executor.migrate(before)
    old_apps: Any = executor.loader.project_state(before).apps
    OldTag = old_apps.get_model("cases", "Tag")
    Through = old_apps.get_model("cases", "Case").tags.through
    press, lower, upper, other = (OldTag.objects.create(name=n) for n in ("Presse", "presse", "PRESSE", "Lob"))
    Through.objects.create(case_id=one.pk, tag_id=press.pk)
    Through.objects.create(case_id=one.pk, tag_id=lower.pk)
    Through.objects.create(case_id=two.pk, tag_id=upper.pk)
    Through.objects.create(case_id=two.pk, tag_id=other.pk)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(latest)
    assert sorted(Tag.objects.values_list("name", "name_key")) == [("Lob", "lob"), ("Presse", "presse")]
    assert [t.name for t in Case.objects.get(pk=one.pk).tags.all()] == ["Presse"]
    assert [t.name for t in Case.objects.get(pk=two.pk).tags.all()] == ["Lob", "Presse"]


@pytest.mark.django_db(transaction=True)
def test_two_spellings_added_at_once_make_one_tag(
    make_case: Callable[..., Case], make_user: Callable[..., User], tmp_path: Any
) -> None:
    import threading

    from tests.concurrency import in_parallel, shared_database

    quality = make_user("quality_manager")
    cases = [make_case(actor=quality), make_case(actor=quality)]
    together = threading.Barrier(2, timeout=60)
    spellings = ["Presse", "PRESSE"]

    def work(index: int) -> None:
        together.wait()
        services.case_update(actor=quality, case=cases[index], tags_add=[spellings[index]])

    with shared_database(tmp_path):
        in_parallel(work, 2)
        assert Tag.objects.count() == 1
        assert all(Case.objects.get(pk=case.pk).tags.count() == 1 for case in cases)
