"""Attachment helpers: size limit, type detection from the content, safe names.

The client's content type and file name are never trusted: the type is sniffed from the
first bytes, the file is stored under a random name, and the original name is kept only
as data for the download's Content-Disposition.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leitplanke.core.errors import ValidationFailed

DEFAULT_MAX_BYTES = 15 * 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    content_type: str
    extension: str


PDF = FileKind("application/pdf", "pdf")
PNG = FileKind("image/png", "png")
JPEG = FileKind("image/jpeg", "jpg")
GIF = FileKind("image/gif", "gif")
WEBP = FileKind("image/webp", "webp")
ZIP = FileKind("application/zip", "zip")
DOCX = FileKind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
XLSX = FileKind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
MSG = FileKind("application/vnd.ms-outlook", "msg")
EML = FileKind("message/rfc822", "eml")
TEXT = FileKind("text/plain", "txt")
BMP = FileKind("image/bmp", "bmp")
TIFF = FileKind("image/tiff", "tif")
TNEF = FileKind("application/vnd.ms-tnef", "dat")
PKCS7 = FileKind("application/pkcs7-signature", "p7s")
# Kept from e-mail but never shown or opened in the browser: programs, scripts, unknown binaries.
BINARY = FileKind("application/octet-stream", "bin")

# Signatures of things we never store: Windows/DOS executables, ELF, Mach-O, Java classes
# (same magic as fat Mach-O), shell and other scripts with a shebang.
_EXECUTABLE_MAGIC = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",
)
# Sizes of the DIB header that follows a bitmap's "BM" file header (every Windows/OS2 version).
_BMP_HEADER_SIZES = (12, 16, 40, 52, 56, 64, 108, 124)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EML_HEADER = re.compile(
    rb"^(?:return-path|received|from|to|subject|date|message-id|mime-version|delivered-to|x-[a-z0-9-]+):",
    re.IGNORECASE | re.MULTILINE,
)
_SCRIPT_MARKERS = re.compile(rb"<\s*(script|html|svg|\?php)|<%|^\s*@echo\s+off", re.IGNORECASE | re.MULTILINE)


# Why a file is kept for download only (Attachment.download_note), in the reader's language.
DOWNLOAD_NOTES = {
    "program": gettext_lazy("A program or script: kept for the record, download only. Do not open it."),
    "archive_with_program": gettext_lazy("An archive with programs or scripts: kept for the record, download only."),
    "damaged_archive": gettext_lazy("A damaged archive: kept for the record, download only."),
    "unknown_type": gettext_lazy("A file of an unknown type: kept as it came, download only."),
}


class RefusedKind(ValidationFailed):
    """A kind of file that uploads refuse; `risk` is its key in DOWNLOAD_NOTES."""

    def __init__(self, risk: str, message: str) -> None:
        super().__init__(field_errors={"file": [message]})
        self.risk = risk


def max_attachment_bytes() -> int:
    return int(getattr(settings, "LEITPLANKE_MAX_ATTACHMENT_BYTES", DEFAULT_MAX_BYTES))


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still text.
        if error.start < len(head) - 4:
            try:
                head.decode("cp1252")
            except UnicodeDecodeError:
                return False
    control = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 12, 13))
    return control <= len(head) // 100


def _zip_kind(content: bytes) -> FileKind:
    """A ZIP container: an Office Open XML document or a plain archive (checked for executables)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise RefusedKind("damaged_archive", _("The file is a damaged archive.")) from None
    if "[Content_Types].xml" in names:
        if any(name.startswith("word/") for name in names):
            return DOCX
        if any(name.startswith("xl/") for name in names):
            return XLSX
    dangerous = (".exe", ".dll", ".bat", ".cmd", ".com", ".scr", ".ps1", ".vbs", ".js", ".jar", ".msi", ".sh")
    if any(name.lower().endswith(dangerous) for name in names):
        raise RefusedKind("archive_with_program", _("Archives with programs or scripts are not accepted."))
    return ZIP


