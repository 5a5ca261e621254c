"""Tests for leitplanke.intake.mailparse – pure Python, no database, no Django settings needed."""

from __future__ import annotations

import contextlib
import json
import mailbox
import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leitplanke.intake.mailparse import (
    ParsedMessage,
    UnparseableMessage,
    decode_header_value,
    find_reference_tokens,
    html_to_text,
    iter_eml_paths,
    iter_maildir,
    iter_mbox,
    make_safe_filename,
    normalise_message_id,
    parse_message,
    sanitise_html,
)

pytestmark: list[Any] = []

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
EXPECTATIONS: dict[str, dict[str, Any]] = json.loads((HERE / "expectations.json").read_text(encoding="utf-8"))
CORPUS_FILES = sorted(p.name for p in CORPUS.glob("*.eml"))


def _load(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _assert_clean_str(value: str) -> None:
    assert not any("\ud800" <= ch <= "\udfff" for ch in value), f"surrogates in {value!r}"


# ---------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------


def test_corpus_is_complete() -> None:
    assert len(CORPUS_FILES) >= 45
    assert set(CORPUS_FILES) == set(EXPECTATIONS), "every corpus file needs an expectation (and vice versa)"
    crlf = [n for n in CORPUS_FILES if b"\r\n" in _load(n)]
    assert len(crlf) >= 3


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_message(name: str) -> None:
    expected = EXPECTATIONS[name]
    raw = _load(name)
    if expected.get("unparseable"):
        with pytest.raises(UnparseableMessage) as excinfo:
            parse_message(raw)
        assert excinfo.value.reason
        return

    msg = parse_message(raw)
    assert isinstance(msg, ParsedMessage)
    for text in (msg.subject, msg.text_body, msg.html_body_sanitised, msg.from_name or ""):
        _assert_clean_str(text)

    assert msg.is_auto_reply is expected["is_auto_reply"], msg.auto_reason
    assert msg.is_bounce is expected["is_bounce"], msg.auto_reason
    assert expected["subject_contains"] in msg.subject
    assert msg.from_address == expected["from_address"]
    assert len(msg.attachments) == expected["attachments"], [a.safe_filename for a in msg.attachments]
    for snippet in _as_list(expected["text_contains"]):
        assert snippet in msg.text_body, f"{snippet!r} not in {msg.text_body!r}"
    for snippet in expected.get("text_not_contains", []):
        assert snippet not in msg.text_body
    for snippet in expected.get("html_contains", []):
        assert snippet in msg.html_body_sanitised, f"{snippet!r} not in {msg.html_body_sanitised!r}"
    for snippet in expected.get("html_not_contains", []):
        assert snippet.lower() not in msg.html_body_sanitised.lower(), snippet

    if "from_name" in expected:
        assert msg.from_name == expected["from_name"]
    if "message_id" in expected:
        assert msg.message_id == expected["message_id"]
    if "in_reply_to" in expected:
        assert msg.in_reply_to == expected["in_reply_to"]
    if "references" in expected:
        assert msg.references == expected["references"]
    if "reference_tokens" in expected:
        assert find_reference_tokens(msg.subject) == expected["reference_tokens"]
        assert msg.reference_tokens == expected["reference_tokens"]
    if "cc" in expected:
        assert msg.cc_addresses == expected["cc"]
    if "bounce_original_message_id" in expected:
        assert msg.bounce_original_message_id == expected["bounce_original_message_id"]
    if "auto_reason_contains" in expected:
        assert expected["auto_reason_contains"].lower() in (msg.auto_reason or "").lower()
    if expected.get("date_is_none"):
        assert msg.date is None
    elif msg.date is not None:
        assert msg.date.tzinfo is not None
    if "charset_problems" in expected:
        assert len(msg.charset_problems) == expected["charset_problems"], msg.charset_problems
    if "charset_problems_min" in expected:
        assert len(msg.charset_problems) >= expected["charset_problems_min"], msg.charset_problems
    if "charset_problems_contains" in expected:
        assert any(expected["charset_problems_contains"] in p for p in msg.charset_problems), msg.charset_problems
    if "dropped_count" in expected:
        assert len(msg.dropped) == expected["dropped_count"], msg.dropped
    if "attachment_names" in expected:
        for att, name_ in zip(msg.attachments, expected["attachment_names"], strict=True):
            if name_ is not None:
                assert att.safe_filename == name_
    if "original_filenames" in expected:
        assert [a.original_filename for a in msg.attachments] == expected["original_filenames"]
    if "attachment_types" in expected:
        assert [a.content_type for a in msg.attachments] == expected["attachment_types"]
    if "inline" in expected:
        assert [a.is_inline for a in msg.attachments] == expected["inline"]
    if "content_ids" in expected:
        assert [a.content_id for a in msg.attachments] == expected["content_ids"]
    for att, snippets in zip(msg.attachments, expected.get("attachment_contains", []), strict=False):
        for snippet in snippets:
            assert snippet.encode() in att.content

    for att in msg.attachments:
        assert att.size == len(att.content)
        _check_safe_filename(att.safe_filename)
    assert len({a.safe_filename.lower() for a in msg.attachments}) == len(msg.attachments)
    assert msg.headers_summary.get("received-count") is not None


def test_duplicate_message_ids_are_equal() -> None:
    a = parse_message(_load("32-duplicate-message-id-a.eml"))
    b = parse_message(_load("33-duplicate-message-id-b.eml"))
    assert a.message_id == b.message_id == "DUP-4711@Example.COM"
    assert a.text_body != b.text_body


def test_outlook_message_details() -> None:
    msg = parse_message(_load("01-outlook-html-mso-threadindex.eml"))
    assert msg.date == datetime.fromisoformat("2026-11-23T07:12:35+00:00")
    assert msg.to_addresses == ["beschwerde@stadtwerke-beispiel.de"]
    assert msg.headers_summary["thread-index"].startswith("AdrcPq0L")
    assert msg.charset_problems == []


def test_every_corpus_file_parses_with_tiny_limits() -> None:
    """Limits must never make the parser raise."""
    for name in CORPUS_FILES:
        if EXPECTATIONS[name].get("unparseable"):
            continue
        msg = parse_message(_load(name), max_message_bytes=600, max_attachment_bytes=10, max_attachments=1)
        assert len(msg.attachments) <= 1
        assert isinstance(msg.subject, str)


# ---------------------------------------------------------------------------
# Sanitising and HTML → text
# ---------------------------------------------------------------------------

HOSTILE = """<p onclick="x()">Hi <a href="javascript:alert(1)">a</a><a href=" JAVASCRIPT:alert(1)">b</a>
<a href="https://ok.example/" target="_blank">ok</a><img src="http://t.example/p.gif"><img src="cid:abc@x">
<img src="data:image/png;base64,AAAA"><script>alert(1)</script><style>*{x:expression(1)}</style>
<iframe srcdoc="<script>1</script>"></iframe><form><input></form><math><mi xlink:href="javascript:1">x</mi></math>
<div style="background:url(javascript:1)" class="btn" id="main">d</div><base href="https://evil/">
<a href="&#106;avascript:alert(1)">c</a><svg><a xlink:href="javascript:1">s</a></svg></p>"""


def test_sanitise_removes_active_content() -> None:
    clean = sanitise_html(HOSTILE)
    lowered = clean.lower()
    for bad in (
        "<script",
        "<style",
        "<iframe",
        "<form",
        "<input",
        "<svg",
        "<math",
        "<base",
        "javascript",
        "expression",
        "http://t.example",
        "data:",
        "style=",
        "class=",
        "id=",
        "target=",
    ):
        assert bad not in lowered, bad
    assert not re.search(r"\son\w+\s*=", lowered)
    assert 'href="https://ok.example/"' in clean
    assert 'rel="noopener noreferrer nofollow"' in clean
    assert 'src="cid:abc@x"' in clean


def test_sanitise_empty() -> None:
    assert sanitise_html("") == ""
    assert sanitise_html("   ") == ""


def test_html_to_text_line_breaks_and_entities() -> None:
    text = html_to_text(
        "<div>A<br>B</div><p>C &amp; D&nbsp;E</p><ul><li>x</li><li>y</li></ul><style>.a{}</style><script>s()</script>F&#8364;"
    )
    assert text == "A\nB\n\nC & D E\n\n- x\n- y\n\nF€"


@given(st.text(max_size=300))
@settings(max_examples=150, deadline=None)
def test_html_to_text_and_sanitise_never_crash(markup: str) -> None:
    assert isinstance(html_to_text(markup), str)
    cleaned = sanitise_html(markup)
    assert "<script" not in cleaned.lower()


# ---------------------------------------------------------------------------
# Filenames
# ---------------------------------------------------------------------------


def _check_safe_filename(name: str) -> None:
    assert name
    assert len(name) <= 100
    assert len(name.encode("utf-8")) <= 200
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert not name.startswith(".")
    assert name == name.strip()
    for ch in name:
        assert unicodedata.category(ch)[0] != "C", repr(ch)
        assert unicodedata.category(ch) not in ("Zl", "Zp")


@given(st.text(max_size=400), st.integers(min_value=1, max_value=999))
@settings(max_examples=400, deadline=None)
def test_safe_filename_property(name: str, index: int) -> None:
    _check_safe_filename(make_safe_filename(name, index))


@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    st.sampled_from(["application/pdf", "image/png", "application/octet-stream", "text/plain", "x/unknown"]),
)
@settings(max_examples=200, deadline=None)
def test_safe_filename_property_with_types(name: str, ctype: str) -> None:
    _check_safe_filename(make_safe_filename(name, 3, ctype))


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Windows\\evil.exe", "evil.exe"),
        ("", "attachment-7.bin"),
        (None, "attachment-7.bin"),
        ("...", "attachment-7.bin"),
        (".bashrc", "bashrc"),
        ("bad\x00name\n\rinjected:.txt", "badnameinjected_.txt"),
        ("Rechnung\u202efdp.exe", "Rechnungfdp.exe"),
        ("Ärger.pdf", "Ärger.pdf"),
        ("CON", "_CON"),
        ("aux.txt", "_aux.txt"),
        ("a" * 300 + ".pdf", "a" * 96 + ".pdf"),
        ("report.", "report"),
        ("  spaced   name .pdf ", "spaced name.pdf"),
    ],
)
def test_safe_filename_examples(original: str | None, expected: str) -> None:
    assert make_safe_filename(original, 7) == expected


