"""One e-mail parser for every intake path (IMAP fetch, ``.eml``/mbox/Maildir import, HTTP upload).

This module is deliberately framework-free: it imports only the standard library,
``nh3`` and ``tnefparse``, so it can be used from management commands, workers and tests without Django.

Entry point: :func:`parse_message` turns the raw bytes of one message into a
:class:`ParsedMessage`.  It never raises for *bad content* – wrong charsets, broken
encoded-words, invalid base64, hostile filenames, missing headers … are repaired or
recorded in ``charset_problems`` / ``dropped`` / ``defects``.  The single exception is
:class:`UnparseableMessage`, raised when the bytes are not an e-mail at all (empty, no
header block, binary garbage); the caller quarantines those (it always keeps the raw
bytes itself).

See ``README.md`` next to this file for the policy decisions (HTML allowlist,
auto-reply/bounce rules, filename policy, limits).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import functools
import hashlib
import html
import io
import mailbox
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, datetime
from email import policy as email_policy
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nh3

__all__ = [
    "ParsedAttachment",
    "ParsedMessage",
    "UnparseableMessage",
    "decode_header_value",
    "find_reference_tokens",
    "guess_language",
    "html_to_text",
    "is_no_reply_address",
    "iter_eml_paths",
    "iter_maildir",
    "iter_mbox",
    "make_safe_filename",
    "message_identity",
    "normalise_message_id",
    "parse_message",
    "sanitise_html",
]

DEFAULT_MAX_MESSAGE_BYTES = 25 * 1024 * 1024
DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_ATTACHMENTS = 20
#: Hard cap for ``text_body`` (characters); longer bodies are cut and a note is added to ``dropped``.
MAX_TEXT_CHARS = 1_000_000
#: Hard cap for ``html_body_sanitised`` (characters of *input* HTML).
MAX_HTML_CHARS = 2_000_000
#: Bytes of header block parsed for oversized messages.
MAX_HEADER_BYTES = 1024 * 1024
MAX_FILENAME_CHARS = 100
#: Filesystems commonly limit names to 255 *bytes*; 100 CJK/emoji characters could exceed that.
MAX_FILENAME_UTF8_BYTES = 200
_MAX_LIST_NOTES = 50


class UnparseableMessage(Exception):
    """The bytes are not an e-mail message at all (empty, no header block, binary garbage).
    ``code`` names the cause: ``empty``, ``no_header``, ``binary``, ``no_known_header``,
    ``parser_failed``."""

    def __init__(self, reason: str, code: str = "not_an_email") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass
class ParsedAttachment:
    """One non-body MIME part.

    ``original_filename`` is the sender-supplied name, decoded but otherwise untouched – treat it
    as hostile data (display it escaped, never use it as a path).  ``safe_filename`` is generated
    by :func:`make_safe_filename` and unique (case-insensitively) within the message.
    """

    original_filename: str | None
    safe_filename: str
    content_type: str
    size: int
    content: bytes = field(repr=False)
    is_inline: bool = False
    content_id: str | None = None


@dataclass
class ParsedMessage:
    """The result of :func:`parse_message`.  All strings are proper ``str``: no surrogates and
    no NUL (replaced by U+FFFD, see ``_storable``)."""

    message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_address: str | None = None
    from_name: str | None = None
    to_addresses: list[str] = field(default_factory=list)
    cc_addresses: list[str] = field(default_factory=list)
    reply_to: list[str] = field(default_factory=list)
    date: datetime | None = None
    text_body: str = ""
    #: Sanitised HTML, ``""`` when the message has no HTML part.
    html_body_sanitised: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    #: Human-readable notes about content that was *not* kept (limits), for the audit trail.
    dropped: list[str] = field(default_factory=list)
    charset_problems: list[str] = field(default_factory=list)
    is_auto_reply: bool = False
    auto_reason: str | None = None
    is_bounce: bool = False
    bounce_original_message_id: str | None = None
    #: Selected decoded headers (lower-case names), each value cut to 500 characters.
    headers_summary: dict[str, str] = field(default_factory=dict)
    #: Names of RFC violations the stdlib parser reported (deduplicated), for diagnostics.
    defects: list[str] = field(default_factory=list)
    #: True when the message exceeded ``max_message_bytes`` and only a prefix was parsed.
    truncated: bool = False
    #: What was refused or changed, as ``(code, params)`` for the screens to put into words
    #: (``dropped`` has the same in English for logs); codes are listed in README.md.
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: The ``Date`` header as sent (information only; the time of receipt is the caller's).
    date_header: str = ""
    #: ``"missing"`` or ``"invalid"`` when ``date`` is None, else None.
    date_problem: str | None = None
    #: An upstream filter's verdict (``X-Spam-Flag: YES``, ``X-Spam-Status: Yes``, DMARC failure).
    spam_verdict: str | None = None
    #: Why this message must never be answered automatically although it is not an
    #: auto-reply: list and mailer-daemon senders, digests.
    no_reply_reason: str | None = None
    #: Length of the text before ``MAX_TEXT_CHARS`` cut it (0: not cut); ``full_text`` keeps it all.
    text_cut_from: int = 0
    full_text: str = field(default="", repr=False)

    @property
    def reference_tokens(self) -> list[str]:
        """Case reference tokens (``LP-YYYY-NNNNNN``) found in the subject."""
        return find_reference_tokens(self.subject)


# ---------------------------------------------------------------------------
# Small helpers: message ids, reference tokens
# ---------------------------------------------------------------------------

_ANGLE_ID_RE = re.compile(r"<([^<>]*)>")
_WS_RE = re.compile(r"\s+")
_CTRL_RE = re.compile(r"[\x00-\x1f\x7f]")


def normalise_message_id(value: str | bytes | None) -> str | None:
    """Return a Message-ID / Content-ID without angle brackets, whitespace or control characters.

    ``"  <abc@example.org> "`` → ``"abc@example.org"``.  Case is preserved (the local part of a
    Message-ID is case-sensitive).  Returns ``None`` for ``None`` or when nothing usable is left.
    When several ``<…>`` groups are present, the first non-empty one wins.
    """
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = _fix_surrogates(str(value))
    candidate = value
    for match in _ANGLE_ID_RE.finditer(value):
        if match.group(1).strip():
            candidate = match.group(1)
            break
    candidate = _CTRL_RE.sub("", _WS_RE.sub("", candidate)).strip("<>\"'")
    if not candidate:
        return None
    return candidate[:998]


def _id_list(value: str | None) -> list[str]:
    """Parse an In-Reply-To / References header into a de-duplicated list of ids."""
    if not value:
        return []
    found = [m.group(1) for m in _ANGLE_ID_RE.finditer(value)]
    if not found:  # some broken clients omit the brackets
        found = [tok for tok in value.split() if "@" in tok]
    out: list[str] = []
    for item in found:
        norm = normalise_message_id(item)
        if norm and norm not in out:
            out.append(norm)
    return out


_REFERENCE_RE = re.compile(
    r"(?<![A-Za-z0-9])LP[-\u2010\u2011\u2012\u2013](\d{4})[-\u2010\u2011\u2012\u2013](\d{6,})(?!\d)", re.IGNORECASE
)


def find_reference_tokens(subject: str) -> list[str]:
    """Find case references such as ``LP-2026-000123`` (also ``[LP-2026-000123]``, lower case,
    Unicode hyphens from auto-correct).  Returns canonical upper-case tokens, de-duplicated,
    in order of appearance."""
    out: list[str] = []
    for match in _REFERENCE_RE.finditer(subject or ""):
        token = f"LP-{match.group(1)}-{match.group(2)}"
        if token not in out:
            out.append(token)
    return out


def message_identity(parsed: ParsedMessage) -> str:
    """SHA-256 (hex) that names the message whatever path it came by: of its Message-ID, or,
    for a message without one, of its content (sender, recipients, subject, the Date header,
    text and attachments), so that the same message delivered twice is recognised."""
    if parsed.message_id:
        return hashlib.sha256(f"mid:{parsed.message_id}".encode("utf-8", "surrogatepass")).hexdigest()
    digest = hashlib.sha256(b"content:")
    for value in (
        parsed.from_address or parsed.from_name or "",
        ",".join(parsed.to_addresses + parsed.cc_addresses),
        parsed.subject,
        parsed.date_header,
        parsed.full_text or parsed.text_body,
        parsed.html_body_sanitised,
    ):
        digest.update(value.encode("utf-8", "surrogatepass") + b"\x00")
    for attachment in parsed.attachments:
        digest.update(hashlib.sha256(attachment.content).digest())
    return digest.hexdigest()


def _words(text: str) -> list[str]:
    return text.split()


# Short words that occur in almost every German or English text and hardly ever in the
# other language (words both languages share, such as "in", "an", "so", "will", are left out).
_GERMAN_WORDS = frozenset(
    _words(
        "der die das und ist nicht ich sie wir mit für auf ein eine einen einem dem den des zu von bitte "
        "sehr geehrte geehrter damen herren mein meine meinen meiner ihre ihren ihr wurde wurden habe haben "
        "hat noch auch aber oder wie wenn dass mir mich uns keine kein seit schon immer freundlichen grüßen "
        "grüße rechnung "
    )
)
_ENGLISH_WORDS = frozenset(
    _words(
        "the and is are not you we with for on of to please dear my your was were have has been this that "
        "would could should there their they from since still any which regards sincerely thank thanks "
        "invoice bill account me our why what "
    )
)
_WORD_RE = re.compile(r"[^\W\d_]+")


def guess_language(text: str, *, sample: int = 3000) -> str | None:
    """``"de"``, ``"en"`` or None (undecided) for a message's subject and text: counts the
    common function words of each language in the first ``sample`` characters (each
    umlaut or ß counts for German too). A language wins with at least 3 hits and twice
    the other's count; anything else is undecided, and the caller keeps its default."""
    german = english = 0
    for word in _WORD_RE.findall(text[:sample].lower()):
        if word in _GERMAN_WORDS:
            german += 1
        elif word in _ENGLISH_WORDS:
            english += 1
        if any(ch in "äöüß" for ch in word):
            german += 1
    if german >= 3 and german >= 2 * english:
        return "de"
    if english >= 3 and english >= 2 * german:
        return "en"
    return None


