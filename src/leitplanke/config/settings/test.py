"""Test settings: fast hashing, in-memory e-mail, immediate tasks, uploaded files in a temporary directory."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import DATA_DIR, STATIC_ROOT, database_from_env

SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"
LEITPLANKE_AUDIT_KEY = "test-audit-key-not-for-production-0123456789abcdef"
LEITPLANKE_AUDIT_KEY_FALLBACKS = []
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DATABASES = {"default": database_from_env(f"sqlite:///{DATA_DIR / 'test.sqlite3'}")}
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STORAGES = {
    # Files of rows are written to a staging area and moved into place on commit (core/storedfiles.py).
    "default": {"BACKEND": "leitplanke.core.storedfiles.StagingFileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Files that tests store go to a temporary directory of this test process (one per xdist worker),
# removed at exit — never into DATA_DIR/files, where the demo keeps its customers' files.
# Subprocesses started by a test inherit it through the environment.
_MEDIA_ENV = f"LEITPLANKE_TEST_MEDIA_ROOT_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
if not os.environ.get(_MEDIA_ENV):
    os.environ[_MEDIA_ENV] = tempfile.mkdtemp(prefix="leitplanke-test-files-")
    atexit.register(shutil.rmtree, os.environ[_MEDIA_ENV], True)
MEDIA_ROOT = Path(os.environ[_MEDIA_ENV])
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

# WhiteNoise warns when the static root is missing; tests serve static files from the finders.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
