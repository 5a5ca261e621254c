#!/usr/bin/env python3
"""Codemod: `actor: Any` → the actor type of the module's layer (docs/adr/0016-actor-type.md).

    python scripts/actor_types.py            # rewrite src/leitplanke, then ruff (isort + format)
    python scripts/actor_types.py --check    # change nothing; exit 1 if something would change
    python scripts/actor_types.py --diff     # print a unified diff instead of writing
    python scripts/actor_types.py --no-ruff  # leave import order and formatting alone

What it does, in every module under src/leitplanke (migrations excluded):

- every parameter named `actor` (of a def, async def or lambda-free signature) annotated `Any`,
  `typing.Any`, `"Any"`, `Any | None`, `None | Any`, `Optional[Any]` or `Union[Any, None]`
  gets the type of the module's layer: `AuditActor` (leitplanke.core.actors) in `core`,
  which imports no feature app, and `Actor` (leitplanke.accounts.actors) everywhere else.
  Both already include None (the system), so `| None` / `Optional` disappear and a default
  `= None` stays as it was;
- the import of that name is added. At run time, as a normal import: the two actors modules
  import no model and nothing of a feature app at run time, so the import cannot create a
  cycle. The script checks that before it writes, and puts the import under
  `if TYPE_CHECKING:` (which needs `from __future__ import annotations`; added when missing)
  in a module for which that no longer holds — it says so when it does;
- `Any` (and `Optional`, `Union`) is removed from `from typing import …` when nothing in the
  module uses it any more;
- it leaves `Any` where the import would break a `forbidden` import-linter contract of
  pyproject.toml (pure engines such as `maturity.engine` import neither Django nor the app);
- it prints every change and every place it left alone (a parameter named `actor` with
  another annotation or none; a module that defines a name `Actor` itself; an app that is
  not in the layer table), so that a person decides those.

It is idempotent: a second run finds nothing to do. Standard library only (ast, tokenize, re);
if `.venv/bin/ruff` exists it runs `ruff check --select I --fix` and `ruff format` on the
files it changed, so the new import lands in the sorted place.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import re
import subprocess
import sys
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "leitplanke"
PARAM_NAMES = ("actor",)

# The layer table: which app gets which type. `core` imports no feature app (import-linter),
# so it gets the protocol-based alias; every feature app may import accounts.
CORE_TYPE = ("leitplanke.core.actors", "AuditActor")
APP_TYPE = ("leitplanke.accounts.actors", "Actor")
KNOWN_APPS = {"core", "accounts", "customers", "cases", "intake", "api", "demo", "maturity", "config", "processes", "deadlines"}
# The modules that define the types: never rewritten.
DEFINING_MODULES = {"core/actors.py", "accounts/actors.py"}
# What the defining modules may import at run time without any risk of a cycle.
# (core.errors and core.text import nothing but Django's translation functions.)
SAFE_RUNTIME_IMPORTS = re.compile(
    r"^(__future__|typing|typing_extensions|collections\.abc|leitplanke\.core\.(actors|errors|text))$"
)


# The common untyped checks and the typed helper that replaces each (feature apps only; `core`
# keeps its own `is_authenticated_user`). Longest first: the first two contain the others.
_AUTH = r"""getattr\(actor, ["']is_authenticated["'], False\)"""
PREDICATES = [
    (re.compile(rf"\bactor if actor is not None and {_AUTH} else None\b"), "acting_user(actor)", "acting_user"),
    (re.compile(rf"\bactor if {_AUTH} else None\b"), "acting_user(actor)", "acting_user"),
    # for a user foreign key: an AnonymousUser there raises ValueError, acting_user gives None
    (re.compile(r"\bactor if actor is not None else None\b"), "acting_user(actor)", "acting_user"),
    (re.compile(rf"\bactor is None or not {_AUTH}"), "not is_user(actor)", "is_user"),
    (re.compile(rf"\bactor is not None and {_AUTH}"), "is_user(actor)", "is_user"),
    (re.compile(rf"\bnot {_AUTH}"), "not is_user(actor)", "is_user"),
    (re.compile(_AUTH), "is_user(actor)", "is_user"),
]


@dataclass
class Report:
    changed: list[str] = field(default_factory=list)
    undecided: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def type_for(relpath: str) -> tuple[str, str]:
    """`AuditActor` in core (which may not import accounts), `Actor` everywhere else."""
    return CORE_TYPE if relpath.split("/", 1)[0] == "core" else APP_TYPE


# What importing each type's module brings along for import-linter (which counts imports under
# TYPE_CHECKING too): accounts.actors reaches core, Django and the accounts models.
REACHES = {
    CORE_TYPE[0]: {"leitplanke.core", "leitplanke.core.actors"},
    APP_TYPE[0]: {
        "leitplanke.accounts",
        "leitplanke.accounts.actors",
        "leitplanke.accounts.models",
        "leitplanke.core",
        "leitplanke.core.actors",
        "leitplanke.core.errors",
        "django",
    },
}


def _matches(pattern: str, module: str) -> bool:
    """import-linter's module patterns: `*` is one name segment; a module matches its package."""
    regex = r"\.".join("[^.]+" if part == "*" else re.escape(part) for part in pattern.split("."))
    return re.fullmatch(rf"{regex}(\..+)?", module) is not None


def forbidden_by_contracts(module: str, type_module: str, pyproject: Path = ROOT / "pyproject.toml") -> str | None:
    """The name of a `forbidden` contract of pyproject.toml that importing `type_module` from
    `module` would break (pure engines import neither Django nor the app), else None. The
    `layers` contract needs no check: every feature app sits above accounts, and core gets
    core's own type."""
    try:
        import tomllib

        contracts = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    except (OSError, KeyError, ValueError):
        return None
    reached = REACHES[type_module]
    for contract in contracts:
        if contract.get("type") != "forbidden" or not any(_matches(p, module) for p in contract.get("source_modules", [])):
            continue
        for forbidden in contract.get("forbidden_modules", []):
            if _matches(forbidden, type_module) or (
                not contract.get("allow_indirect_imports") and any(_matches(forbidden, r) for r in reached)
            ):
                return str(contract.get("name", "?"))
    return None


def is_any_annotation(node: ast.expr) -> bool:
    """`Any`, `typing.Any`, `"Any"`, `Any | None`, `Optional[Any]`, `Union[Any, None]`."""
    if isinstance(node, ast.Name) and node.id == "Any":
        return True
    if isinstance(node, ast.Attribute) and node.attr == "Any" and isinstance(node.value, ast.Name) and node.value.id == "typing":
        return True
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            inner = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return False
        return is_any_annotation(inner)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        sides = [node.left, node.right]
        nones = [s for s in sides if isinstance(s, ast.Constant) and s.value is None]
        anys = [s for s in sides if is_any_annotation(s)]
        return len(nones) == 1 and len(anys) == 1
    if isinstance(node, ast.Subscript):
        base = node.value
        base_name = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else ""
        if base_name == "Optional":
            return is_any_annotation(node.slice)
        if base_name == "Union" and isinstance(node.slice, ast.Tuple) and len(node.slice.elts) == 2:
            elts = node.slice.elts
            nones = [e for e in elts if isinstance(e, ast.Constant) and e.value is None]
            anys = [e for e in elts if is_any_annotation(e)]
            return len(nones) == 1 and len(anys) == 1
    return False


def line_offsets(source: str) -> list[int]:
    offsets, total = [0], 0
    for line in source.splitlines(keepends=True):
        total += len(line)
        offsets.append(total)
    return offsets


def span(node: ast.AST, offsets: list[int], source: str) -> tuple[int, int]:
    """Character offsets of a node (ast columns count UTF-8 bytes)."""

    def at(lineno: int, col: int) -> int:
        start = offsets[lineno - 1]
        line = source[start : offsets[lineno]] if lineno < len(offsets) else source[start:]
        return start + len(line.encode("utf-8")[:col].decode("utf-8"))

    return at(node.lineno, node.col_offset), at(node.end_lineno or node.lineno, node.end_col_offset or 0)


def defined_names(tree: ast.Module) -> set[str]:
    """Names bound at module level other than by the import the script adds."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def imported_names(tree: ast.Module) -> dict[str, str]:
    """Name → module for every `from X import name` anywhere in the module."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                found[alias.asname or alias.name] = ("." * node.level) + node.module
    return found


def uses_name(tree: ast.Module, source: str, name: str) -> bool:
    """Whether `name` is used other than in its import (string annotations included)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == name:
            return True
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.search(rf"\b{name}\b", node.value):
            # a string annotation or a docstring mentioning it: only annotations count, but a
            # docstring match merely keeps the import, which is harmless.
            try:
                ast.parse(node.value, mode="eval")
            except SyntaxError:
                continue
            return True
    return False


def remove_typing_name(source: str, name: str) -> tuple[str, bool]:
    """Removes `name` from a module-level `from typing import …` (deleting the statement when
    it was the only name)."""
    tree = ast.parse(source)
    offsets = line_offsets(source)
    for node in tree.body:
        if not (isinstance(node, ast.ImportFrom) and node.module == "typing" and node.level == 0):
            continue
        kept = [a for a in node.names if not (a.name == name and a.asname is None)]
        if len(kept) == len(node.names):
            continue
        start, end = span(node, offsets, source)
        if not kept:
            # delete the whole line(s), including the newline
            line_end = source.find("\n", end)
            end = len(source) if line_end == -1 else line_end + 1
            return source[:start] + source[end:], True
        names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in kept)
        return source[:start] + f"from typing import {names}" + source[end:], True
    return source, False


def has_future_annotations(tree: ast.Module) -> bool:
    return any(
        isinstance(n, ast.ImportFrom) and n.module == "__future__" and any(a.name == "annotations" for a in n.names)
        for n in tree.body
    )


def insert_line_after_docstring(source: str, tree: ast.Module, line: str) -> str:
    offsets = line_offsets(source)
    first = tree.body[0] if tree.body else None
    if (
        first is not None
        and isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        pos = offsets[first.end_lineno or first.lineno]
        return source[:pos] + "\n" + line + "\n" + source[pos:]
    return line + "\n" + source


def add_import(source: str, module: str, name: str, *, type_checking: bool) -> str:
    tree = ast.parse(source)
    offsets = line_offsets(source)
    statement = f"from {module} import {name}"
    if type_checking:
        if not has_future_annotations(tree):
            source = insert_line_after_docstring(source, tree, "from __future__ import annotations")
            tree, offsets = ast.parse(source), line_offsets(source)
        for node in tree.body:
            if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
                indent = " " * node.body[0].col_offset
                pos = offsets[node.body[-1].end_lineno or node.body[-1].lineno]
                return source[:pos] + f"{indent}{statement}\n" + source[pos:]
        block = f"\nif TYPE_CHECKING:\n    {statement}\n"
        if "TYPE_CHECKING" not in imported_names(tree):
            block = "from typing import TYPE_CHECKING\n" + block
        return _insert_after_imports(source, tree, offsets, block)
    # A runtime import, placed among the first-party imports (ruff sorts it exactly afterwards).
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    first_party = [n for n in top if isinstance(n, ast.ImportFrom) and n.level == 0 and (n.module or "").startswith("leitplanke")]
    for node in first_party:
        if (node.module or "") > module:
            pos = offsets[node.lineno - 1]
            return source[:pos] + statement + "\n" + source[pos:]
    if first_party:
        last = first_party[-1]
        pos = offsets[last.end_lineno or last.lineno]
        return source[:pos] + statement + "\n" + source[pos:]
    relative = [n for n in top if isinstance(n, ast.ImportFrom) and n.level > 0]
    if relative:
        pos = offsets[relative[0].lineno - 1]
        return source[:pos] + statement + "\n\n" + source[pos:]
    return _insert_after_imports(source, tree, offsets, "\n" + statement + "\n")


def _insert_after_imports(source: str, tree: ast.Module, offsets: list[int], text: str) -> str:
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    if top:
        pos = offsets[top[-1].end_lineno or top[-1].lineno]
        return source[:pos] + text + source[pos:]
    return insert_line_after_docstring(source, tree, text.strip("\n"))


def runtime_import_is_safe(module: str) -> bool:
    """True when the module defining the type imports only typing helpers at run time."""
    path = ROOT / "src" / Path(*module.split("."))
    path = path.with_suffix(".py")
    if not path.exists():
        return False
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:  # module level only: imports under `if TYPE_CHECKING:` do not run
        if isinstance(node, ast.Import):
            if not all(SAFE_RUNTIME_IMPORTS.match(a.name) for a in node.names):
                return False
        elif isinstance(node, ast.ImportFrom) and (node.level or not SAFE_RUNTIME_IMPORTS.match(node.module or "")):
            return False
    return True


def code_spans(source: str) -> list[tuple[int, int]]:
    """Character ranges of strings and comments (where a pattern must not be rewritten)."""
    offsets = line_offsets(source)
    ranges = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (tokenize.STRING, tokenize.COMMENT):
            (sl, sc), (el, ec) = tok.start, tok.end
            ranges.append((offsets[sl - 1] + sc, offsets[el - 1] + ec))
    return ranges


def rewrite_predicates(source: str) -> tuple[str, list[tuple[int, str, str]]]:
    """Replaces the untyped checks of PREDICATES outside strings and comments. Returns the new
    source and (line, old, new) for each replacement."""
    done: list[tuple[int, str, str]] = []
    for pattern, replacement, _helper in PREDICATES:
        skip = code_spans(source)
        pieces, last = [], 0
        for match in pattern.finditer(source):
            if any(a <= match.start() < b for a, b in skip):
                continue
            pieces.append(source[last : match.start()] + replacement)
            last = match.end()
            done.append((source.count("\n", 0, match.start()) + 1, match.group(0), replacement))
        source = "".join(pieces) + source[last:]
    return source, done


def _sorted_names(names: set[str]) -> str:
    return ", ".join(sorted(names, key=lambda n: (not n[0].isupper(), n)))  # as ruff's isort orders them


def _module_imports(tree: ast.Module) -> tuple[list[ast.ImportFrom], list[ast.ImportFrom]]:
    """Module-level `from … import …` statements: those that run, and those under `if TYPE_CHECKING:`."""
    runtime = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.level == 0]
    checking = [
        n
        for block in tree.body
        if isinstance(block, ast.If) and ast.unparse(block.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
        for n in block.body
        if isinstance(n, ast.ImportFrom) and n.level == 0
    ]
    return runtime, checking


def ensure_imports(
    source: str, module: str, type_names: list[str], runtime_names: list[str], *, type_checking: bool
) -> tuple[str, list[str]]:
    """Imports the names from `module`. `type_names` only appear in annotations: a run-time or a
    TYPE_CHECKING import will do (the latter when `type_checking`); `runtime_names` (the
    predicates) are called, so they need a run-time import. A name is added to an existing
    module-level `from module import …` of the right kind when there is one. Returns the source
    and the names added."""
    tree = ast.parse(source)
    runtime, checking = _module_imports(tree)
    at_runtime = {a.asname or a.name for n in runtime if n.module == module for a in n.names}
    for_checker = {a.asname or a.name for n in checking if n.module == module for a in n.names}
    need_runtime = {n for n in runtime_names if n not in at_runtime}
    need_types = {n for n in type_names if n not in at_runtime | for_checker}
    if type_checking:
        groups = [(need_runtime, runtime, False), (need_types, checking, True)]
    else:
        groups = [(need_runtime | need_types, runtime, False)]
    added: list[str] = []
    for names, statements, under_type_checking in groups:
        if not names:
            continue
        added += sorted(names)
        existing = next((n for n in statements if n.module == module), None)
        if existing is not None:
            offsets = line_offsets(source)
            start, end = span(existing, offsets, source)
            present = {a.name + (f" as {a.asname}" if a.asname else "") for a in existing.names}
            source = source[:start] + f"from {module} import {_sorted_names(present | names)}" + source[end:]
        else:
            source = add_import(source, module, _sorted_names(names), type_checking=under_type_checking)
        tree = ast.parse(source)
        runtime, checking = _module_imports(tree)
    return source, added


def convert(path: Path, report: Report, safe: dict[str, bool]) -> str | None:
    """The new source of one module, or None when nothing changes."""
    return convert_source(path.relative_to(SRC).as_posix(), path.read_text(encoding="utf-8"), report, safe)


def convert_source(relpath: str, source: str, report: Report, safe: dict[str, bool]) -> str | None:
    """`convert` for a module's text; `relpath` is its path below src/leitplanke (it decides the layer)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        report.undecided.append(f"{relpath}: not parsed ({exc}); left alone")
        return None
    module, name = type_for(relpath)
    app = relpath.split("/", 1)[0] if "/" in relpath else ""
    dotted = "leitplanke." + relpath.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    offsets = line_offsets(source)
    targets: list[ast.arg] = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        args = node.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            if arg.arg not in PARAM_NAMES:
                continue
            where = f"{relpath}:{arg.lineno} {getattr(node, 'name', '<lambda>')}({arg.arg})"
            if arg.annotation is None:
                if not isinstance(node, ast.Lambda):
                    report.undecided.append(f"{where}: no annotation; left alone")
                continue
            if is_any_annotation(arg.annotation):
                targets.append(arg)
            else:
                text = ast.unparse(arg.annotation)
                if text not in (CORE_TYPE[1], APP_TYPE[1]):
                    report.undecided.append(f"{where}: annotated `{text}`; left alone")
    bound = imported_names(tree)
    if targets and (name in defined_names(tree) or (name in bound and bound[name] != module)):
        report.undecided.append(
            f"{relpath}: the module has its own `{name}` ({bound.get(name, 'defined here')}); {len(targets)} place(s) left alone"
        )
        targets = []
    broken = forbidden_by_contracts(dotted, module) if targets else None
    if broken:
        report.undecided.append(
            f"{relpath}: importing {module} would break the import-linter contract “{broken}”; "
            f"{len(targets)} place(s) left `Any` (type them with a protocol of their own)"
        )
        targets = []
    if targets and app and app not in KNOWN_APPS:
        report.notes.append(f"{relpath}: app `{app}` is not in the layer table; used `{name}` from {module} — check its layer")
    new = source
    spans = sorted((span(a.annotation, offsets, source) for a in targets if a.annotation is not None), reverse=True)
    for start, end in spans:
        new = new[:start] + name + new[end:]
    needed: list[str] = []
    if targets:
        lines = ", ".join(str(a.lineno) for a in sorted(targets, key=lambda a: a.lineno))
        report.changed.append(f"{relpath}: {len(targets)} × actor → {name} (lines {lines})")
        needed.append(name)
    if module == APP_TYPE[0]:
        new, replaced = rewrite_predicates(new)
        for line, old, replacement in replaced:
            report.changed.append(f"{relpath}:{line}: `{old}` → `{replacement}`")
        needed += sorted({helper for _p, replacement, helper in PREDICATES if any(r == replacement for *_x, r in replaced)})
    if new == source:
        return None
    type_checking = not safe[module]
    helpers = [n for n in needed if n != name]
    new, added = ensure_imports(new, module, [name] if name in needed else [], helpers, type_checking=type_checking)
    if added and type_checking:
        report.notes.append(f"{relpath}: {module} imports more than typing at run time; `{name}` imported under TYPE_CHECKING")
        if [n for n in added if n != name]:
            report.undecided.append(
                f"{relpath}: the predicates need a run-time import of {module}, which imports more than typing: check for a cycle"
            )
    for typing_name in ("Any", "Optional", "Union"):  # what the old annotations needed
        new_tree = ast.parse(new)
        if imported_names(new_tree).get(typing_name) == "typing" and not uses_name(new_tree, new, typing_name):
            new, removed = remove_typing_name(new, typing_name)
            if removed:
                report.changed.append(f"{relpath}: unused `from typing import {typing_name}` removed")
    if not has_future_annotations(ast.parse(new)):
        # The aliases are strings at run time ("User | AnonymousUser | None"); annotations must
        # not be evaluated when the module is imported.
        new = insert_line_after_docstring(new, ast.parse(new), "from __future__ import annotations")
        report.changed.append(f"{relpath}: `from __future__ import annotations` added")
    ast.parse(new)  # never write a module that does not parse
    return new


def tokenize_ok(source: str) -> bool:
    try:
        list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="files or folders (default: src/leitplanke)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when something would change")
    parser.add_argument("--diff", action="store_true", help="print a diff instead of writing")
    parser.add_argument("--no-ruff", action="store_true", help="do not run ruff on the changed files")
    args = parser.parse_args(argv)

    roots = [p.resolve() for p in args.paths] or [SRC]
    files: list[Path] = []
    for root in roots:
        files.extend(sorted(root.rglob("*.py")) if root.is_dir() else [root])
    files = [
        f for f in files if "migrations" not in f.relative_to(SRC).parts and f.relative_to(SRC).as_posix() not in DEFINING_MODULES
    ]
    safe = {module: runtime_import_is_safe(module) for module, _ in (CORE_TYPE, APP_TYPE)}
    report = Report()
    written: list[Path] = []
    for path in files:
        new = convert(path, report, safe)
        if new is None:
            continue
        if not tokenize_ok(new):
            report.undecided.append(f"{path.relative_to(SRC)}: the rewrite did not tokenize; left alone")
            continue
        if args.diff:
            old = path.read_text(encoding="utf-8")
            rel = path.relative_to(ROOT).as_posix()
            sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"a/{rel}", f"b/{rel}"))
        elif not args.check:
            path.write_text(new, encoding="utf-8")
            written.append(path)

    ruff = ROOT / ".venv" / "bin" / "ruff"
    if written and not args.no_ruff and ruff.exists():
        names = [str(p) for p in written]
        subprocess.run([str(ruff), "check", "--quiet", "--select", "I", "--fix", *names], check=False)  # noqa: S603
        subprocess.run([str(ruff), "format", "--quiet", *names], check=False)  # noqa: S603

    verb = "would change" if (args.check or args.diff) else "changed"
    modules = {c.split(":", 1)[0] for c in report.changed}
    print(f"actor_types: {verb} {len(modules)} module(s)")
    for line in report.changed:
        print(f"  {verb}: {line}")
    for line in report.notes:
        print(f"  note: {line}")
    for line in report.undecided:
        print(f"  undecided: {line}")
    if not report.changed:
        print("  nothing to do (idempotent: `actor: Any` is gone)")
    return 1 if (args.check and report.changed) else 0


if __name__ == "__main__":
    sys.exit(main())
