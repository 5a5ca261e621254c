"""core.transactions: a service's block takes a savepoint unless the caller's transaction
fails as a whole (the API's `acting`), where a savepoint costs two round trips for nothing."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from leitplanke.core.models import RateLimitCounter
from leitplanke.core.transactions import all_or_nothing, service_atomic

pytestmark = pytest.mark.django_db(transaction=True)


def _savepoints(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "SAVEPOINT" in q["sql"].upper()]


def test_inside_all_or_nothing_a_service_takes_no_savepoint_and_an_error_rolls_back_everything() -> None:
    from django.utils import timezone

    with CaptureQueriesContext(connection) as queries, all_or_nothing(), service_atomic():
        RateLimitCounter.objects.create(key="kept", window_start=timezone.now())
    assert _savepoints(queries) == [] and RateLimitCounter.objects.filter(key="kept").exists()
    with pytest.raises(ValueError), all_or_nothing():
        RateLimitCounter.objects.create(key="outer", window_start=timezone.now())
        with service_atomic():
            RateLimitCounter.objects.create(key="inner", window_start=timezone.now())
            raise ValueError("the service failed")
    assert not RateLimitCounter.objects.filter(key__in=["outer", "inner"]).exists()


def test_elsewhere_a_service_keeps_its_savepoint_so_a_caller_may_catch_its_error() -> None:
    from django.utils import timezone

    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        RateLimitCounter.objects.create(key="caller", window_start=timezone.now())
        try:
            with service_atomic():
                RateLimitCounter.objects.create(key="service", window_start=timezone.now())
                raise ValueError("refused")
        except ValueError:
            pass
        RateLimitCounter.objects.create(key="after", window_start=timezone.now())  # the transaction goes on
    assert _savepoints(queries)
    assert set(RateLimitCounter.objects.values_list("key", flat=True)) == {"caller", "after"}


def test_the_flag_ends_with_the_block() -> None:
    with all_or_nothing():
        pass
    with CaptureQueriesContext(connection) as queries, transaction.atomic(), service_atomic():
        pass
    assert _savepoints(queries)
