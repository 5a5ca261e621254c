"""`leitplanke mail import`: one line per message, and an exit code scripts can trust."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.intake.test_customer_mail import IPHONE_SCAN_ONLY, gmail

pytestmark = pytest.mark.django_db


def run(path: Path) -> tuple[int, list[str], str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("leitplanke_mail", "import", str(path), stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return code, out.getvalue().splitlines(), err.getvalue()


def test_each_message_gets_a_line_and_success_exits_zero(tmp_path: Path) -> None:
    first = gmail(subject="Erste Beschwerde")
    (tmp_path / "1.eml").write_bytes(first)
    (tmp_path / "2.eml").write_bytes(first)
    (tmp_path / "3.eml").write_bytes(IPHONE_SCAN_ONLY)
    code, lines, _err = run(tmp_path)
    assert code == 0
    assert len(lines) == 4 and lines[-1].startswith("Imported 3 messages")
    assert "new_case" in lines[0] and "LP-" in lines[0] and "erika@example.de" in lines[0] and "'Erste Beschwerde'" in lines[0]
    assert "duplicate" in lines[1] and "(duplicate)" in lines[1]
    assert "new_case" in lines[2] and "m.schulz@example.de" in lines[2]


def test_a_quarantined_message_makes_the_import_fail(tmp_path: Path) -> None:
    (tmp_path / "good.eml").write_bytes(gmail())
    (tmp_path / "junk.eml").write_bytes(b"\x00\x01 no e-mail at all")
    code, lines, err = run(tmp_path)
    assert code == 1
    assert any("quarantined" in line and "(no_header)" in line for line in lines)
    assert "1 message(s) quarantined" in err


def test_importing_nothing_fails(tmp_path: Path) -> None:
    code, lines, err = run(tmp_path)
    assert code == 1 and lines == ["Imported 0 messages in 0.0 s (0/s): nothing"]
    assert "Nothing was imported." in err