def test_safe_filename_uses_content_type_extension() -> None:
    assert make_safe_filename(None, 2, "image/png") == "attachment-2.png"
    assert make_safe_filename("Rechnung", 2, "application/pdf") == "Rechnung.pdf"
    assert make_safe_filename("Rechnung", 2, "application/octet-stream") == "Rechnung"
    assert len(make_safe_filename("語" * 150 + ".pdf", 1).encode("utf-8")) <= 200


def test_hostile_names_are_kept_as_data() -> None:
    msg = parse_message(_load("29-hostile-attachment-names.eml"))
    long_att = msg.attachments[2]
    assert len(long_att.original_filename or "") > 300
    assert len(long_att.safe_filename) == 100 and long_att.safe_filename.endswith(".pdf")
    assert msg.attachments[4].original_filename == "bad\ufffdname\n\rinjected:.txt"  # NUL cannot be stored
    assert msg.attachments[4].safe_filename == "badnameinjected_.txt"


def test_duplicate_attachment_names_are_made_unique() -> None:
    raw = (
        b"From: a@example.com\nSubject: dup\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
        b"--b\nContent-Type: text/plain\n\nx\n"
        b"--b\nContent-Type: image/png\nContent-Disposition: attachment; filename=image.png\n\nA\n"
        b"--b\nContent-Type: image/png\nContent-Disposition: attachment; filename=IMAGE.png\n\nB\n--b--\n"
    )
    msg = parse_message(raw)
    assert [a.safe_filename for a in msg.attachments] == ["image.png", "IMAGE-2.png"]


