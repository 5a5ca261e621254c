"""Test settings: fast hashing, in-memory e-mail, immediate tasks, a temporary data directory."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

# Everything a test process writes — uploaded files, the static root, SQLite files, file e-mail —
# goes to a temporary directory of its own (one per xdist worker), removed at exit: never into
# the demo's var/, whatever LEITPLANKE_DATA_DIR the shell exports. Subprocesses started by a test
# inherit it through the environment.


def _private_data_dir() -> str:
    root = Path(tempfile.gettempdir()) / f"leitplanke-test-{os.getuid()}"
    root.mkdir(mode=0o700, exist_ok=True)
    for stale in root.iterdir():  # left by a process that ended without exit handlers (mypy, a killed worker)
        pid = stale.name.split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    path = tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root)
    atexit.register(shutil.rmtree, path, True)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_TMP_ENV = f"LEITPLANKE_TEST_TMP_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
if not os.environ.get(_TMP_ENV):
    os.environ[_TMP_ENV] = _private_data_dir()
os.environ["LEITPLANKE_DATA_DIR"] = os.environ[_TMP_ENV]

from .base import *  # noqa: E402, F403
from .base import DATA_DIR, STATIC_ROOT, database_from_env  # noqa: E402

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
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

# WhiteNoise warns when the static root is missing; tests serve static files from the finders.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
