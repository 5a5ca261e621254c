"""Security headers on pages, and production settings that refuse insecure configurations."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client

from leitplanke.accounts.models import User
from tests.conftest import PASSWORD

REPO = Path(__file__).resolve().parents[2]


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/", "/accounts/profile/", "/does-not-exist/"])
def test_pages_send_a_strict_content_security_policy(agent_user: User, client_for: Callable[[User], Client], path: str) -> None:
    client = Client() if path == "/accounts/login/" else client_for(agent_user)
    response = client.get(path)
    assert response.status_code in (200, 404)
    directives = csp_directives(response["Content-Security-Policy"])
    script_src = directives.get("script-src", directives.get("default-src"))
    assert script_src == ["'self'"] or ("'self'" in script_src and "'unsafe-inline'" not in script_src)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_pages_have_no_inline_scripts(agent_user: User, client_for: Callable[[User], Client]) -> None:
    html = client_for(agent_user).get("/").content.decode()
    assert "<script>" not in html
    assert " onclick=" not in html and " onload=" not in html


@pytest.mark.django_db
def test_session_cookie_is_http_only(client: Client, agent_user: User) -> None:
    response = client.post("/accounts/login/", {"email": agent_user.email, "password": PASSWORD})
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def run_python(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith(("LEITPLANKE_", "DJANGO_", "DATABASE_URL"))}
    base["LEITPLANKE_DATA_DIR"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, *args], env={**base, **env}, cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("key", [None, "", "too-short"])
def test_prod_settings_refuse_to_start_without_a_real_secret_key(tmp_path: Path, key: str | None) -> None:
    env = {} if key is None else {"LEITPLANKE_SECRET_KEY": key}
    result = run_python(["-c", "import leitplanke.config.settings.prod"], env, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "LEITPLANKE_SECRET_KEY" in lines[0]
    assert "Traceback" not in result.stderr


def test_prod_settings_pass_the_deployment_check(tmp_path: Path) -> None:
    env = {
        "LEITPLANKE_SECRET_KEY": secrets.token_urlsafe(60)[:60],
        "LEITPLANKE_AUDIT_KEY": secrets.token_urlsafe(32),
        "LEITPLANKE_ALLOWED_HOSTS": "leitplanke.example.org",
        "DJANGO_SETTINGS_MODULE": "leitplanke.config.settings.prod",
    }
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
