"""Health and readiness endpoints, and a clear 503 (never a stack trace) when the database is down."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
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


PRODUCTION_PROBE = """
import sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", "--no-input", "-v", "0")
call_command("collectstatic", "--no-input", "-v", "0")
from django.test import Client
client = Client()
for path in ("/healthz", "/readyz", "/accounts/login/"):
    response = client.get(path, HTTP_HOST="leitplanke.example.org")  # plain HTTP, as a load balancer probes
    print(path, response.status_code, response.get("Location", "-"))
print("--- wrong host", file=sys.stderr, flush=True)
print("wrong host", client.get("/healthz", HTTP_HOST="evil.example").status_code)
"""


def test_production_health_endpoints_answer_over_plain_http_and_a_wrong_host_logs_one_line(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LEITPLANKE_", "DJANGO_", "DATABASE_URL"))}
    env |= {
        "LEITPLANKE_DATA_DIR": str(tmp_path),
        "LEITPLANKE_SECRET_KEY": secrets.token_urlsafe(60),
        "LEITPLANKE_AUDIT_KEY": secrets.token_urlsafe(40),
        "LEITPLANKE_ALLOWED_HOSTS": "leitplanke.example.org",
        "DJANGO_SETTINGS_MODULE": "leitplanke.config.settings.prod",
    }
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "/healthz 200 -",
        "/readyz 200 -",
        "/accounts/login/ 301 https://leitplanke.example.org/accounts/login/",  # everything else still goes to HTTPS
        "wrong host 400",
    ]
    logged = result.stderr.split("--- wrong host\n", 1)[1]
    assert "Traceback" not in result.stderr
    assert len(logged.splitlines()) == 1, logged
    assert "django.security.DisallowedHost Invalid HTTP_HOST header: 'evil.example'." in logged
