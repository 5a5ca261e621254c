#!/usr/bin/env python3
"""Check the German message catalogue for completeness and placeholder consistency.

Usage: python scripts/check_translations.py [path/to/django.po]

Reports entries with an empty msgstr, entries marked fuzzy, python-format placeholders that
are missing from the translation, and (if django.mo exists next to the .po) entries where
the compiled catalogue disagrees with the .po (i.e. compilemessages was not re-run).
Exit status 1 if anything is wrong. Uses only the standard library.
"""

from __future__ import annotations

import ast
import gettext
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PO = Path(__file__).resolve().parents[1] / "src/leitplanke/locale/de/LC_MESSAGES/django.po"

# %(name)s, %s, %d, %0.2f ... but not a literal "%%".
PYTHON_FORMAT_RE = re.compile(r"%(?:\([^)]+\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")
BRACE_RE = re.compile(r"\{\{?\s*[\w.]+\s*\}?\}")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)  # raw comment lines, kept for rewriting
    lineno: int = 0

    @property
    def translations(self) -> list[str]:
        if self.msgid_plural is not None:
            return [self.msgstr_plural[k] for k in sorted(self.msgstr_plural)]
        return [self.msgstr]

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None


def _unquote(text: str) -> str:
    return ast.literal_eval(text)


def parse_po(path: Path | str) -> list[Entry]:
    """Parse a .po file (msgctxt, multi-line strings, plurals; obsolete #~ entries skipped)."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None
    seen_string = False

    def finish() -> None:
        nonlocal current, seen_string
        if current is not None and seen_string:
            entries.append(current)
        current, seen_string = None, False

    for lineno, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#"):
            if seen_string:
                finish()
            if current is None:
                current = Entry(lineno=lineno)
            current.comments.append(raw)
            if line.startswith("#,"):
                current.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
            elif line.startswith("#:"):
                current.references.extend(line[2:].split())
            continue
        if current is None:
            current = Entry(lineno=lineno)
        match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")$", line)
        if match:
            keyword, index, literal = match.group(1), match.group(2), match.group(3)
            if keyword == "msgctxt" and seen_string:
                finish()
                current = Entry(lineno=lineno)
            if keyword == "msgid" and seen_string and current.msgctxt is None:
                finish()
                current = Entry(lineno=lineno)
            seen_string = True
            if current.lineno == 0:
                current.lineno = lineno
            value = _unquote(literal)
            if index is not None:
                target = ("msgstr_plural", int(index))
                current.msgstr_plural[int(index)] = value
            else:
                target = (keyword, None)
                setattr(current, keyword, value)
            continue
        if line.startswith('"') and current is not None and target is not None:
            value = _unquote(line)
            name, index = target
            if name == "msgstr_plural":
                current.msgstr_plural[index] += value  # type: ignore[index]
            else:
                setattr(current, name, (getattr(current, name) or "") + value)
            continue
        raise ValueError(f"{path}:{lineno}: cannot parse line: {raw!r}")
    finish()
    return entries


def placeholders(text: str, brace: bool = False) -> list[str]:
    found = [p for p in PYTHON_FORMAT_RE.findall(text) if p != "%%"]
    if brace:
        found += BRACE_RE.findall(text)
    return sorted(found)


def check(po_path: Path) -> list[str]:
    problems: list[str] = []
    entries = [e for e in parse_po(po_path) if not e.is_header]
    for e in entries:
        where = f"{po_path.name}:{e.lineno} {e.msgid[:60]!r}"
        if "fuzzy" in e.flags:
            problems.append(f"{where}: marked fuzzy")
        if e.msgid_plural is not None and len(e.msgstr_plural) < 2:
            problems.append(f"{where}: plural entry needs msgstr[0] and msgstr[1]")
        if any(not t.strip() for t in e.translations):
            problems.append(f"{where}: empty msgstr")
            continue
        if "python-format" in e.flags:
            sources = [e.msgid] + ([e.msgid_plural] if e.msgid_plural else [])
            wanted = set().union(*(set(placeholders(s)) for s in sources))
            for t in e.translations:
                named = {p for p in wanted if p.startswith("%(")}
                missing = {p for p in named if p not in t}
                # positional %s/%d must match in number and order
                if [p for p in placeholders(e.msgid) if not p.startswith("%(")] and e.msgid_plural is None:
                    pos_src = [p for p in PYTHON_FORMAT_RE.findall(e.msgid) if not p.startswith("%(") and p != "%%"]
                    pos_dst = [p for p in PYTHON_FORMAT_RE.findall(t) if not p.startswith("%(") and p != "%%"]
                    if pos_src != pos_dst:
                        problems.append(f"{where}: positional placeholders {pos_src} != {pos_dst}")
                if missing:
                    problems.append(f"{where}: placeholder(s) {sorted(missing)} missing in {t!r}")
        for t in e.translations:
            src_tags = sorted(re.findall(r"</?[a-zA-Z][^>]*>", e.msgid))
            dst_tags = sorted(re.findall(r"</?[a-zA-Z][^>]*>", t))
            if src_tags != dst_tags:
                problems.append(f"{where}: HTML tags differ: {src_tags} vs {dst_tags}")
    mo_path = po_path.with_suffix(".mo")
    if mo_path.exists():
        with mo_path.open("rb") as fh:
            catalog = gettext.GNUTranslations(fh)
        for e in entries:
            if "fuzzy" in e.flags:
                continue
            if e.msgid_plural is not None:
                got = [
                    catalog.npgettext(e.msgctxt, e.msgid, e.msgid_plural, n)
                    if e.msgctxt
                    else catalog.ngettext(e.msgid, e.msgid_plural, n)
                    for n in (1, 2)
                ]
                want = [e.msgstr_plural.get(0), e.msgstr_plural.get(1)]
            else:
                got = [catalog.pgettext(e.msgctxt, e.msgid) if e.msgctxt else catalog.gettext(e.msgid)]
                want = [e.msgstr]
            if got != want:
                problems.append(f"{mo_path.name}: {e.msgid[:60]!r} compiled as {got!r}, .po says {want!r} (run compilemessages)")
    else:
        problems.append(f"{mo_path} missing (run compilemessages)")
    return problems


def main(argv: list[str]) -> int:
    po_path = Path(argv[1]) if len(argv) > 1 else DEFAULT_PO
    problems = check(po_path)
    entries = [e for e in parse_po(po_path) if not e.is_header]
    for p in problems:
        print(p)
    print(f"{len(entries)} entries, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