# ---------------------------------------------------------------------------
# Charsets
# ---------------------------------------------------------------------------


def _simple(body: bytes, ctype: str = "text/plain; charset=utf-8", extra: bytes = b"") -> bytes:
    return b"From: a@example.com\nSubject: t\n" + extra + b"Content-Type: " + ctype.encode() + b"\n\n" + body


def test_unknown_charset_falls_back_to_utf8_then_cp1252() -> None:
    msg = parse_message(_simple("Grüße".encode(), "text/plain; charset=x-foo"))
    assert msg.text_body == "Grüße"
    assert msg.charset_problems == ["text/plain body: unknown charset 'x-foo', decoded as utf-8"]
    msg = parse_message(_simple("Grüße".encode("cp1252"), "text/plain; charset=x-foo"))
    assert msg.text_body == "Grüße"
    assert "decoded as cp1252" in msg.charset_problems[0]


def test_wrong_charset_utf8_declared_but_cp1252() -> None:
    msg = parse_message(_simple("„Zähler“ 5 €".encode("cp1252")))
    assert msg.text_body == "„Zähler“ 5 €"
    assert msg.charset_problems == ["text/plain body: not valid utf-8, decoded as cp1252"]


def test_invalid_bytes_are_replaced_not_raised() -> None:
    # valid neither as utf-8 nor as cp1252 (0x81 is undefined in cp1252) and declared as a dangerous codec
    for charset in ("utf-8", "unicode_escape", "rot13", "base64", "idna", ""):
        msg = parse_message(_simple(b"A\x81\xff\xfeB", f"text/plain; charset={charset}" if charset else "text/plain"))
        assert msg.text_body.startswith("A") and msg.text_body.endswith("B")
        _assert_clean_str(msg.text_body)
        assert msg.charset_problems


