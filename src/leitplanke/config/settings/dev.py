"""Development and demo: debug off by default so pages look as in production."""

from ..secret_key import DEV_SECRET_KEY
from .base import *  # noqa: F403
from .base import env, env_bool

DEBUG = env_bool("LEITPLANKE_DEBUG", False)
# Public: `leitplanke` refuses production commands with it; `leitplanke demo` has its own key.
SECRET_KEY = env("LEITPLANKE_SECRET_KEY") or DEV_SECRET_KEY
LEITPLANKE_AUDIT_KEY = env("LEITPLANKE_AUDIT_KEY") or "dev-only-insecure-audit-key-do-not-use-in-production"
EMAIL_BACKEND = env("LEITPLANKE_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
