"""Production: refuses to start without a secret key and an audit key; secure cookies and HSTS."""

import sys

from .base import *  # noqa: F403
from .base import env, env_bool, env_list

SECRET_KEY = env("LEITPLANKE_SECRET_KEY")
if len(SECRET_KEY) < 50:
    sys.stderr.write(
        "leitplanke: LEITPLANKE_SECRET_KEY must be set to a random value of at least 50 characters "
        "in production (generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(50))').\n"
    )
    raise SystemExit(2)

LEITPLANKE_AUDIT_KEY = env("LEITPLANKE_AUDIT_KEY")
if len(LEITPLANKE_AUDIT_KEY) < 32:
    sys.stderr.write(
        "leitplanke: LEITPLANKE_AUDIT_KEY must be set to a random value of at least 32 characters in production; "
        "it seals the audit log and must not be stored in the database "
        "(generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))').\n"
    )
    raise SystemExit(2)

DEBUG = False
ALLOWED_HOSTS = env_list("LEITPLANKE_ALLOWED_HOSTS", "localhost")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("LEITPLANKE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(env("LEITPLANKE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