def test_raw_8bit_headers() -> None:
    raw = "Subject: Zählerstand für Müller\nFrom: Jörg <j@example.com>\n\nx".encode("latin-1")
    msg = parse_message(raw)
    assert msg.subject == "Zählerstand für Müller"
    assert msg.from_name == "Jörg"
    assert msg.charset_problems
    raw = "Subject: Zählerstand für Müller\nFrom: Jörg <j@example.com>\n\nx".encode()
    msg = parse_message(raw)
    assert msg.subject == "Zählerstand für Müller"
    assert msg.charset_problems == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("=?utf-8?B?w4RyZ2Vy?=", "Ärger"),
        ("=?iso-8859-1?Q?Z=E4hler?= kaputt", "Zähler kaputt"),
        ("=?utf-8?Q?a?= =?utf-8?Q?b?=", "ab"),
        ("=?utf-8?B?w4Q=?= x =?utf-8?B?w4Q=?=", "Ä x Ä"),
        # a multi-byte character split across two encoded words (seen from buggy mailers)
        ("=?utf-8?B?ww==?= =?utf-8?B?hHJnZXI=?=", "Ärger"),
        ("=?utf-8?Q?unterminated_=C3=BCber", "=?utf-8?Q?unterminated_=C3=BCber"),
        ("=?UTF-8?Q?Kl=C3=A4rung?=\r\n =?UTF-8?Q?_Termin?=", "Klärung Termin"),
        ("=?unknown-8bit?Q?M=FCller?=", "Müller"),
        ("plain", "plain"),
    ],
)
def test_decode_header_value(raw: str, expected: str) -> None:
    assert decode_header_value(raw) == expected


@given(st.text(max_size=200))
@settings(max_examples=200, deadline=None)
def test_decode_header_value_never_crashes(raw: str) -> None:
    decode_header_value(raw)


# ---------------------------------------------------------------------------
# Limits and dropped notes
# ---------------------------------------------------------------------------


def test_attachment_size_limit() -> None:
    msg = parse_message(_load("55-large-attachment.eml"), max_attachment_bytes=1000)
    assert msg.attachments == []
    assert len(msg.dropped) == 1
    assert "messprotokoll.csv" in msg.dropped[0] and "max_attachment_bytes=1000" in msg.dropped[0]
    assert "Messprotokoll anbei" in msg.text_body


def test_attachment_count_limit() -> None:
    msg = parse_message(_load("30-twenty-five-attachments.eml"))
    assert [a.safe_filename for a in msg.attachments] == [f"Seite_{i:02d}.png" for i in range(1, 21)]
    assert len(msg.dropped) == 5
    assert all("max_attachments=20" in note for note in msg.dropped)
    msg = parse_message(_load("30-twenty-five-attachments.eml"), max_attachments=3)
    assert len(msg.attachments) == 3 and len(msg.dropped) == 22


def test_oversized_message_keeps_headers_and_truncated_text() -> None:
    body = ("Beschwerde über den Zähler. " * 2000).encode()
    raw = (
        b"From: Big <big@example.com>\nSubject: Riesig\nMessage-ID: <big@x>\nMIME-Version: 1.0\n"
        b"Content-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain; charset=utf-8\n\n"
        + body
        + b"\n--zz\nContent-Type: application/pdf; name=a.pdf\nContent-Transfer-Encoding: base64\n\n"
        + b"QUJD\n" * 5000
        + b"--zz--\n"
    )
    msg = parse_message(raw, max_message_bytes=10_000)
    assert msg.truncated
    assert msg.subject == "Riesig" and msg.from_address == "big@example.com" and msg.message_id == "big@x"
    assert msg.text_body.startswith("Beschwerde über den Zähler.")
    assert len(msg.text_body) < 10_000
    assert msg.attachments == []
    assert "exceeds max_message_bytes=10000" in msg.dropped[0]


