"""The documents a newcomer reads match the repository: every ADR and document indexed,
every app and core module named in the architecture, the production install in the README."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
PACKAGE = REPO / "src" / "leitplanke"


def links(markdown: Path) -> set[Path]:
    text = markdown.read_text(encoding="utf-8")
    return {(markdown.parent / target).resolve() for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)}


def test_docs_index_lists_every_document_and_every_adr() -> None:
    index = links(DOCS / "README.md")
    documents = {path.resolve() for path in DOCS.glob("*.md") if path.name != "README.md"}
    adrs = {path.resolve() for path in (DOCS / "adr").glob("*.md")}
    assert not documents - index, sorted(path.name for path in documents - index)
    assert not adrs - index, sorted(path.name for path in adrs - index)
    assert not [path for path in index if not path.exists()], "the index links to a missing file"
    architecture = links(DOCS / "architecture.md")
    assert not adrs - architecture, sorted(path.name for path in adrs - architecture)
    assert (DOCS / "README.md").resolve() in links(REPO / "README.md")


def test_architecture_names_every_app_and_core_module() -> None:
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    apps = [path.name for path in PACKAGE.iterdir() if (path / "apps.py").exists()]
    assert apps and not [app for app in apps if f"{app}/" not in text]
    unnamed = [
        path.name
        for path in (PACKAGE / "core").glob("*.py")
        if path.name not in {"__init__.py", "apps.py"} and path.name not in text
    ]
    assert not unnamed, f"core modules missing from docs/architecture.md: {unnamed}"
    for top_level in ("LICENSE", "scripts/", "requirements/", "bench/"):
        assert top_level in text and (REPO / top_level.rstrip("/")).exists(), top_level


def test_readme_shows_the_production_install_and_the_database_set_up() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    for needed in (
        "python3 -m venv",
        "pip install -r requirements/base.txt",
        "pip install --no-deps .",
        "CREATE ROLE leitplanke_owner LOGIN",
        "CREATE ROLE leitplanke_app LOGIN",
        "CREATE DATABASE leitplanke OWNER leitplanke_owner",
        "GRANT CONNECT ON DATABASE leitplanke TO leitplanke_app",
        "LEITPLANKE_DB_APP_ROLE=leitplanke_app leitplanke migrate",
        "leitplanke db grants leitplanke_app",
        "leitplanke --version",
    ):
        assert needed in text, needed