# ---------------------------------------------------------------------------
# Charset handling
# ---------------------------------------------------------------------------

_CHARSET_ALIASES = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "utf8mb4": "utf-8",
    "utf-8mb4": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    # WHATWG practice: latin-1 labels are really windows-1252 (C1 controls never occur in real text).
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "windows-874": "cp874",
    "x-mac-roman": "mac-roman",
    "macintosh": "mac-roman",
    "shift-jis": "cp932",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "iso-2022-jp": "iso-2022-jp-ext",
}
# Codecs that technically exist but must never be applied to mail content.
_FORBIDDEN_CODECS = {
    "unicode_escape",
    "raw_unicode_escape",
    "idna",
    "punycode",
    "undefined",
    "charmap",
    "palmos",
    "uu_codec",
    "base64_codec",
    "hex_codec",
    "zlib_codec",
    "bz2_codec",
    "quopri_codec",
    "rot_13",
}
_codec_cache: dict[str, str | None] = {}
_SEVEN_BIT_CODECS = ("iso2022", "utf-7", "utf_7", "hz")
_ASCII_LABELS = {"us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us"}
_SINGLE_BYTE_WESTERN = {"cp1252", "iso8859-15", "iso8859-1", "latin-1", "mac-roman"}


def _resolve_codec(charset: str | None) -> str | None:
    """Map a declared charset to a usable Python text codec name, or None if unknown/unsafe."""
    if not charset:
        return None
    key = charset.strip().strip("\"'").lower()
    if key in _codec_cache:
        return _codec_cache[key]
    name: str | None = _CHARSET_ALIASES.get(key, key)
    try:
        info = codecs.lookup(name)  # type: ignore[arg-type]
        unsafe = not getattr(info, "_is_text_encoding", True) or info.name.replace("-", "_") in _FORBIDDEN_CODECS
        name = None if unsafe else info.name
    except (LookupError, TypeError, ValueError):
        name = None
    if len(_codec_cache) < 512:
        _codec_cache[key] = name
    return name


def _is_ascii(data: bytes) -> bool:
    try:
        data.decode("ascii")
    except UnicodeDecodeError:
        return False
    return True


def _guess_decode(data: bytes) -> tuple[str, str]:
    """Decode bytes without a usable declared charset: utf-8, then cp1252, then latin-1."""
    for codec in ("utf-8", "cp1252"):
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _decode_bytes(data: bytes, charset: str | None, where: str, problems: list[str]) -> str:
    """Decode ``data`` that claims ``charset``; never raises, records problems."""
    declared = (charset or "").strip().strip("\"'")
    codec = _resolve_codec(declared)
    if _is_ascii(data) and (codec is None or not codec.startswith(_SEVEN_BIT_CODECS)):
        return data.decode("ascii")
    if declared.lower() in _ASCII_LABELS:
        text, used = _guess_decode(data)
        _note(problems, f"{where}: declared {declared} but contains 8-bit data, decoded as {used}")
        return text
    if codec in _SINGLE_BYTE_WESTERN:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:  # valid multi-byte UTF-8 is practically never real Latin-1/cp1252 text
            _note(problems, f"{where}: declared {declared} but data is UTF-8, decoded as utf-8")
            return text
    if codec is None:
        text, used = _guess_decode(data)
        if declared:
            _note(problems, f"{where}: unknown charset {declared!r}, decoded as {used}")
        else:
            _note(problems, f"{where}: 8-bit data without charset, decoded as {used}")
        return text
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError, ValueError):
        pass
    # Declared charset is wrong.  The usual lie is "utf-8" for cp1252 text or vice versa.
    for alternative in ("utf-8", "cp1252"):
        if alternative == codec:
            continue
        try:
            text = data.decode(alternative)
        except UnicodeDecodeError:
            continue
        _note(problems, f"{where}: not valid {declared}, decoded as {alternative}")
        return text
    _note(problems, f"{where}: not valid {declared}, decoded as {codec} with replacement")
    try:
        return data.decode(codec, "replace")
    except (LookupError, ValueError):  # pragma: no cover - defensive
        return data.decode("latin-1")


def _note(notes: list[str], text: str) -> None:
    if text not in notes and len(notes) < _MAX_LIST_NOTES:
        notes.append(text)


def _coded(notes: list[tuple[str, dict[str, Any]]], code: str, **params: Any) -> None:
    if len(notes) < _MAX_LIST_NOTES:
        notes.append((code, params))


_SURROGATE_RE = re.compile("[\udc80-\udcff]")


def _fix_surrogates(value: str, problems: list[str] | None = None, where: str = "header") -> str:
    """Turn surrogate-escaped raw 8-bit bytes (from the stdlib parser) into real characters."""
    if not _SURROGATE_RE.search(value):
        return value
    raw = value.encode("utf-8", "surrogateescape")
    text, used = _guess_decode(raw)
    if problems is not None and used != "utf-8":
        _note(problems, f"{where}: raw 8-bit bytes without charset, decoded as {used}")
    return text


# ---------------------------------------------------------------------------
# Header decoding (own RFC 2047 decoder: tolerant, charset fallback, split multibyte words)
# ---------------------------------------------------------------------------

_EW_RE = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_EW_START_RE = re.compile(r"=\?[^?\s]+\?[bBqQ]\?")
_EW_GAP_RE = re.compile(r"^[ \t\r\n]*$")
_FOLD_RE = re.compile(r"\r?\n(?=[ \t])")