@pytest.mark.parametrize(
    ("body", "expected_text", "expected_attachments"),
    [
        (b"Content-Type: multipart/mixed\n\nbody without boundary\n", "body without boundary", 0),
        (b"Content-Type: multipart/mixed; boundary=x\n\n--x--\n", "", 0),
        # no text of its own: the enclosed message, or the named text part, is the text
        (
            b"Content-Type: message/rfc822\n\nFrom: b@x\nSubject: inner\n\ninner\n",
            "---------- Forwarded message ----------\nFrom: b@x\nSubject: inner\n\ninner",
            1,
        ),
        (b"Content-Type: text/plain; charset=utf-7\n\nGr+APw-+AN8-e\n", "Gr\u00fc\u00dfe", 0),
        (b"Content-Type: text/html\n\n<meta charset=windows-1252><p>Gr\xfc\xdfe</p>", "Gr\u00fc\u00dfe", 0),
        (b"Content-Type: text/plain; name=notiz.txt\n\nnamed text part\n", "named text part", 1),
        (b"Content-Type: application/pkcs7-mime; name=smime.p7m\nContent-Transfer-Encoding: base64\n\nMIIB\n", "", 1),
    ],
)
def test_unusual_structures(body: bytes, expected_text: str, expected_attachments: int) -> None:
    msg = parse_message(b"From: a@example.com\nSubject: s\nMIME-Version: 1.0\n" + body)
    assert msg.text_body == expected_text
    assert len(msg.attachments) == expected_attachments
    assert msg.charset_problems == []


def test_deep_nesting_does_not_crash() -> None:
    depth = 60
    head = "".join(f"Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n" for i in range(depth))
    tail = "".join(f"\n--b{i}--\n" for i in reversed(range(depth)))
    raw = ("From: a@example.com\nSubject: deep\n" + head + "Content-Type: text/plain\n\ndeep text" + tail).encode()
    msg = parse_message(raw)
    assert msg.subject == "deep"


# ---------------------------------------------------------------------------
# Not an e-mail
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   \r\n\r\n",
        b"\x00\x01\x02\x03binary",
        b"%PDF-1.4\n1 0 obj\n",
        b"PK\x03\x04\x14\x00\x00\x00",
        b"just some text\nwithout headers\n",
        b"Foo: bar\n\nonly an unknown header\n",
        b"\x89PNG\r\n\x1a\n\x00\x00",
        b"From: x@example.com\x00\x00\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\n\nx",
    ],
)
def test_unparseable(raw: bytes) -> None:
    with pytest.raises(UnparseableMessage):
        parse_message(raw)


@given(st.binary(max_size=2000))
@settings(max_examples=300, deadline=None)
def test_random_bytes_never_raise_anything_else(raw: bytes) -> None:
    with contextlib.suppress(UnparseableMessage):
        parse_message(raw)


@given(st.binary(max_size=600))
@settings(max_examples=300, deadline=None)
def test_random_bodies_after_valid_headers_never_raise(body: bytes) -> None:
    raw = (
        b'From: a@example.com\nSubject: fuzz\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Type: text/html; charset=x-weird\nContent-Transfer-Encoding: base64\n\n"
        + body
        + b"\n--b\nContent-Type: application/octet-stream; name*=utf-8''%FF%00\nContent-Transfer-Encoding: quoted-printable\n\n"
        + body
        + b"\n--b--\n"
    )
    msg = parse_message(raw)
    assert msg.subject == "fuzz"
    _assert_clean_str(msg.text_body)


