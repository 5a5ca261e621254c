"""Attachment names on pages: shortened for display (the full name stays in the title and
the download), and the warning for files kept for download only."""

from __future__ import annotations

from django import template

from leitplanke.cases.attachments import DOWNLOAD_NOTES

register = template.Library()
DISPLAY_CHARS = 60


@register.filter
def short_filename(name: str, length: int = DISPLAY_CHARS) -> str:
    """`"Rechnung vom 12. Januar … Anwalts.pdf"`: the start and the end (with the extension)
    of a name longer than `length` characters, joined by an ellipsis."""
    name = str(name or "")
    if len(name) <= length:
        return name
    _stem, dot, extension = name.rpartition(".")
    tail = f".{extension}" if dot and 0 < len(extension) <= 10 else ""
    keep = length - 1 - len(tail)
    head_chars = keep * 2 // 3
    body = name[: len(name) - len(tail)]
    return f"{body[:head_chars].rstrip()}…{body[len(body) - (keep - head_chars) :].lstrip()}{tail}"


@register.filter
def download_warning(code: str) -> str:
    """Why a file is offered for download only, in the reader's language."""
    text = DOWNLOAD_NOTES.get(str(code or ""))
    return str(text) if text is not None else ""
