"""Settings for benchmark runs: the development settings, plus the package's own static
directory when the base settings do not list it (collectstatic must find app.css for the
manifest storage; without it every page would fail with DEBUG off)."""

from leitplanke.config.settings.dev import *  # noqa: F403
from leitplanke.config.settings.dev import PACKAGE_DIR

if not globals().get("STATICFILES_DIRS") and (PACKAGE_DIR / "static").is_dir():
    STATICFILES_DIRS = [PACKAGE_DIR / "static"]