@given(
    st.lists(
        st.sampled_from(
            [
                b"From: ",
                b"To: ",
                b"Subject: ",
                b"Date: ",
                b"Message-ID: ",
                b"References: ",
                b"Content-Type: ",
                b"Reply-To: ",
                b"=?utf-8?B?",
                b"=?x?Q?",
                b"?=",
                b"<",
                b">",
                b"@",
                b",",
                b";",
                b'"',
                b"\n",
                b"\r\n",
                b" ",
                b"\t",
                b"\xff",
                b"\xc3",
                b"multipart/mixed; boundary=",
                b"message/rfc822",
                b"charset=",
                b"name*=",
                b"''",
                b"%C3%84",
                b"(",
                b")",
                b"\\",
                b"a",
            ]
        ),
        max_size=60,
    )
)
@settings(max_examples=400, deadline=None)
def test_header_soup_never_raises(chunks: list[bytes]) -> None:
    raw = b"From: a@example.com\nSubject: x\n" + b"".join(chunks)
    try:
        msg = parse_message(raw)
    except UnparseableMessage:
        return
    _assert_clean_str(msg.subject)
    _assert_clean_str(msg.from_name or "")


# ---------------------------------------------------------------------------
# Reference tokens and message ids
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("AW: Ihre Beschwerde [LP-2026-000123]", ["LP-2026-000123"]),
        ("[LP-2026-000123] Re: [LP-2026-000123]", ["LP-2026-000123"]),
        ("lp-2026-0001234 und LP\u20112025\u2011000001", ["LP-2026-0001234", "LP-2025-000001"]),
        ("LP-2026-00012 zu kurz", []),
        ("XLP-2026-000123 kein Token", []),
        ("LP-2026-000123X", ["LP-2026-000123"]),
        ("LP-26-000123", []),
        ("(LP-2026-000999)", ["LP-2026-000999"]),
        ("", []),
    ],
)
def test_find_reference_tokens(subject: str, expected: list[str]) -> None:
    assert find_reference_tokens(subject) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<abc@example.org>", "abc@example.org"),
        ("  <abc@example.org>  ", "abc@example.org"),
        ("abc@example.org", "abc@example.org"),
        ("< DUP-1@Example.COM >", "DUP-1@Example.COM"),
        ("<abc@exa\n mple.org>", "abc@example.org"),
        ("<> <real@x>", "real@x"),
        (b"<bytes@x>", "bytes@x"),
        ("", None),
        ("<>", None),
        ("   ", None),
        (None, None),
    ],
)
def test_normalise_message_id(value: str | bytes | None, expected: str | None) -> None:
    assert normalise_message_id(value) == expected


def test_references_without_brackets_and_duplicates() -> None:
    raw = b"From: a@example.com\nSubject: r\nIn-Reply-To: a@x\nReferences: <a@x> <b@x>\n <a@x>\n\nx"
    msg = parse_message(raw)
    assert msg.in_reply_to == ["a@x"]
    assert msg.references == ["a@x", "b@x"]


# ---------------------------------------------------------------------------
# Auto-reply / bounce rules not covered by the corpus
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "subject", "auto"),
    [
        (b"Auto-Submitted: no\n", "Hallo", False),
        (b"Auto-Submitted: auto-generated\n", "Hallo", True),
        (b"Auto-Submitted: auto-notified\n", "Hallo", True),
        (b"X-Autorespond: yes\n", "Hallo", True),
        (b"Precedence: junk\n", "Hallo", True),
        (b"Precedence: list\n", "Hallo", True),
        (b"Precedence: first-class\n", "Hallo", False),
        (b"X-Auto-Response-Suppress: DR, OOF, AutoReply\n", "Hallo", True),
        (b"X-Auto-Response-Suppress: DR\n", "Hallo", False),
        (b"List-Unsubscribe: <mailto:u@x>\n", "Hallo", True),
        (b"Return-Path: <>\n", "Hallo", True),
        (b"", "Automatische Antwort: Ihre Nachricht", True),
        (b"", "Out of Office: Re: Rechnung", True),
        (b"", "Re: Out of Office", False),
        (b"", "Beschwerde wegen Abwesenheit", False),
    ],
)
def test_auto_reply_rules(headers: bytes, subject: str, auto: bool) -> None:
    raw = b"From: a@example.com\nSubject: " + subject.encode() + b"\n" + headers + b"\nText"
    msg = parse_message(raw)
    assert msg.is_auto_reply is auto, msg.auto_reason
    assert msg.is_bounce is False


def test_bounce_by_sender_and_subject_only() -> None:
    raw = (
        b"From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n"
        b"Subject: Delivery Status Notification (Failure)\n\n"
        b"Address not found\n\n----- Original message -----\n\nMessage-ID: <orig-1@stadtwerke-beispiel.de>\nSubject: x\n"
    )
    msg = parse_message(raw)
    assert msg.is_bounce and msg.is_auto_reply
    assert msg.bounce_original_message_id == "orig-1@stadtwerke-beispiel.de"


