"""Health and readiness endpoints, and a clear 503 (never a stack trace) when the database is down."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.test import Client

from leitplanke.accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_down() -> Callable[[type[Exception]], mock._patch]:  # type: ignore[type-arg]
    """Every new cursor fails as if the database server were gone."""

    def make(error: type[Exception] = OperationalError) -> mock._patch:  # type: ignore[type-arg]
        return mock.patch.object(connection, "cursor", side_effect=error("connection to server failed"))

    return make


@pytest.fixture
def quiet_client() -> Iterator[Client]:
    """A client that shows what a browser would get instead of re-raising server errors."""
    yield Client(raise_request_exception=False)


def test_healthz(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["status"] == "ok"
    assert "no-cache" in response["Cache-Control"]


def test_readyz_checks_database_and_migrations(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] == "ok"


def test_readyz_reports_pending_migrations(client: Client) -> None:
    with mock.patch("leitplanke.core.views.MigrationExecutor") as executor:
        executor.return_value.migration_plan.return_value = [("migration", False)]
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "1 pending"


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_readyz_is_503_when_the_database_is_unreachable(
    client: Client,
    database_down: Callable[..., mock._patch],  # type: ignore[type-arg]
    error: type[Exception],
) -> None:
    with database_down(error):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("unreachable")


def test_healthz_stays_up_without_database(client: Client, database_down: Callable[..., mock._patch]) -> None:  # type: ignore[type-arg]
    with database_down():
        assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("message", ["connection to server failed", "disk I/O error", "database is locked"])
def test_view_hitting_a_dead_database_gets_the_503_page(quiet_client: Client, message: str) -> None:
    # The login view counts failed attempts in the database; every OperationalError counts as unavailable.
    with mock.patch.object(connection, "cursor", side_effect=OperationalError(message)):
        response = quiet_client.post("/accounts/login/", {"email": "a@example.org", "password": "x"})
    assert response.status_code == 503
    assert "Temporarily unavailable" in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_logged_in_page_while_database_is_down_gets_the_503_page(
    agent_user: User,
    database_down: Callable[..., mock._patch],  # type: ignore[type-arg]
) -> None:
    # Here the session lookup in the middleware fails, before any view runs.
    client = Client(raise_request_exception=False)
    client.force_login(agent_user)
    with database_down():
        response = client.get("/")
    assert response.status_code == 503
    assert "Temporarily unavailable" in response.content.decode()


def test_api_while_database_is_down_gets_a_503_problem(
    agent_user: User,
    api_client_for: Callable[..., Client],
    database_down: Callable[..., mock._patch],  # type: ignore[type-arg]
) -> None:
    client = api_client_for(agent_user)
    client.raise_request_exception = False
    with database_down():
        response = client.get("/api/v1/me")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "database_unavailable"


def test_other_errors_stay_500(quiet_client: Client, agent_user: User) -> None:
    quiet_client.force_login(agent_user)
    with mock.patch("leitplanke.core.views.selectors.home_overview", side_effect=ValueError("bug")):
        response = quiet_client.get("/")
    assert response.status_code == 500
    assert "Traceback" not in response.content.decode()