def _decode_ew_payload(enc: str, payload: str) -> bytes | None:
    if enc in "bB":
        if re.search(r"[^A-Za-z0-9+/=]", payload):
            return None  # not base64 at all: keep the word literally
        cleaned = payload.rstrip("=")
        if len(cleaned) % 4 == 1:
            return None
        cleaned += "=" * (-len(cleaned) % 4)  # tolerate missing padding
        try:
            return base64.b64decode(cleaned)
        except (binascii.Error, ValueError):
            return None
    data = payload.replace("_", " ").encode("ascii", "replace")
    return re.sub(rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), data)


def decode_header_value(raw: str | None, problems: list[str] | None = None, where: str = "header") -> str:
    """Decode an unstructured header value: unfold, decode RFC 2047 encoded-words (tolerantly),
    repair raw 8-bit bytes.  Whitespace is *not* collapsed here."""
    if raw is None:
        return ""
    problems = problems if problems is not None else []
    value = _fix_surrogates(str(raw), problems, where)
    value = _FOLD_RE.sub("", value)
    if "=?" not in value:
        return value
    out: list[str] = []
    pos = 0
    pending: tuple[str, bytearray] | None = None  # (charset, bytes) of adjacent encoded words

    def flush() -> None:
        nonlocal pending
        if pending is not None:
            out.append(_decode_bytes(bytes(pending[1]), pending[0], where, problems))
            pending = None

    for match in _EW_RE.finditer(value):
        gap = value[pos : match.start()]
        charset = match.group(1).split("*", 1)[0]
        decoded = _decode_ew_payload(match.group(2), match.group(3))
        if decoded is None:
            flush()
            out.append(gap)
            out.append(match.group(0))
            _note(problems, f"{where}: broken encoded-word kept literally")
            pos = match.end()
            continue
        if pending is not None and _EW_GAP_RE.match(gap) and pending[0].lower() == charset.lower():
            pending[1].extend(decoded)  # RFC 2047: whitespace between encoded-words is dropped
        else:
            if pending is None or not _EW_GAP_RE.match(gap):
                flush()
                out.append(gap)
            else:
                flush()
            pending = (charset, bytearray(decoded))
        pos = match.end()
    flush()
    out.append(value[pos:])
    result = "".join(out)
    if "=?" in result and len(_EW_START_RE.findall(result)) > len(_EW_RE.findall(result)):
        _note(problems, f"{where}: unterminated encoded-word kept literally")
    return result


def _collapse_ws(value: str) -> str:
    value = (
        "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in value)
        if _CTRL_RE.search(value) or "\u2028" in value or "\u2029" in value
        else value
    )
    return _WS_RE.sub(" ", value).strip()


def _raw_headers(msg: Message, name: str) -> list[str]:
    """All raw (undecoded, surrogate-escaped) values of header ``name``, in order."""
    index: dict[str, list[str]] | None = getattr(msg, "_lp_header_index", None)
    if index is None:
        index = {}
        try:
            for key, value in msg.raw_items():
                index.setdefault(key.strip().lower(), []).append(str(value))
        except Exception:
            index = {}
        msg._lp_header_index = index  # type: ignore[attr-defined]
    return index.get(name.lower(), [])


def _raw_header(msg: Message, name: str) -> str | None:
    values = _raw_headers(msg, name)
    return values[0] if values else None


# ---------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------

_ADDR_OK_RE = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+$")
_ADDR_FIND_RE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


def _clean_addr(addr: str | None) -> str | None:
    if not addr:
        return None
    addr = _fix_surrogates(addr).strip().strip("<>").strip()
    if addr.lower().startswith("mailto:"):
        addr = addr[7:]
    if not _ADDR_OK_RE.match(addr):
        return None
    return addr.lower()


def _parse_addresses(msg: Message, name: str, problems: list[str]) -> list[tuple[str, str | None]]:
    """Return ``[(display_name, addr_spec_or_None), …]`` for the first header ``name``."""
    raw = _raw_header(msg, name)
    if raw is None:
        return []
    result: list[tuple[str, str | None]] = []
    try:
        header = msg[name]
        for a in header.addresses:  # type: ignore[union-attr]
            result.append((_fix_surrogates(a.display_name or "", problems, name), _clean_addr(a.addr_spec)))
    except Exception:
        result = []
    if not result or all(addr is None for _, addr in result):
        decoded = decode_header_value(raw, problems, name)
        fallback = [(decode_header_value(n, problems, name), _clean_addr(a)) for n, a in getaddresses([decoded])]
        if any(addr for _, addr in fallback):
            result = fallback
        else:
            found = _ADDR_FIND_RE.findall(decoded)
            if found:
                result = [("", _clean_addr(found[0]))]
                display = _collapse_ws(decoded.replace(found[0], "").replace("<>", "").strip(" \"'<>,"))
                if display:
                    result = [(display, _clean_addr(found[0]))]
            else:  # only a name, e.g. "From: Hans Müller"
                result = [(_collapse_ws(decoded).strip("\"'"), None)]
    return [(_collapse_ws(n).strip("\"'"), a) for n, a in result]


# ---------------------------------------------------------------------------
# HTML → text and sanitising
# ---------------------------------------------------------------------------

_BLOCK_TAGS = {
    "p",
    "div",
    "li",
    "tr",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "hr",
    "section",
    "article",
    "header",
    "footer",
    "address",
    "center",
    "form",
    "fieldset",
    "figure",
    "figcaption",
    "main",
    "nav",
    "aside",
    "caption",
    "tbody",
}
_SKIP_CONTENT_TAGS = {
    "style",
    "script",
    "head",
    "title",
    "template",
    "noscript",
    "svg",
    "math",
    "object",
    "iframe",
    "xml",
    "select",
    "textarea",
    "button",
}
_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|mso-hide\s*:\s*all", re.I)


_HTML_WS_RE = re.compile(r"[ \t\r\n\f]+")
_PARAGRAPH_TAGS = {"p", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "table", "pre", "ul", "ol", "dl", "hr"}