def test_human_mentioning_undeliverable_is_not_a_bounce() -> None:
    raw = b"From: kunde@example.com\nSubject: Ihre Post war unzustellbar\n\nText"
    msg = parse_message(raw)
    assert not msg.is_bounce and not msg.is_auto_reply


# ---------------------------------------------------------------------------
# Sources: mbox, Maildir, .eml paths
# ---------------------------------------------------------------------------


def test_iter_mbox_raw_bytes_and_mboxrd_unescape(tmp_path: Path) -> None:
    path = tmp_path / "export.mbox"
    path.write_bytes(
        b"From a@example.com Mon Nov 23 10:00:00 2026\n"
        b"From: a@example.com\nSubject: eins\nMessage-ID: <m1@x>\n\nErste Nachricht.\n\n"
        b"From b@example.com Mon Nov 23 10:01:00 2026\n"
        b"From: b@example.com\nSubject: zwei\nMessage-ID: <m2@x>\nContent-Type: text/plain; charset=iso-8859-1\n"
        b"Content-Transfer-Encoding: 8bit\n\nZ\xe4hlerstand f\xfcr M\xfcller\n\n"
        b"From c@example.com Mon Nov 23 10:02:00 2026\n"
        b"From: c@example.com\nSubject: drei\nMessage-ID: <m3@x>\n\nText davor\n>From here on it is escaped\n"
        b">>From double\nEnde\n"
    )
    raws = list(iter_mbox(path))
    assert len(raws) == 3
    assert b"Z\xe4hlerstand f\xfcr M\xfcller" in raws[1]
    assert b"\nFrom here on it is escaped\n" in raws[2]
    assert b"\n>From double\n" in raws[2]
    parsed = [parse_message(r) for r in raws]
    assert [p.subject for p in parsed] == ["eins", "zwei", "drei"]
    assert parsed[1].text_body == "Zählerstand für Müller"
    assert "From here on it is escaped" in parsed[2].text_body
    raws_escaped = list(iter_mbox(path, unescape_from=False))
    assert b"\n>From here on" in raws_escaped[2]


def test_iter_mbox_written_by_stdlib(tmp_path: Path) -> None:
    path = tmp_path / "stdlib.mbox"
    box = mailbox.mbox(str(path))
    box.add(b"From: a@example.com\nSubject: s\n\nFrom the start\n")
    box.add("From: b@example.com\nSubject: ü\nContent-Type: text/plain; charset=utf-8\n\nÄ\n".encode())
    box.flush()
    box.close()
    raws = list(iter_mbox(path))
    assert len(raws) == 2
    assert parse_message(raws[0]).text_body == "From the start"
    assert parse_message(raws[1]).text_body == "Ä"


def test_iter_maildir(tmp_path: Path) -> None:
    box = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    box.add(b"From: a@example.com\nSubject: eins\n\nA\n")
    box.add(b"From: b@example.com\nSubject: zwei\nContent-Type: text/plain; charset=latin-1\n\nZ\xe4hler\n")
    box.close()
    raws = list(iter_maildir(tmp_path / "Maildir"))
    assert len(raws) == 2
    subjects = sorted(parse_message(r).subject for r in raws)
    assert subjects == ["eins", "zwei"]
    assert any(b"Z\xe4hler" in r for r in raws)


def test_iter_eml_paths(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "a.eml").write_bytes(b"From: a@x\n\n")
    (tmp_path / "b" / "c.EML").write_bytes(b"From: c@x\n\n")
    (tmp_path / "notes.txt").write_text("x")
    found = list(iter_eml_paths(tmp_path))
    assert [p.name for p in found] == ["a.eml", "c.EML"]
    assert list(iter_eml_paths(tmp_path / "a.eml")) == [tmp_path / "a.eml"]
    assert list(iter_eml_paths(tmp_path / "missing")) == []
    assert len(list(iter_eml_paths(CORPUS))) == len(CORPUS_FILES)


def test_module_does_not_import_django() -> None:
    source = (Path(__file__).parents[2] / "src" / "leitplanke" / "intake" / "mailparse.py").read_text(encoding="utf-8")
    imports = [line for line in source.splitlines() if re.match(r"\s*(import|from)\s", line)]
    assert not [line for line in imports if "django" in line or "leitplanke" in line]
