"""Shared fixtures: users per role, API clients with tokens, and the browser."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from leitplanke.accounts import services as accounts
from leitplanke.accounts.models import Role, Team, User
from leitplanke.core import ratelimit

PASSWORD = "Correct-Horse-Battery-9"
ROLE_KEYS = ["agent", "team_lead", "process_owner", "quality_manager", "administrator", "auditor"]


def ensure_default_roles() -> None:
    """Transactional tests flush the data that migrations created; put the roles back."""
    from leitplanke.accounts.permissions import DEFAULT_ROLES

    for key, name_en, name_de, capabilities in DEFAULT_ROLES:
        Role.objects.get_or_create(
            key=key, defaults={"name_en": name_en, "name_de": name_de, "capabilities": capabilities, "is_system": True}
        )


@pytest.fixture
def make_user(db: Any) -> Callable[..., User]:
    """Users see English unless a test asks for German: assertions read the English source texts."""
    counter = iter(range(1, 10_000))

    def make(
        role: str | None = "agent",
        *,
        email: str | None = None,
        teams: list[Team] | None = None,
        language: str = "en",
        name: str | None = None,
    ) -> User:
        n = next(counter)
        ensure_default_roles()
        roles = [Role.objects.get(key=role)] if role else []
        return accounts.user_create(
            actor=None,
            email=email or f"{role or 'user'}{n}@example.org",
            full_name=name or f"Test {role} {n}",
            password=PASSWORD,
            language=language,
            roles=roles,
            teams=teams or [],
        )

    return make


@pytest.fixture
def admin_user(make_user: Callable[..., User]) -> User:
    return make_user("administrator", name="Ada Admin")


@pytest.fixture
def agent_user(make_user: Callable[..., User]) -> User:
    return make_user("agent", name="Aaron Agent")


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def api_client_for() -> Callable[..., Client]:
    def make(user: User, scopes: tuple[str, ...] | None = None) -> Client:
        """A client with a bearer token: the given scopes, or by default every scope the
        user's capabilities allow (read, and write where the user may change data)."""
        from leitplanke.accounts.permissions import token_scopes_allowed

        wanted = list(scopes) if scopes is not None else [s for s in ("read", "write") if s in token_scopes_allowed(user)]
        _token, plain = accounts.api_token_create(actor=user, name="test", scopes=wanted)
        return Client(headers={"Authorization": f"Bearer {plain}"})

    return make


@pytest.fixture
def fixed_rate_limit_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep all attempts of a test in one rate-limit window, whatever the clock says (a test
    that runs across the full hour would otherwise see its counter start again)."""
    start = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(ratelimit, "_window_start", lambda now, window_seconds: start)


# --- browser tests -------------------------------------------------------------------------

CHROMIUM = os.environ.get("LEITPLANKE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    have_browser = os.path.exists(CHROMIUM) or shutil.which("chromium")
    if have_browser:
        return
    if os.environ.get("CI", "").lower() == "true":
        raise pytest.UsageError(f"CI=true but no chromium at {CHROMIUM}: browser tests may not be skipped in CI")
    skip = pytest.mark.skip(reason=f"no chromium at {CHROMIUM}; install Debian's chromium to run browser tests")
    browser_items = [item for item in items if "browser" in item.keywords]
    for item in browser_items:
        item.add_marker(skip)
    if browser_items:
        print(f"\nNOTE: skipping {len(browser_items)} browser tests: no chromium installed at {CHROMIUM}.")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, request: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        os.makedirs("test-artifacts", exist_ok=True)
        page.screenshot(path=f"test-artifacts/{request.node.name}.png", full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def login(live_server: Any) -> Callable[[Any, User], None]:
    def do_login(page: Any, user: User, password: str = PASSWORD) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("E-Mail-Adresse").or_(page.get_by_label("E-mail address")).fill(user.email)
        page.get_by_label("Passwort").or_(page.get_by_label("Password")).fill(password)
        page.get_by_role("button", name="Anmelden").or_(page.get_by_role("button", name="Log in")).click()
        page.wait_for_url(f"{live_server.url}/")

    return do_login


@pytest.fixture
def sign_out() -> Callable[[Any], None]:
    """Forgets the session before a test logs in as someone else. The page is left first:
    an htmx request of the old page answered after the cookies were cleared would set a new
    CSRF cookie, and the next login would be refused (403; seen once in CI)."""

    def do_sign_out(page: Any) -> None:
        page.goto("about:blank")
        page.context.clear_cookies()

    return do_sign_out


# Data migrations whose rows (roles, case types, categories, templates) every test expects.
REFERENCE_DATA = [
    ("leitplanke.core.migrations.0004_reference_generation", "create_row"),
    ("leitplanke.core.migrations.0007_audit_chain_keys_and_guards", "create_head_row"),
    ("leitplanke.accounts.migrations.0002_default_roles_and_organisation", "create_defaults"),
    ("leitplanke.cases.migrations.0003_default_case_types", "forward"),
    ("leitplanke.processes.migrations.0001_process_definitions", "ship_definitions"),
    ("leitplanke.intake.migrations.0002_default_templates", "create"),
    ("leitplanke.maturity.migrations.0002_default_recommendations", "create"),
    ("leitplanke.deadlines.migrations.0001_rules_and_settings", "ship_rules"),
    ("leitplanke.decisions.migrations.0002_shipped_tables", "forward"),
]


def restore_reference_data() -> None:
    """A flushed (transactional) test database lost what the data migrations created;
    the migration functions are idempotent, so run them again."""
    import importlib

    from django.apps import apps

    for module, function in REFERENCE_DATA:
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture(autouse=True)
def audit_guards(request: Any) -> Iterator[None]:
    """Every database test runs with the append-only triggers in place; transactional
    tests remove them afterwards so that the test database can be flushed."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "live_server" in request.fixturenames or (
        marker is not None and (marker.kwargs.get("transaction") or (len(marker.args) > 0 and marker.args[0]))
    )
    if marker is None and "live_server" not in request.fixturenames and "db" not in request.fixturenames:
        yield
        return
    from django.db import connection

    from leitplanke.core import refcache
    from leitplanke.core.audit_guards import install_guards, remove_guards

    request.getfixturevalue("transactional_db" if transactional else "db")
    install_guards(connection)
    # A flushed database may hold new rows under an old reference generation.
    refcache.clear_local()
    if transactional:
        restore_reference_data()
    yield
    if transactional:
        remove_guards(connection)
