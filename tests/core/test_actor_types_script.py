"""scripts/actor_types.py: the codemod that gives `actor` the type of its layer (ADR 0022).
It is re-run after merges, so its rewrites are checked here, and the repository is checked to
have no `actor: Any` left."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "actor_types.py"


@pytest.fixture(scope="module")
def codemod() -> ModuleType:
    spec = importlib.util.spec_from_file_location("actor_types", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["actor_types"] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


FEATURE = '''"""A service."""

from __future__ import annotations

from typing import Any, Optional

from leitplanke.core.audit import audit_record

from .models import Thing


def thing_create(*, actor: Any, name: str) -> Thing:
    author = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return Thing(name=name, author=author)


def thing_note(*, actor: Any) -> Thing:
    return Thing(author=actor if actor is not None else None)


def thing_list(*, actor: Optional[Any] = None) -> list[Thing]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return []
    return []


def helper(actor: Any | None, other: Any) -> None:
    """Mentions getattr(actor, "is_authenticated", False) in a docstring: left alone."""
'''

CORE = """from __future__ import annotations

from typing import Any

from django.db import transaction


def record(*, actor: Any, action: str) -> None:
    pass
"""


def run(codemod: ModuleType, relpath: str, source: str) -> tuple[str | None, object]:
    report = codemod.Report()
    return codemod.convert_source(
        relpath, source, report, {"leitplanke.core.actors": True, "leitplanke.accounts.actors": True}
    ), report


def test_feature_module_gets_actor_and_the_predicates(codemod: ModuleType) -> None:
    new, report = run(codemod, "cases/things.py", FEATURE)
    assert new is not None
    ast.parse(new)
    assert "actor: Any" not in new and "Optional[Any]" not in new and "Any | None" not in new
    assert "def thing_create(*, actor: Actor, name: str)" in new
    assert "def thing_list(*, actor: Actor = None)" in new
    assert "def helper(actor: Actor, other: Any)" in new  # `Any` still used: its import stays
    assert "from typing import Any\n" in new  # Optional is no longer used
    assert "from leitplanke.accounts.actors import Actor, acting_user, is_user" in new
    assert "author = acting_user(actor)" in new
    assert "Thing(author=acting_user(actor))" in new
    assert "if not is_user(actor):" in new
    assert 'Mentions getattr(actor, "is_authenticated", False)' in new  # strings are not code
    assert report.changed  # type: ignore[attr-defined]
    # idempotent
    again, _report = run(codemod, "cases/things.py", new)
    assert again is None


def test_core_module_gets_audit_actor_and_loses_an_unused_any(codemod: ModuleType) -> None:
    new, _report = run(codemod, "core/recorder.py", CORE)
    assert new is not None
    assert "def record(*, actor: AuditActor, action: str)" in new
    assert "from leitplanke.core.actors import AuditActor" in new
    assert "leitplanke.accounts" not in new  # core imports no feature app
    assert "from typing import Any" not in new


def test_a_module_with_its_own_actor_name_is_reported_not_changed(codemod: ModuleType) -> None:
    source = "from __future__ import annotations\nfrom typing import Any\n\nActor = object\n\n\ndef f(actor: Any) -> None: ...\n"
    new, report = run(codemod, "cases/odd.py", source)
    assert new is None
    assert any("own `Actor`" in line for line in report.undecided)  # type: ignore[attr-defined]


def test_the_type_check_import_is_used_when_a_runtime_import_is_unsafe(codemod: ModuleType) -> None:
    source = '"""Doc."""\n\nfrom typing import Any\n\n\ndef f(actor: Any) -> None: ...\n'
    report = codemod.Report()
    new = codemod.convert_source(
        "cases/x.py", source, report, {"leitplanke.core.actors": True, "leitplanke.accounts.actors": False}
    )
    assert new is not None
    ast.parse(new)
    assert "from __future__ import annotations" in new
    assert "if TYPE_CHECKING:\n    from leitplanke.accounts.actors import Actor" in new


def test_the_repository_has_no_actor_any_left(codemod: ModuleType) -> None:
    """After merging a branch that still says `actor: Any`, run `python scripts/actor_types.py`."""
    assert codemod.main(["--check", "--no-ruff"]) == 0


def test_predicates_get_a_run_time_import_next_to_a_type_only_one(codemod: ModuleType) -> None:
    source = (
        "from __future__ import annotations\n\nfrom typing import TYPE_CHECKING\n\n"
        "if TYPE_CHECKING:\n    from leitplanke.accounts.actors import Actor\n\n\n"
        "def f(actor: Actor) -> bool:\n"
        "    def inner() -> None:\n        from leitplanke.accounts.actors import is_user  # local: does not count\n\n"
        '    return getattr(actor, "is_authenticated", False)\n'
    )
    new, _report = run(codemod, "cases/y.py", source)
    assert new is not None
    tree = ast.parse(new)
    runtime = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "leitplanke.accounts.actors"]
    assert [a.name for a in runtime[0].names] == ["is_user"]
    assert "    from leitplanke.accounts.actors import Actor\n" in new  # the type-only import stays
    assert "return is_user(actor)" in new


def test_a_pure_engine_keeps_any_and_is_reported(codemod: ModuleType) -> None:
    source = "from __future__ import annotations\n\nfrom typing import Any\n\n\ndef score(actor: Any) -> int:\n    return 0\n"
    new, report = run(codemod, "maturity/engine/scoring.py", source)
    assert new is None
    assert any("import-linter contract" in line for line in report.undecided)  # type: ignore[attr-defined]