class _TextExtractor(HTMLParser):
    """Collects text; block elements request line breaks that are emitted lazily (so nested or
    adjacent blocks do not pile up empty lines)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_stack: list[str] = []
        self.pre = 0
        self.pending = 0

    def _trailing_newlines(self) -> int:
        count = 0
        for part in reversed(self.parts):
            for ch in reversed(part):
                if ch == "\n":
                    count += 1
                elif ch not in " \t":
                    return count
        return 99  # nothing but whitespace so far: never start the text with blank lines

    def _flush(self) -> None:
        if self.pending:
            missing = self.pending - self._trailing_newlines()
            if missing > 0:
                self.parts.append("\n" * missing)
            self.pending = 0

    def _block(self, tag: str) -> None:
        self.pending = max(self.pending, 2 if tag in _PARAGRAPH_TAGS else 1)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "img", "hr", "meta", "link", "input", "col", "area", "base", "wbr"):
            self.handle_startendtag(tag, attrs)
            return
        hidden = any(k == "style" and v and _HIDDEN_STYLE_RE.search(v) for k, v in attrs) or any(k == "hidden" for k, _ in attrs)
        if tag in _SKIP_CONTENT_TAGS or hidden or self.skip_stack:
            self.skip_stack.append(tag)
            return
        if tag == "pre":
            self.pre += 1
        if tag in _BLOCK_TAGS:
            self._block(tag)
        if tag == "li":
            self._flush()
            self.parts.append("- ")
        elif tag in ("td", "th"):
            self.parts.append(" \t")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip_stack:
            return
        if tag == "br":
            self._flush()
            self.parts.append("\n")
        elif tag == "hr":
            self._block(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skip_stack:
            # pop up to and including the matching tag (tolerate unclosed children)
            if tag in self.skip_stack:
                while self.skip_stack:
                    if self.skip_stack.pop() == tag:
                        break
            return
        if tag == "pre" and self.pre:
            self.pre -= 1
        if tag in _BLOCK_TAGS:
            self._block(tag)

    def handle_data(self, data: str) -> None:
        if self.skip_stack:
            return
        text = data.replace("\r\n", "\n").replace("\t", " ") if self.pre else _HTML_WS_RE.sub(" ", data)
        if text.strip(" \t\n"):  # &nbsp; counts as content: <div>&nbsp;</div> is an empty line
            self._flush()
        self.parts.append(text)


def html_to_text(markup: str) -> str:
    """Derive readable plain text from HTML: tags stripped, line breaks kept for ``<br>``,
    ``<p>``, ``<div>``, ``<li>``… (list items get ``- ``), entities unescaped, content of
    ``<style>``/``<script>``/``<head>`` and elements hidden with ``display:none`` dropped."""
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:
        return _normalise_text(re.sub(r"<[^>]*>", " ", html.unescape(markup)))
    return _normalise_text("".join(parser.parts).replace("\xa0", " "))


def _normalise_text(text: str) -> str:
    lines = [line.replace("\t", " ").strip(" ") for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [re.sub(r" {2,}", " ", line) for line in lines]
    out = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", out).strip()


SAFE_TAGS = {
    "a",
    "abbr",
    "acronym",
    "address",
    "b",
    "bdi",
    "bdo",
    "big",
    "blockquote",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
}
SAFE_ATTRIBUTES = {
    "*": {"dir", "lang", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align", "valign"},
    "th": {"colspan", "rowspan", "align", "valign", "scope"},
    "table": {"summary"},
    "ol": {"start", "type"},
    "font": {"color"},
    "p": {"align"},
    "div": {"align"},
}
_CLEAN_CONTENT_TAGS = {
    "script",
    "style",
    "title",
    "template",
    "iframe",
    "object",
    "embed",
    "applet",
    "frameset",
    "noembed",
    "noframes",
    "svg",
    "math",
    "textarea",
    "select",
    "button",
    "xml",
}
_HREF_SCHEMES = ("http:", "https:", "mailto:", "tel:")


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if attr == "src":
        # Only references to MIME parts of this very message survive; remote images (tracking
        # pixels) and data: URLs are removed.
        return value if value.strip().lower().startswith("cid:") else None
    if attr == "href":
        stripped = value.strip().lower()
        if stripped.startswith(_HREF_SCHEMES):
            return value
        return None
    if attr in ("width", "height", "colspan", "rowspan", "start"):
        return value if value.strip().rstrip("%").isdigit() else None
    return value


_CLEANER = nh3.Cleaner(
    tags=SAFE_TAGS,
    clean_content_tags=_CLEAN_CONTENT_TAGS,
    attributes=SAFE_ATTRIBUTES,
    attribute_filter=_attribute_filter,
    url_schemes={"http", "https", "mailto", "tel", "cid"},
    strip_comments=True,
    link_rel="noopener noreferrer nofollow",
)


_IMG_WITHOUT_SRC_RE = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")


def sanitise_html(markup: str) -> str:
    """Clean untrusted e-mail HTML with the allowlist documented in README.md."""
    if not markup.strip():
        return ""
    return _IMG_WITHOUT_SRC_RE.sub("", _CLEANER.clean(markup)).strip()


# ---------------------------------------------------------------------------
# Filenames
# ---------------------------------------------------------------------------

_FILENAME_BAD_CHARS = set('<>:"/\\|?*')
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
_EXT_RE = re.compile(r"^[A-Za-z0-9]{1,10}$")
_CONTENT_TYPE_EXT = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "image/tiff": ".tif",
    "image/bmp": ".bmp",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/csv": ".csv",
    "text/calendar": ".ics",
    "application/ics": ".ics",
    "message/rfc822": ".eml",
    "message/global": ".eml",
    "message/delivery-status": ".txt",
    "message/global-delivery-status": ".txt",
    "text/rfc822-headers": ".txt",
    "message/disposition-notification": ".txt",
    "application/ms-tnef": ".dat",
    "application/vnd.ms-tnef": ".dat",
    "application/pkcs7-signature": ".p7s",
    "application/x-pkcs7-signature": ".p7s",
    "application/pkcs7-mime": ".p7m",
    "application/x-pkcs7-mime": ".p7m",
    "application/pgp-signature": ".asc",
    "application/pgp-encrypted": ".asc",
    "application/zip": ".zip",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.oasis.opendocument.text": ".odt",
    "audio/mpeg": ".mp3",
    "video/mp4": ".mp4",
}


def _extension_for(content_type: str) -> str:
    return _CONTENT_TYPE_EXT.get((content_type or "").lower(), ".bin")


def make_safe_filename(name: str | None, index: int = 1, content_type: str = "application/octet-stream") -> str:
    """Generate a storage/download-safe filename from a hostile one.

    Guarantees: non-empty; no ``/``, ``\\``, NUL, control, format (bidi overrides, zero-width)
    or separator characters; no ``<>:"|?*``; no leading/trailing dots or spaces; at most 100
    characters and 200 UTF-8 bytes; Windows device names are prefixed with ``_``.  The last
    extension is kept when it is 1–10 ASCII alphanumerics; a missing extension is derived from
    ``content_type``.  Falls back to ``attachment-<index><ext>`` (``.bin`` if unknown).
    """
    text = unicodedata.normalize("NFC", name or "")
    # basename on both separators: "../../etc/passwd" -> "passwd", "C:\\Windows\\evil.exe" -> "evil.exe"
    components = [c for c in re.split(r"[/\\]", text) if c.strip(" .")]
    text = components[-1] if components else ""
    cleaned: list[str] = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] == "C" or cat in ("Zl", "Zp"):  # Cc, Cf (bidi, ZWSP), Cs, Co, Cn
            continue
        if ch in _FILENAME_BAD_CHARS:
            cleaned.append("_")
        elif cat == "Zs":
            cleaned.append(" ")
        else:
            cleaned.append(ch)
    text = _WS_RE.sub(" ", "".join(cleaned)).strip(" .")
    stem, dot, ext = text.rpartition(".")
    if not dot or not _EXT_RE.match(ext) or not stem.strip(" ."):
        stem, ext = text, ""
    stem = stem.strip(" .")
    ext = ext.lower()
    if not ext:
        guessed = _extension_for(content_type)
        ext = guessed[1:] if (stem and guessed != ".bin") or not stem else ""
    if not stem:
        return f"attachment-{index}.{ext or 'bin'}"
    if stem.split(".")[0].strip().lower() in _WINDOWS_RESERVED:
        stem = "_" + stem
    suffix = f".{ext}" if ext else ""
    budget = MAX_FILENAME_CHARS - len(suffix)
    stem = stem[:budget]
    while len((stem + suffix).encode("utf-8")) > MAX_FILENAME_UTF8_BYTES:
        stem = stem[:-1]
    stem = stem.rstrip(" .")
    if not stem:
        return f"attachment-{index}.{ext or 'bin'}"
    return stem + suffix


def _dedupe_filename(name: str, used: set[str]) -> str:
    if name.lower() not in used:
        used.add(name.lower())
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    n = 2
    while True:
        suffix = f"-{n}" + (f".{ext}" if ext else "")
        candidate = stem[: MAX_FILENAME_CHARS - len(suffix)] + suffix
        if candidate.lower() not in used:
            used.add(candidate.lower())
            return candidate
        n += 1


# ---------------------------------------------------------------------------
# MIME walking
# ---------------------------------------------------------------------------


class _CachingPolicy(EmailPolicy):
    """``email.policy.default`` with a bounded cache for parsed header objects.

    The modern policy re-parses a header every time it is read (``get_content_type()`` alone
    parses Content-Type several times per part, also inside the feed parser).  Header objects
    are immutable, so identical ``(name, value)`` pairs can safely share one instance; this
    roughly triples throughput without changing any parsing semantics.
    """

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if hasattr(value, "name") or len(value) > 2000:
            return super().header_fetch_parse(name, value)
        return _cached_header(self.header_factory, name, value)


@functools.lru_cache(maxsize=4096)
def _cached_header(factory: Any, name: str, value: str) -> Any:
    return factory(name, "".join(_LINESEP_SPLIT_RE.split(value)))


_LINESEP_SPLIT_RE = re.compile(r"\n|\r")
_POLICY = _CachingPolicy()
_PARSER = BytesParser(policy=_POLICY)
_RAW_POLICY = email_policy.compat32.clone(max_line_length=0)
_HEADER_LINE_RE = re.compile(rb"^[\x21-\x39\x3b-\x7e]{1,200}[ \t]*:")
_KNOWN_HEADERS = {
    "from",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "message-id",
    "received",
    "return-path",
    "mime-version",
    "content-type",
    "sender",
    "reply-to",
    "delivered-to",
    "in-reply-to",
    "references",
    "x-mailer",
    "user-agent",
    "auto-submitted",
    "x-original-to",
    "envelope-to",
    "dkim-signature",
    "arc-seal",
    "authentication-results",
}


@dataclass
class _Walk:
    problems: list[str]
    dropped: list[str]
    max_attachment_bytes: int
    max_attachments: int
    keep_attachments: bool = True
    text_units: list[str] = field(default_factory=list)
    html_units: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    used_names: set[str] = field(default_factory=set)
    seen_attachments: int = 0
    bounce_original_id: str | None = None
    has_delivery_status: bool = False
    report_type: str | None = None
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: Readable text of enclosed messages (forwarded as attachment), for messages without text.
    enclosed_texts: list[str] = field(default_factory=list)
    #: Text parts that carry a file name (some mobile clients send the body so).
    named_texts: list[str] = field(default_factory=list)
    is_digest: bool = False


def _ctype(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "application/octet-stream"


def _param(part: Message, name: str, header: str = "content-type") -> str | None:
    try:
        value = part.get_param(name, header=header)
    except Exception:
        return None
    if value is None:
        return None
    if isinstance(value, tuple):
        try:
            from email.utils import collapse_rfc2231_value

            value = collapse_rfc2231_value(value)
        except Exception:
            value = str(value[2])
    return _fix_surrogates(str(value))


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def _filename(part: Message, problems: list[str]) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name is None:
        name = _param(part, "filename", "content-disposition") or _param(part, "name")
    if not name:  # filename="" is treated like no filename
        return None
    name = _fix_surrogates(str(name), problems, "attachment filename")
    if "=?" in name:
        name = decode_header_value(name, problems, "attachment filename")
    return name


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""


def _message_bytes(msg: Message) -> bytes:
    buf = io.BytesIO()
    try:
        BytesGenerator(buf, mangle_from_=False, policy=_RAW_POLICY).flatten(msg, unixfrom=False)
        return buf.getvalue()
    except Exception:
        try:
            return msg.as_string(policy=_RAW_POLICY).encode("utf-8", "surrogateescape")
        except Exception:
            return b""


def _message_part_body(part: Message) -> bytes:
    """Body bytes of a ``message/*`` part (the embedded message or report blocks)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        chunks = [_message_bytes(p) for p in payload if isinstance(p, Message)]
        return b"\n".join(chunks)
    return _payload_bytes(part)


def _unflow(text: str, delsp: bool) -> str:
    """RFC 3676 format=flowed: join soft-broken lines."""
    out: list[str] = []
    buf = ""
    for line in text.split("\n"):
        if line == "-- ":
            if buf:
                out.append(buf)
                buf = ""
            out.append(line)
            continue
        quote = len(line) - len(line.lstrip(">"))
        content = line[quote:]
        if content.startswith(" "):  # space-stuffing
            content = content[1:]
        prefix = ">" * quote + (" " if quote else "")
        if content.endswith(" "):
            buf += (prefix if not buf else "") + (content[:-1] if delsp else content)
        else:
            out.append(buf + content if buf else prefix + content)
            buf = ""
    if buf:
        out.append(buf)
    return "\n".join(out)


_META_CHARSET_RE = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE)


def _part_text(part: Message, walk: _Walk, where: str) -> str:
    data = _payload_bytes(part)
    charset = _param(part, "charset")
    if charset is None and _ctype(part) == "text/html":
        meta = _META_CHARSET_RE.search(data[:4096])
        charset = meta.group(1).decode("ascii") if meta else None
    text = _decode_bytes(data, charset, where, walk.problems)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if _ctype(part) == "text/plain" and (_param(part, "format") or "").lower() == "flowed":
        text = _unflow(text, (_param(part, "delsp") or "").lower() == "yes")
    return text


def _add_attachment(
    part: Message,
    walk: _Walk,
    content: bytes,
    ctype: str,
    name: str | None,
    is_inline: bool | None = None,
    name_hint: str | None = None,
) -> None:
    """Record one attachment (or a note in ``dropped`` if a limit applies).  ``name_hint`` is used
    for ``safe_filename`` when the sender supplied no name (``original_filename`` stays None)."""
    walk.seen_attachments += 1
    index = walk.seen_attachments
    safe = make_safe_filename(name if name is not None else name_hint, index, ctype)
    if not walk.keep_attachments:
        return
    if len(content) > walk.max_attachment_bytes:
        _note(
            walk.dropped,
            f"attachment #{index} {safe!r} ({ctype}, {len(content)} bytes) dropped: "
            f"exceeds max_attachment_bytes={walk.max_attachment_bytes}",
        )
        _coded(walk.notes, "attachment_too_large", name=safe, size=len(content), limit=walk.max_attachment_bytes)
        return
    if len(walk.attachments) >= walk.max_attachments:
        _note(
            walk.dropped,
            f"attachment #{index} {safe!r} ({ctype}, {len(content)} bytes) dropped: "
            f"more than max_attachments={walk.max_attachments}",
        )
        _coded(walk.notes, "too_many_attachments", name=safe, limit=walk.max_attachments)
        return
    content_id = normalise_message_id(_raw_header(part, "content-id"))
    disposition = _disposition(part)
    if is_inline is None:
        is_inline = disposition == "inline" or (disposition is None and content_id is not None)
    walk.attachments.append(
        ParsedAttachment(
            original_filename=name,
            safe_filename=_dedupe_filename(safe, walk.used_names),
            content_type=ctype,
            size=len(content),
            content=content,
            is_inline=bool(is_inline),
            content_id=content_id,
        )
    )


def _walk_part(part: Message, walk: _Walk, depth: int = 0) -> None:
    ctype = _ctype(part)
    if depth > 40:
        _note(walk.dropped, "MIME nesting deeper than 40 levels: inner parts ignored")
        _coded(walk.notes, "nesting_too_deep")
        return
    if part.is_multipart() and ctype.startswith("multipart/"):
        if ctype == "multipart/report":
            walk.report_type = (_param(part, "report-type") or "").lower()
        walk.is_digest |= ctype == "multipart/digest"
        children = part.get_payload()
        if not isinstance(children, list):
            return
        if ctype == "multipart/alternative":
            sub = _Walk(
                walk.problems,
                walk.dropped,
                walk.max_attachment_bytes,
                walk.max_attachments,
                walk.keep_attachments,
                attachments=walk.attachments,
                used_names=walk.used_names,
                seen_attachments=walk.seen_attachments,
                notes=walk.notes,
                enclosed_texts=walk.enclosed_texts,
                named_texts=walk.named_texts,
            )
            for child in children:
                if isinstance(child, Message):
                    _walk_part(child, sub, depth + 1)
            walk.seen_attachments = sub.seen_attachments
            walk.has_delivery_status |= sub.has_delivery_status
            walk.bounce_original_id = walk.bounce_original_id or sub.bounce_original_id
            # Within an alternative the richest plain/HTML versions represent one body unit.
            plain = next((t for t in reversed(sub.text_units) if t.strip()), "")
            html_unit = next((h for h in reversed(sub.html_units) if h.strip()), "")
            if plain or html_unit:
                walk.text_units.append(plain if plain.strip() else html_to_text(html_unit))
            if html_unit:
                walk.html_units.append(html_unit)
            return
        for child in children:
            if isinstance(child, Message):
                _walk_part(child, walk, depth + 1)
        return

    disposition = _disposition(part)
    name = _filename(part, walk.problems)
    if ctype in ("message/rfc822", "message/global"):
        inner = part.get_payload()
        inner_msg = inner[0] if isinstance(inner, list) and inner and isinstance(inner[0], Message) else None
        if walk.report_type == "delivery-status" and inner_msg is not None and walk.bounce_original_id is None:
            walk.bounce_original_id = normalise_message_id(_raw_header(inner_msg, "message-id"))
        content = _message_bytes(inner_msg) if inner_msg is not None else _payload_bytes(part)
        if inner_msg is not None and walk.report_type != "delivery-status" and depth < 20:
            walk.enclosed_texts.append(_enclosed_text(inner_msg, walk, depth))
        hint = None
        if name is None and inner_msg is not None:
            subject = _collapse_ws(decode_header_value(_raw_header(inner_msg, "subject"), [], "attached subject"))
            hint = f"{subject[:80]}.eml" if subject else "forwarded-message.eml"
        _add_attachment(part, walk, content, ctype, name, is_inline=False, name_hint=hint)
        return
    if ctype in ("message/delivery-status", "message/global-delivery-status"):
        walk.has_delivery_status = True
        _add_attachment(part, walk, _message_part_body(part), ctype, name or "delivery-status.txt", is_inline=False)
        return
    if ctype == "text/rfc822-headers":
        content = _payload_bytes(part)
        if walk.bounce_original_id is None:
            try:
                headers = _PARSER.parsebytes(content, headersonly=True)
            except Exception:
                headers = None
            if headers is not None:
                walk.bounce_original_id = normalise_message_id(_raw_header(headers, "message-id"))
        _add_attachment(part, walk, content, ctype, name, is_inline=False)
        return
    if ctype.startswith("message/") or (part.is_multipart() and not ctype.startswith("multipart/")):
        _add_attachment(part, walk, _message_part_body(part), ctype, name, is_inline=False)
        return
    if ctype.startswith("multipart/") and not name:
        # multipart without (matching) boundary: the stdlib leaves the raw body as one string
        if _payload_bytes(part).strip():
            _note(walk.dropped, f"{ctype} without usable boundary: body treated as plain text")
            _coded(walk.notes, "no_boundary")
            walk.text_units.append(_part_text(part, walk, f"{ctype} body"))
        return
    if ctype == "text/plain" and name and disposition != "attachment":
        walk.named_texts.append(_part_text(part, walk, "text/plain part with a file name"))
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not name:
        text = _part_text(part, walk, f"{ctype} body")
        if ctype == "text/plain":
            walk.text_units.append(text)
        else:
            walk.html_units.append(text)
        return
    content = _payload_bytes(part)
    _add_attachment(part, walk, content, ctype, name)
    if ctype in _TNEF_TYPES or (name or "").lower() == "winmail.dat":
        _add_tnef_contents(part, walk, content)


_TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}


def _add_tnef_contents(part: Message, walk: _Walk, content: bytes) -> None:
    """The files inside an Outlook ``winmail.dat`` (TNEF), decoded with the pure-Python
    ``tnefparse``; the ``winmail.dat`` itself stays an attachment. Its text body, when the
    message has no other, is kept for the case."""
    try:
        from tnefparse import TNEF

        tnef = TNEF(content, do_checksum=False)
    except Exception as exc:
        _note(walk.dropped, f"winmail.dat could not be decoded ({type(exc).__name__}); kept as it came")
        _coded(walk.notes, "tnef_undecodable")
        return
    for item in tnef.attachments:
        try:
            data, name = bytes(item.data or b""), item.long_filename() or item.name
        except Exception as exc:  # one unreadable entry: the others are still worth keeping
            _note(walk.dropped, f"winmail.dat entry unreadable ({type(exc).__name__})")
            _coded(walk.notes, "tnef_undecodable")
            continue
        if data:
            name = _fix_surrogates(name.decode("cp1252", "replace") if isinstance(name, bytes) else str(name or ""))
            _add_attachment(part, walk, data, "application/octet-stream", name.strip("\x00") or None, is_inline=False)
    body = getattr(tnef, "body", None)
    if isinstance(body, bytes):
        body = body.decode("cp1252", "replace")
    if isinstance(body, str) and body.strip("\x00 \r\n"):
        walk.named_texts.append(body.replace("\x00", "").replace("\r\n", "\n"))


def _enclosed_text(inner: Message, walk: _Walk, depth: int) -> str:
    """A forwarded (enclosed) message as readable text: its sender, date and subject, then
    its body. Its attachments are not extracted (the whole message is kept as ``.eml``)."""
    sub = _Walk(walk.problems, [], walk.max_attachment_bytes, 0, keep_attachments=False)
    try:
        _walk_part(inner, sub, depth + 1)
    except Exception:
        return ""
    text = "\n\n".join(t.strip("\n") for t in sub.text_units if t.strip())
    if not text and sub.html_units:
        text = html_to_text("\n".join(sub.html_units))
    lines = []
    for label, header in (("From", "from"), ("Date", "date"), ("Subject", "subject")):
        value = _collapse_ws(decode_header_value(_raw_header(inner, header), [], header))
        if value:
            lines.append(f"{label}: {value}")
    return "\n".join(["---------- Forwarded message ----------", *lines, "", text.strip()]).strip()


# ---------------------------------------------------------------------------
# Auto-reply and bounce detection
# ---------------------------------------------------------------------------

_AUTO_SUBJECT_RE = re.compile(
    r"^\s*(automatic reply|automatische antwort|abwesenheitsnotiz|out of (the )?office|auto:|autoreply|auto-reply|"
    r"automatic response|auto response|r[ée]ponse automatique|risposta automatica|respuesta autom[aá]tica|"
    r"abwesend|ich bin (zur zeit |derzeit )?nicht im b[üu]ro|autosvar|automatisch antwoord)",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT_RE = re.compile(
    r"undelivered mail returned to sender|delivery status notification \((failure|delay)\)|undeliverable|"
    r"unzustellbar|nicht zustellbar|mail delivery failed|mail delivery (sub)?system|returned mail|failure notice|"
    r"delivery failure|delivery has failed|non[- ]?delivery|unable to deliver|zustellung fehlgeschlagen",
    re.IGNORECASE,
)
_BOUNCE_SENDER_RE = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)(@|$)", re.IGNORECASE)
_BODY_MSGID_RE = re.compile(r"^\s*message-id:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


def _first_token(value: str | None) -> str:
    return (value or "").strip().split(";")[0].strip().lower()


def _detect_auto(msg: Message, subject: str) -> str | None:
    auto_submitted = _first_token(_raw_header(msg, "auto-submitted"))
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    for name in ("x-autoreply", "x-autorespond", "x-autoresponse", "x-autogenerated", "x-auto-reply"):
        value = _first_token(_raw_header(msg, name))
        if _raw_header(msg, name) is not None and value not in ("no", "false", "0"):
            return f"{name}: {value or 'present'}"
    precedence = _first_token(_raw_header(msg, "precedence"))
    if precedence in ("bulk", "auto_reply", "junk", "list"):
        return f"Precedence: {precedence}"
    suppress = (_raw_header(msg, "x-auto-response-suppress") or "").lower()
    if any(tok.strip() in ("all", "oof", "autoreply") for tok in re.split(r"[,\s]+", suppress)):
        return "X-Auto-Response-Suppress: " + suppress.strip()
    if _raw_header(msg, "x-ms-exchange-generated-message-source") is not None:
        return "X-MS-Exchange-Generated-Message-Source: " + _collapse_ws(
            _raw_header(msg, "x-ms-exchange-generated-message-source") or ""
        )
    for name in ("list-id", "list-unsubscribe", "list-post"):
        if _raw_header(msg, name) is not None:
            return f"mailing list ({name})"
    if _raw_header(msg, "feedback-id") is not None and _raw_header(msg, "x-campaign") is not None:
        return "bulk mail (Feedback-ID)"
    if _AUTO_SUBJECT_RE.search(subject):
        return "auto-reply subject"
    return None


# ---------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------

_SUMMARY_HEADERS = (
    "from",
    "sender",
    "to",
    "cc",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "return-path",
    "auto-submitted",
    "precedence",
    "list-id",
    "x-mailer",
    "user-agent",
    "content-type",
    "thread-index",
    "x-auto-response-suppress",
)


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (0x09, 0x0A, 0x0D))


def _check_is_email(raw: bytes) -> bytes:
    """Strip a BOM/leading blank lines/an mbox ``From `` line and verify there is a header block."""
    if not raw or not raw.strip():
        raise UnparseableMessage("empty input", "empty")
    data = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    data = data.lstrip(b"\r\n")
    first_nl = data.find(b"\n")
    if data.startswith(b"From ") and first_nl != -1 and not re.match(rb"From[ \t]*:", data):
        data = data[first_nl + 1 :]
    head = data[:4096]
    if not _HEADER_LINE_RE.match(head):
        raise UnparseableMessage("no RFC 5322 header line at start of input", "no_header")
    end = re.search(rb"\r?\n\r?\n", data[:MAX_HEADER_BYTES])
    header_block = data[: end.start()] if end else data[:MAX_HEADER_BYTES]
    if b"\x00" in header_block:
        raise UnparseableMessage("NUL bytes in header block (binary data)", "binary")
    sample = header_block[:8192]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if sample and controls / len(sample) > 0.02:
        raise UnparseableMessage("header block contains binary data", "binary")
    names = {
        m.group(1).strip().lower().decode("ascii", "replace")
        for m in re.finditer(rb"(?m)^([\x21-\x39\x3b-\x7e]{1,200})[ \t]*:", header_block)
    }
    if not names & _KNOWN_HEADERS:
        raise UnparseableMessage("no known e-mail header (From, To, Subject, Date, Message-ID, Received …)", "no_known_header")
    return data


def parse_message(
    raw: bytes,
    *,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    max_attachments: int = DEFAULT_MAX_ATTACHMENTS,
) -> ParsedMessage:
    """Parse the raw bytes of one e-mail message.

    Never raises for bad content; raises :class:`UnparseableMessage` only if ``raw`` is not an
    e-mail at all.  Oversized messages (``len(raw) > max_message_bytes``) are parsed from a
    prefix of ``max_message_bytes`` bytes: headers and (truncated) text are kept, all attachments
    are dropped and ``truncated`` is set.  Attachments larger than ``max_attachment_bytes`` and
    every attachment beyond ``max_attachments`` are dropped with a note in ``dropped``.
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise TypeError("parse_message() expects bytes")
    raw = bytes(raw)
    data = _check_is_email(raw)
    result = ParsedMessage()
    problems = result.charset_problems
    truncated = len(raw) > max_message_bytes
    if truncated:
        result.truncated = True
        data = data[:max_message_bytes]
        _note(
            result.dropped,
            f"message of {len(raw)} bytes exceeds max_message_bytes={max_message_bytes}: "
            "only headers and the text in the first part were kept, attachments dropped",
        )
        _coded(result.notes, "message_too_large", size=len(raw), limit=max_message_bytes)
    try:
        msg = _PARSER.parsebytes(data)
    except Exception as exc:
        try:
            msg = _PARSER.parsebytes(data, headersonly=True)
            _note(result.dropped, f"MIME structure unreadable ({type(exc).__name__}); body ignored")
            _coded(result.notes, "structure_unreadable")
        except Exception as exc2:
            raise UnparseableMessage(f"parser failed: {type(exc2).__name__}", "parser_failed") from exc2

    # --- headers -------------------------------------------------------------------------
    result.subject = _collapse_ws(decode_header_value(_raw_header(msg, "subject"), problems, "subject"))
    result.message_id = normalise_message_id(_raw_header(msg, "message-id"))
    result.in_reply_to = _id_list(_fix_surrogates(_raw_header(msg, "in-reply-to") or ""))
    result.references = _id_list(_fix_surrogates(" ".join(_raw_headers(msg, "references"))))
    senders = _parse_addresses(msg, "from", problems) or _parse_addresses(msg, "sender", problems)
    if senders:
        with_addr = [s for s in senders if s[1]]
        name, addr = (with_addr or senders)[0]
        result.from_address = addr
        result.from_name = None if not name or (addr and name.lower() == addr) else name
    result.to_addresses = _addr_list(msg, ("to",), problems)
    result.cc_addresses = _addr_list(msg, ("cc",), problems)
    result.reply_to = _addr_list(msg, ("reply-to",), problems)
    result.date_header = _collapse_ws(_fix_surrogates(_raw_header(msg, "date") or ""))[:200]
    result.date = _parse_date(result.date_header)
    if result.date is None:
        result.date_problem = "invalid" if result.date_header else "missing"

    summary: dict[str, str] = {}
    for name in _SUMMARY_HEADERS:
        values = _raw_headers(msg, name)
        if values:
            summary[name] = _collapse_ws(decode_header_value(values[0], [], name))[:500]
    summary["received-count"] = str(len(_raw_headers(msg, "received")))
    result.headers_summary = summary

    # --- body and attachments --------------------------------------------------------------
    walk = _Walk(
        problems, result.dropped, max_attachment_bytes, max_attachments, keep_attachments=not truncated, notes=result.notes
    )
    try:
        _walk_part(msg, walk)
    except Exception as exc:
        _note(result.dropped, f"MIME walk aborted ({type(exc).__name__}); remaining parts ignored")
        _coded(result.notes, "structure_unreadable")
    if truncated and walk.seen_attachments:
        _note(result.dropped, f"{walk.seen_attachments} attachment(s) in the parsed prefix not extracted")
        _coded(result.notes, "attachments_of_large_message", count=walk.seen_attachments)
    text = "\n\n".join(t.strip("\n") for t in walk.text_units if t.strip())
    if not text and walk.html_units:
        text = html_to_text("\n".join(walk.html_units))
    if not text.strip():  # no text of its own: a text part with a file name, or what it forwards
        text = next((t for t in walk.named_texts if t.strip()), "") or "\n\n".join(t for t in walk.enclosed_texts if t)
    if len(text) > MAX_TEXT_CHARS:
        _note(result.dropped, f"text body cut from {len(text)} to {MAX_TEXT_CHARS} characters")
        _coded(result.notes, "text_cut", length=len(text), limit=MAX_TEXT_CHARS)
        result.text_cut_from, result.full_text = len(text), text.strip()
        text = text[:MAX_TEXT_CHARS]
    result.text_body = text.strip()
    if walk.html_units:
        markup = "\n".join(walk.html_units)
        if len(markup) > MAX_HTML_CHARS:
            _note(result.dropped, f"HTML body cut from {len(markup)} to {MAX_HTML_CHARS} characters")
            _coded(result.notes, "html_cut", length=len(markup), limit=MAX_HTML_CHARS)
            markup = markup[:MAX_HTML_CHARS]
        try:
            result.html_body_sanitised = sanitise_html(markup)
        except Exception as exc:
            _note(result.dropped, f"HTML body dropped: sanitiser failed ({type(exc).__name__})")
            _coded(result.notes, "html_dropped")
    result.attachments = walk.attachments
    # after the walk: payload decoding (base64/QP) registers its defects lazily
    result.defects = sorted({type(d).__name__ for d in _all_defects(msg)})[:_MAX_LIST_NOTES]

    # --- classification -------------------------------------------------------------------
    _classify(msg, result, walk)
    result.spam_verdict = _spam_verdict(msg)
    result.no_reply_reason = _no_reply_reason(result, walk)
    return _storable(result)


# What a database cannot store (the same set as leitplanke.core.text; this module imports
# nothing of the project).
_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")


def _storable(value: Any) -> Any:
    """Mail cannot be refused: NUL and lone surrogates in any of its texts become U+FFFD
    (a database cannot store them), everything else stays as the sender wrote it."""
    if isinstance(value, str):
        return _UNSTORABLE_RE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_storable(item) for item in value]
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        for item in fields(value):
            setattr(value, item.name, _storable(getattr(value, item.name)))
    return value


_DMARC_FAIL_RE = re.compile(r"\bdmarc\s*=\s*fail\b", re.IGNORECASE)
_LIST_SENDER_RE = re.compile(r"^[^@]*-(request|bounces?|owner)@|^(owner|listserv|majordomo)-?[^@]*@", re.IGNORECASE)
_DAEMON_NAME_RE = re.compile(r"mail delivery (subsystem|system)|mailer[- ]daemon|postmaster", re.IGNORECASE)


def is_no_reply_address(address: str) -> bool:
    """A list robot's or a mailer daemon's address: never answer it automatically."""
    return bool(_LIST_SENDER_RE.search(address or "") or _BOUNCE_SENDER_RE.match(address or ""))


def _spam_verdict(msg: Message) -> str | None:
    """An upstream filter's verdict: SpamAssassin/rspamd flags, or a DMARC failure that the
    receiving server recorded in ``Authentication-Results``."""
    if _first_token(_raw_header(msg, "x-spam-flag")) == "yes":
        return "X-Spam-Flag: YES"
    status = (_raw_header(msg, "x-spam-status") or "").strip().lower()
    if status.startswith("yes"):
        return "X-Spam-Status: Yes"
    for value in _raw_headers(msg, "authentication-results"):
        if _DMARC_FAIL_RE.search(value):
            return "Authentication-Results: dmarc=fail"
    return None


def _no_reply_reason(result: ParsedMessage, walk: _Walk) -> str | None:
    """Senders that must never get an automatic answer although the message is not an
    automatic reply: list robots, mailer daemons, and digests."""
    address = result.from_address or ""
    if address and _LIST_SENDER_RE.search(address):
        return f"list address {address}"
    if address and _BOUNCE_SENDER_RE.match(address):
        return f"mailer-daemon address {address}"
    if _DAEMON_NAME_RE.search(result.from_name or ""):
        return f"mailer-daemon name {result.from_name}"
    if walk.is_digest:
        return "digest (multipart/digest)"
    return None


def _all_defects(msg: Message) -> Iterator[object]:
    try:
        for part in msg.walk():
            yield from getattr(part, "defects", [])
    except Exception:
        return


def _addr_list(msg: Message, names: tuple[str, ...], problems: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        for _display, addr in _parse_addresses(msg, name, problems):
            if addr and addr not in out:
                out.append(addr)
    return out


def _parse_date(raw: str | None) -> datetime | None:
    if not raw:
        return None
    value = _collapse_ws(_fix_surrogates(raw))
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:  # "-0000" or unknown zone name: RFC 5322 says "no information" → UTC
        parsed = parsed.replace(tzinfo=UTC)
    if not 1970 <= parsed.year <= 2200:
        return None
    return parsed


def _classify(msg: Message, result: ParsedMessage, walk: _Walk) -> None:
    return_path = _raw_header(msg, "return-path")
    null_sender = return_path is not None and return_path.strip() in ("<>", "")
    sender_is_daemon = bool(result.from_address and _BOUNCE_SENDER_RE.match(result.from_address)) or (
        result.from_address is None and bool(re.search(r"mailer-daemon|postmaster", result.from_name or "", re.I))
    )
    bounce_subject = bool(_BOUNCE_SUBJECT_RE.search(result.subject))
    bounce_reason = None
    if walk.report_type == "delivery-status":
        bounce_reason = "multipart/report; report-type=delivery-status"
    elif walk.has_delivery_status:
        bounce_reason = "message/delivery-status part"
    elif sender_is_daemon and (bounce_subject or null_sender):
        bounce_reason = "mailer-daemon/postmaster sender with bounce subject or null Return-Path"
    elif null_sender and bounce_subject:
        bounce_reason = "null Return-Path with bounce subject"
    if bounce_reason:
        result.is_bounce = True
        original = walk.bounce_original_id
        if original is None:
            match = _BODY_MSGID_RE.search(result.text_body)
            original = normalise_message_id(match.group(1)) if match else None
        if original == result.message_id:
            original = None
        result.bounce_original_message_id = original
        result.is_auto_reply = True
        result.auto_reason = f"bounce: {bounce_reason}"
        return
    reason = _detect_auto(msg, result.subject)
    if reason is None and walk.report_type == "disposition-notification":
        reason = "read receipt (multipart/report; report-type=disposition-notification)"
    if reason is None and null_sender:
        reason = "null Return-Path <> (RFC 5321: never answer)"
    if reason:
        result.is_auto_reply = True
        result.auto_reason = reason


# ---------------------------------------------------------------------------
# Sources: mbox, Maildir, .eml files
# ---------------------------------------------------------------------------

_MBOXRD_RE = re.compile(rb"^>(>*From )", re.MULTILINE)


def iter_mbox(path: str | os.PathLike[str], *, unescape_from: bool = True) -> Iterator[bytes]:
    """Yield the raw bytes of every message in an mbox file (without the ``From `` separator line).

    Bytes are never decoded, so any charset survives.  With ``unescape_from`` (default) the
    mboxrd quoting is reversed: a body line ``>From …`` becomes ``From …`` and ``>>From …``
    becomes ``>From …``.  (For mboxo files this also unquotes lines that were ``>From`` in the
    original – an accepted, cosmetic ambiguity.)
    """
    box = mailbox.mbox(os.fspath(path), factory=None, create=False)
    try:
        for key in box.iterkeys():
            data = box.get_bytes(key)
            if unescape_from:
                data = _MBOXRD_RE.sub(rb"\1", data)
            yield data
    finally:
        box.close()


def iter_maildir(path: str | os.PathLike[str]) -> Iterator[bytes]:
    """Yield the raw bytes of every message in a Maildir (``new`` and ``cur``), sorted by key."""
    box = mailbox.Maildir(os.fspath(path), factory=None, create=False)
    try:
        for key in sorted(box.iterkeys()):
            try:
                yield box.get_bytes(key)
            except (KeyError, FileNotFoundError):  # message moved away by another process
                continue
    finally:
        box.close()


def iter_eml_paths(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield ``path`` itself if it is a file, else every ``*.eml`` file below the directory
    (case-insensitive suffix, sorted, symlinked directories not followed)."""
    root = Path(path)
    if root.is_file():
        yield root
        return
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for filename in sorted(filenames):
            if filename.lower().endswith(".eml"):
                candidate = Path(dirpath) / filename
                if candidate.is_file():
                    yield candidate
