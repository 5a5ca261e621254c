"""Login with lockout, logout, password reset and the language switch, through the HTTP client."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from leitplanke.accounts.models import User
from leitplanke.core.models import AuditEvent
from tests.concurrency import Gate, in_parallel, shared_database
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def _one_window(fixed_rate_limit_window: None) -> None:
    """All login attempts of a test count in one rate-limit window (tests/conftest.py)."""


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


def post_login(client: Client, email: str, password: str, **extra: Any) -> Any:
    return client.post(LOGIN, {"email": email, "password": password}, **extra)


# --- login ---------------------------------------------------------------------------------


def test_good_login_redirects_home_and_is_audited(client: Client, agent_user: User) -> None:
    response = post_login(client, agent_user.email.upper(), PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert "auth.login" in actions()


def test_login_page_renders(client: Client) -> None:
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert b'name="email"' in response.content and b'name="password"' in response.content


def test_wrong_password_shows_error_and_is_audited(client: Client, agent_user: User) -> None:
    response = post_login(client, agent_user.email, "wrong-password")
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert b'value="' + agent_user.email.encode() + b'"' in response.content  # what the user typed stays
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.after["email"] == agent_user.email
    assert "_auth_user_id" not in client.session


def test_unknown_address_fails_the_same_way(client: Client) -> None:
    response = post_login(client, "nobody@example.org", "whatever-123")
    assert response.status_code == 400
    assert actions() == ["auth.login_failed"]


def test_sixth_attempt_is_locked_even_with_the_right_password(client: Client, agent_user: User) -> None:
    for _ in range(5):
        assert post_login(client, agent_user.email, "wrong-password").status_code == 400
    assert actions().count("auth.login_failed") == 5

    response = post_login(client, agent_user.email, "wrong-password")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 900
    assert "Too many failed login attempts" in response.content.decode() or "Zu viele" in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.login_locked").count() == 1

    response = post_login(client, agent_user.email, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.login_locked").count() == 2
    assert "auth.login" not in actions()


def test_lockout_is_per_address_and_case_insensitive(client: Client, agent_user: User, make_user: Callable[..., User]) -> None:
    for _ in range(5):
        post_login(client, agent_user.email.upper(), "wrong-password", REMOTE_ADDR="10.0.0.1")
    assert post_login(client, agent_user.email, PASSWORD, REMOTE_ADDR="10.0.0.2").status_code == 429
    other = make_user("agent")
    assert post_login(client, other.email, PASSWORD, REMOTE_ADDR="10.0.0.3").status_code == 302


def test_ip_address_limit_is_higher_than_the_per_address_limit(
    client: Client, make_user: Callable[..., User], settings: Any
) -> None:
    settings.LOGIN_RATE_LIMIT = {"attempts": 2, "attempts_per_ip": 4, "window_seconds": 900}
    users = [make_user("agent") for _ in range(3)]
    for user in users[:2]:  # two colleagues behind the same NAT mistype twice each
        for _ in range(2):
            assert post_login(client, user.email, "typo-typo-1").status_code == 400
    assert post_login(client, users[0].email, PASSWORD).status_code == 429  # that address is locked
    assert post_login(client, users[2].email, PASSWORD, REMOTE_ADDR="10.9.9.9").status_code == 302
    assert post_login(Client(), users[2].email, PASSWORD).status_code == 429  # the IP address is locked now


@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_passwords_are_checked_at_most_limit_times(
    agent_user: User, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """20 wrong passwords for one address at the same moment: each attempt is counted before
    its password is checked, so only the first 5 get a password check (400), the rest 429.
    The gate holds every password check until all 20 requests have either reached one or
    finished: counting after the check would let all 20 through the limit."""
    attempts = 20
    gate = Gate(attempts)
    checked: list[str] = []
    real_check = User.check_password

    def check_password(user: User, raw_password: str) -> bool:
        checked.append(raw_password)
        gate.wait()
        return real_check(user, raw_password)

    monkeypatch.setattr(User, "check_password", check_password)

    def attempt(index: int) -> int:
        try:
            return post_login(Client(), agent_user.email, f"wrong-password-{index}").status_code
        finally:
            gate.done()

    with shared_database(tmp_path):
        statuses = in_parallel(attempt, attempts)
        assert len(checked) == 5
        assert sorted(statuses) == [400] * 5 + [429] * 15
        assert AuditEvent.objects.filter(action="auth.login_failed").count() == 5
        assert AuditEvent.objects.filter(action="auth.login_locked").count() == 15
        monkeypatch.setattr(User, "check_password", real_check)
        assert post_login(Client(), agent_user.email, PASSWORD).status_code == 429


def test_inactive_user_cannot_log_in(client: Client, admin_user: User, agent_user: User) -> None:
    from leitplanke.accounts import services

    services.user_update(actor=admin_user, user=agent_user, is_active=False)
    assert post_login(client, agent_user.email, PASSWORD).status_code == 400


@pytest.mark.parametrize("target", ["https://evil.example/steal", "//evil.example/", "https:///evil.example"])
def test_open_redirect_is_refused(client: Client, agent_user: User, target: str) -> None:
    response = client.post(f"{LOGIN}?next={target}", {"email": agent_user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    response = Client().post(LOGIN, {"email": agent_user.email, "password": PASSWORD, "next": target})
    assert response["Location"] == "/"


def test_local_next_is_followed(client: Client, agent_user: User) -> None:
    response = client.post(f"{LOGIN}?next=/accounts/profile/", {"email": agent_user.email, "password": PASSWORD})
    assert response["Location"] == "/accounts/profile/"


def test_logout_is_post_only(client: Client, agent_user: User) -> None:
    client.force_login(agent_user)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/").status_code == 200
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client.get("/")["Location"].startswith("/accounts/login/")
    assert "auth.logout" in actions()


def test_pages_need_login(client: Client) -> None:
    response = client.get("/accounts/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


# --- password reset ------------------------------------------------------------------------


def test_password_reset_round_trip(client: Client, agent_user: User) -> None:
    response = client.post("/accounts/password-reset/", {"email": agent_user.email})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [agent_user.email]
    link = re.search(r"https?://[^/\s]+(/accounts/password-reset/\S+/\S+/)", message.body)
    assert link is not None, message.body

    response = client.get(link.group(1), follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0]
    assert form_url.endswith("/set-password/")
    new_password = "Shiny-New-Passphrase-31"
    response = client.post(form_url, {"new_password1": new_password, "new_password2": new_password})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/done/"

    event = AuditEvent.objects.get(action="user.password_reset")
    assert event.object_id == str(agent_user.pk)
    assert post_login(Client(), agent_user.email, PASSWORD).status_code == 400
    assert post_login(Client(), agent_user.email, new_password).status_code == 302

    # the link works once
    response = client.get(link.group(1), follow=True)
    assert "validlink" in response.context and not response.context["validlink"]


def test_password_reset_lifts_a_lockout(client: Client, agent_user: User) -> None:
    for _ in range(5):
        post_login(client, agent_user.email, "wrong-password", REMOTE_ADDR="10.1.1.1")
    assert post_login(client, agent_user.email, PASSWORD, REMOTE_ADDR="10.1.1.2").status_code == 429
    client.post("/accounts/password-reset/", {"email": agent_user.email})
    path = re.search(r"https?://[^/\s]+(/accounts/password-reset/\S+/\S+/)", mail.outbox[0].body).group(1)  # type: ignore[union-attr]
    form_url = client.get(path, follow=True).redirect_chain[-1][0]
    client.post(form_url, {"new_password1": "After-Lockout-Pass-5", "new_password2": "After-Lockout-Pass-5"})
    assert post_login(client, agent_user.email, "After-Lockout-Pass-5", REMOTE_ADDR="10.1.1.2").status_code == 302


def test_password_reset_does_not_reveal_unknown_addresses(client: Client, agent_user: User) -> None:
    known = client.post("/accounts/password-reset/", {"email": agent_user.email}, follow=True)
    unknown = client.post("/accounts/password-reset/", {"email": "nobody@example.org"}, follow=True)
    assert known.redirect_chain == unknown.redirect_chain == [("/accounts/password-reset/sent/", 302)]

    def without_csrf(content: bytes) -> str:
        return re.sub(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+', "", content.decode())

    assert without_csrf(known.content) == without_csrf(unknown.content)
    assert len(mail.outbox) == 1


def test_password_reset_rejects_weak_password(client: Client, agent_user: User) -> None:
    client.post("/accounts/password-reset/", {"email": agent_user.email})
    path = re.search(r"https?://[^/\s]+(/accounts/password-reset/\S+/\S+/)", mail.outbox[0].body).group(1)  # type: ignore[union-attr]
    form_url = client.get(path, follow=True).redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": "123", "new_password2": "123"})
    assert response.status_code == 200
    assert response.context["form"].errors
    agent_user.refresh_from_db()
    assert agent_user.check_password(PASSWORD)


# --- language ------------------------------------------------------------------------------


def lang_attribute(response: Any) -> str:
    match = re.search(r'<html lang="([a-z-]+)"', response.content.decode())
    assert match is not None
    return match.group(1)


def test_language_switch_is_stored_on_the_user(client: Client, make_user: Callable[..., User]) -> None:
    agent_user = make_user("agent", language="de")
    client.force_login(agent_user)
    page = client.get("/")
    assert page["Content-Language"] == "de" and lang_attribute(page) == "de"

    response = client.post("/accounts/language/", {"language": "en", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    agent_user.refresh_from_db()
    assert agent_user.language == "en"
    page = client.get("/")
    assert page["Content-Language"] == "en" and lang_attribute(page) == "en"
    assert "Log out" in page.content.decode()

    # the user's choice wins over a browser that asks for German, also in a new session
    fresh = Client(headers={"Accept-Language": "de"})
    fresh.force_login(agent_user)
    assert fresh.get("/")["Content-Language"] == "en"

    client.post("/accounts/language/", {"language": "de", "next": "/"})
    assert client.get("/")["Content-Language"] == "de"


def test_anonymous_language_choice_goes_into_a_cookie(client: Client) -> None:
    response = client.post("/accounts/language/", {"language": "en", "next": LOGIN})
    assert response["Location"] == LOGIN
    assert response.cookies["django_language"].value == "en"
    page = client.get(LOGIN)
    assert page["Content-Language"] == "en" and lang_attribute(page) == "en"
    client.post("/accounts/language/", {"language": "de", "next": LOGIN})
    assert client.get(LOGIN)["Content-Language"] == "de"


def test_language_switch_refuses_foreign_redirects_and_unknown_languages(client: Client) -> None:
    response = client.post("/accounts/language/", {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    response = client.post("/accounts/language/", {"language": "fr", "next": "/"})
    assert "django_language" not in response.cookies
    assert client.get("/accounts/language/").status_code == 405
