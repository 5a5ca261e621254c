"""The intake's reason codes in words, for the inbound log."""

from __future__ import annotations

from django import template

from leitplanke.intake.reasons import REASONS, reason_text

register = template.Library()


@register.filter
def reason_words(code: str) -> str:
    """The reason in the reader's language, or "" for a code without words (duplicates …)."""
    return reason_text(code) if code in REASONS else ""
