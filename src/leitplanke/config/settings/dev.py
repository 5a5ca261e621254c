"""Development and demo: debug off by default so pages look as in production."""

from .base import *  # noqa: F403
from .base import env, env_bool

DEBUG = env_bool("LEITPLANKE_DEBUG", False)
SECRET_KEY = env("LEITPLANKE_SECRET_KEY") or "dev-only-insecure-key-do-not-use-in-production"
LEITPLANKE_AUDIT_KEY = env("LEITPLANKE_AUDIT_KEY") or "dev-only-insecure-audit-key-do-not-use-in-production"
EMAIL_BACKEND = env("LEITPLANKE_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
