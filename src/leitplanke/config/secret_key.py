"""The development settings' public SECRET_KEY, and the demo's own key.

The development settings fall back to a key that is in the source code, so anyone can sign
with it (status links, sessions, password-reset links). The `leitplanke` command therefore
refuses to run a production command with it (`cli._setup_django`), and `leitplanke demo`
uses a random key of its own instead, generated once and kept in the data directory
(file mode 0600), so that demo logins and status links survive a restart.

Imports nothing from Django: the command reads it before Django is set up.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105 - public on purpose
DEMO_KEY_FILE = "demo-secret-key"


def data_dir() -> Path:
    """The same directory as `settings.DATA_DIR` (LEITPLANKE_DATA_DIR, default ./var)."""
    return Path(os.environ.get("LEITPLANKE_DATA_DIR") or str(Path.cwd() / "var")).resolve()


def is_public_key(key: str | None) -> bool:
    return not key or key == DEV_SECRET_KEY


def demo_secret_key(directory: Path) -> str:
    """The demo's key: read from `<directory>/demo-secret-key`, created there (0600) the first time."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / DEMO_KEY_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= 50:
            return key
        # An empty or truncated file (a crash while writing): replace it.
        path.unlink()
        return demo_secret_key(directory)
    key = secrets.token_urlsafe(64)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key