def sniff(content: bytes) -> FileKind:
    """The file's kind from its first bytes; ValidationFailed for programs and unknown binaries."""
    head = content[:4096]
    if head.startswith(_EXECUTABLE_MAGIC):
        raise RefusedKind("program", _("Programs and scripts are not accepted as attachments."))
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"BM") and len(head) >= 18 and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES:
        return BMP
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    if head.startswith(b"\x78\x9f\x3e\x22"):  # TNEF (winmail.dat) signature
        return TNEF
    if head.startswith(b"\x30\x82") and b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07" in head[:64]:
        return PKCS7  # DER with the PKCS #7 object identifier (smime.p7s)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(content)
    if head.startswith(_OLE_MAGIC):
        # Outlook .msg files are OLE compound documents; they carry this stream name (UTF-16).
        if "__substg1.0_".encode("utf-16-le") in content[:1_000_000]:
            return MSG
        raise RefusedKind("unknown_type", _("This file type is not accepted."))
    if _looks_like_text(head):
        if _SCRIPT_MARKERS.search(head):
            raise RefusedKind("program", _("Programs and scripts are not accepted as attachments."))
        if len(_EML_HEADER.findall(head[:2048])) >= 2:
            return EML
        return TEXT
    raise RefusedKind("unknown_type", _("This file type is not accepted."))


def safe_original_name(name: str, kind: FileKind) -> str:
    """The user's file name without path parts or control characters, at most 255 characters."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if not name:
        name = f"attachment.{kind.extension}"
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:20] if dot else ""
        name = (stem if dot else name)[: 255 - len(ext) - 1] + ("." + ext if ext else "")
        name = name[:255]
    return name


def generated_name(kind: FileKind) -> str:
    return f"{secrets.token_hex(16)}.{kind.extension}"


@dataclass
class PreparedFile:
    content: bytes
    original_name: str
    kind: FileKind
    sha256: str
    stored_name: str
    # Set by prepare(keep_risky=True) for a file that would otherwise be refused: a key of DOWNLOAD_NOTES.
    download_note: str = ""

    @property
    def size(self) -> int:
        return len(self.content)


def read_upload(uploaded_file: Any, name: str | None = None) -> tuple[bytes, str]:
    """Bytes and client name from an UploadedFile, a (name, bytes) pair or raw bytes (+ name)."""
    limit = max_attachment_bytes()
    too_big = ValidationFailed(
        field_errors={"file": [_("The file is too large (at most %(mb)s MB).") % {"mb": round(limit / (1024 * 1024), 1)}]}
    )
    if isinstance(uploaded_file, tuple) and len(uploaded_file) == 2:
        name, uploaded_file = uploaded_file
    if isinstance(uploaded_file, bytes | bytearray | memoryview):
        content = bytes(uploaded_file)
    elif uploaded_file is None:
        raise ValidationFailed(field_errors={"file": [_("Choose a file.")]})
    else:
        declared = getattr(uploaded_file, "size", None)
        if declared is not None and declared > limit:
            raise too_big
        name = name or getattr(uploaded_file, "name", "") or ""
        if hasattr(uploaded_file, "seek"):
            uploaded_file.seek(0)
        content = uploaded_file.read(limit + 1)
    if len(content) > limit:
        raise too_big
    if not content:
        raise ValidationFailed(field_errors={"file": [_("The file is empty.")]})
    return content, os.path.basename(str(name or ""))


def prepare(uploaded_file: Any, name: str | None = None, *, keep_risky: bool = False) -> PreparedFile:
    """Reads and checks a file. With `keep_risky` (files that came with an e-mail, which the
    record must keep), a kind that uploads refuse is kept as an opaque binary instead, for
    download only, with the reason in `download_note`; size limits still apply."""
    content, client_name = read_upload(uploaded_file, name)
    note = ""
    try:
        kind = sniff(content)
    except RefusedKind as refusal:
        if not keep_risky:
            raise
        kind, note = BINARY, refusal.risk
    original = safe_original_name(client_name, kind)
    return PreparedFile(
        content=content,
        original_name=original,
        kind=kind,
        sha256=hashlib.sha256(content).hexdigest(),
        stored_name=generated_name(kind),
        download_note=note,
    )
