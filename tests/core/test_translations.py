"""The German catalogue is complete, consistent with its placeholders, compiled, and used.

The .po parser is deliberately tiny and lives here so the test does not depend on polib or on
GNU gettext being installed (fresh machines have neither; the compiled .mo is committed).
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

import leitplanke

LOCALE_DIR = Path(leitplanke.__file__).resolve().parent / "locale"
PO_PATH = LOCALE_DIR / "de" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")

# Named (%(name)s) and positional (%s, %d, %.2f) Python placeholders; "%%" is a literal percent sign.
PLACEHOLDER_RE = re.compile(r"%(?:\([^)]+\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")


@dataclass
class PoEntry:
    lineno: int
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # index 0 for non-plural entries
    flags: set[str] = field(default_factory=set)

    def __str__(self) -> str:
        return f"django.po:{self.lineno} {self.msgid[:70]!r}"


def parse_po(path: Path) -> list[PoEntry]:
    """Entries of a .po file, header excluded; multi-line strings, msgctxt and plurals supported."""
    entries: list[PoEntry] = []
    entry: PoEntry | None = None
    field_name: tuple[str, int] | None = None
    has_strings = False

    def close() -> None:
        nonlocal entry, has_strings, field_name
        if entry is not None and has_strings:
            entries.append(entry)
        entry, has_strings, field_name = None, False, None

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):  # blank line ends an entry; obsolete entries are ignored
            if not line:
                close()
            continue
        if line.startswith("#"):
            if has_strings:
                close()
            entry = entry or PoEntry(lineno)
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            continue
        keyword = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")$", line)
        if keyword:
            name, index, literal = keyword.groups()
            if entry is None or (name in ("msgctxt", "msgid") and field_name is not None and field_name[0] == "msgstr"):
                close()
                entry = PoEntry(lineno)
            has_strings = True
            value = ast.literal_eval(literal)
            if name.startswith("msgstr"):
                field_name = ("msgstr", int(index or 0))
                entry.msgstr[field_name[1]] = value
            else:
                field_name = (name, 0)
                setattr(entry, name, value)
            continue
        assert line.startswith('"') and entry is not None and field_name is not None, f"django.po:{lineno}: {raw!r}"
        value = ast.literal_eval(line)
        if field_name[0] == "msgstr":
            entry.msgstr[field_name[1]] += value
        else:
            setattr(entry, field_name[0], (getattr(entry, field_name[0]) or "") + value)
    close()
    return [e for e in entries if not (e.msgid == "" and e.msgctxt is None)]


@pytest.fixture(scope="module")
def entries() -> list[PoEntry]:
    parsed = parse_po(PO_PATH)
    assert len(parsed) > 100, "the German catalogue looks truncated"
    return parsed


def test_parser_handles_multiline_strings_and_plurals(tmp_path: Path) -> None:
    po = tmp_path / "sample.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: de\\n"\n\n'
        '#: a.py:1\n#, python-format\nmsgid ""\n"Hello %(name)s,\\n"\n"second line"\n'
        'msgstr ""\n"Hallo %(name)s,\\n"\n"zweite Zeile"\n\n'
        'msgid "%(n)s case"\nmsgid_plural "%(n)s cases"\nmsgstr[0] "%(n)s Vorgang"\nmsgstr[1] "%(n)s Vorgänge"\n\n'
        'msgctxt "nav"\nmsgid "Start"\nmsgstr "Startseite"\n',
        encoding="utf-8",
    )
    first, plural, ctx = parse_po(po)
    assert first.msgid == "Hello %(name)s,\nsecond line" and first.msgstr == {0: "Hallo %(name)s,\nzweite Zeile"}
    assert "python-format" in first.flags
    assert plural.msgid_plural == "%(n)s cases" and plural.msgstr == {0: "%(n)s Vorgang", 1: "%(n)s Vorgänge"}
    assert ctx.msgctxt == "nav" and ctx.msgstr == {0: "Startseite"}


def test_header_declares_german_utf8_and_plural_forms() -> None:
    header = PO_PATH.read_text(encoding="utf-8").split("\n\n", 1)[0]
    assert '"Language: de\\n"' in header
    assert "charset=UTF-8" in header
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header
    assert "#, fuzzy" not in header


def test_no_entry_is_untranslated(entries: list[PoEntry]) -> None:
    empty = [str(e) for e in entries if not e.msgstr or any(not text.strip() for text in e.msgstr.values())]
    assert not empty, "untranslated entries:\n" + "\n".join(empty)


def test_plural_entries_have_both_forms(entries: list[PoEntry]) -> None:
    incomplete = [str(e) for e in entries if e.msgid_plural is not None and sorted(e.msgstr) != [0, 1]]
    assert not incomplete, "plural entries need msgstr[0] and msgstr[1]:\n" + "\n".join(incomplete)


def test_no_entry_is_fuzzy(entries: list[PoEntry]) -> None:
    fuzzy = [str(e) for e in entries if "fuzzy" in e.flags]
    assert not fuzzy, "fuzzy entries (check the translation, then remove the flag):\n" + "\n".join(fuzzy)


def test_python_format_placeholders_are_kept(entries: list[PoEntry]) -> None:
    problems = []
    for e in entries:
        if "python-format" not in e.flags:
            continue
        sources = [e.msgid] + ([e.msgid_plural] if e.msgid_plural else [])
        named = {p for s in sources for p in PLACEHOLDER_RE.findall(s) if p.startswith("%(")}
        positional = [p for p in PLACEHOLDER_RE.findall(e.msgid) if not p.startswith("%(") and p != "%%"]
        for text in e.msgstr.values():
            missing = sorted(p for p in named if p not in text)
            if missing:
                problems.append(f"{e}: {missing} missing in {text!r}")
            translated_positional = [p for p in PLACEHOLDER_RE.findall(text) if not p.startswith("%(") and p != "%%"]
            if positional and translated_positional != positional:
                problems.append(f"{e}: positional placeholders {positional} became {translated_positional}")
            unknown = sorted({p for p in PLACEHOLDER_RE.findall(text) if p.startswith("%(")} - named)
            if unknown:
                problems.append(f"{e}: unknown placeholder(s) {unknown} in {text!r}")
    assert not problems, "\n".join(problems)


def test_html_tags_are_kept(entries: list[PoEntry]) -> None:
    tag = re.compile(r"</?[a-zA-Z][^>]*>")
    problems = [
        f"{e}: {text!r}"
        for e in entries
        for text in e.msgstr.values()
        if sorted(tag.findall(e.msgid)) != sorted(tag.findall(text))
    ]
    assert not problems, "HTML tags differ between msgid and msgstr:\n" + "\n".join(problems)


def test_compiled_catalogue_matches_po(entries: list[PoEntry]) -> None:
    """django.mo is what Django reads: every entry must compile to the .po's current translation."""
    assert MO_PATH.exists(), "django.mo is missing: run manage.py compilemessages"
    with MO_PATH.open("rb") as fh:
        catalogue = gettext.GNUTranslations(fh)
    assert catalogue.info().get("language") == "de"
    stale = []
    for e in entries:
        if e.msgid_plural is not None:
            for n, index in ((1, 0), (2, 1)):
                got = (
                    catalogue.npgettext(e.msgctxt, e.msgid, e.msgid_plural, n)
                    if e.msgctxt
                    else catalogue.ngettext(e.msgid, e.msgid_plural, n)
                )
                if got != e.msgstr.get(index):
                    stale.append(f"{e} (n={n}): .mo has {got!r}, .po has {e.msgstr.get(index)!r}")
        else:
            got = catalogue.pgettext(e.msgctxt, e.msgid) if e.msgctxt else catalogue.gettext(e.msgid)
            if got != e.msgstr.get(0):
                stale.append(f"{e}: .mo has {got!r}, .po has {e.msgstr.get(0)!r}")
    assert not stale, "django.mo is out of date; run manage.py compilemessages:\n" + "\n".join(stale[:30])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept_language", "expected", "unexpected"),
    [("de-DE,de;q=0.9", "Anmelden", "Log in"), ("en-GB,en;q=0.9", "Log in", "Anmelden")],
)
def test_login_page_follows_browser_language(accept_language: str, expected: str, unexpected: str) -> None:
    response = Client().get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE=accept_language)
    assert response.status_code == 200
    html = response.content.decode()
    assert expected in html
    assert f">{unexpected}<" not in html
    assert response["Content-Language"] == accept_language[:2]
