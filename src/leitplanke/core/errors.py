"""Domain errors. Services raise them; the API maps them to problem details (RFC 9457)
and views to form errors or error pages, always in the user's language."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .text import unstorable_paths

UNSTORABLE_TEXT = _("This text contains a character that cannot be stored (NUL or an unpaired surrogate).")


class DomainError(Exception):
    """Base class: `code` is stable for API clients, `status` is the HTTP status."""

    code = "error"
    status = 400
    default_message: Any = _("The request could not be processed.")

    def __init__(self, message: Any = None, *, field_errors: dict[str, list[str]] | None = None, **extra: Any):
        self.message = message if message is not None else self.default_message
        self.field_errors = field_errors or {}
        self.extra = extra
        super().__init__(str(self.message))


class ValidationFailed(DomainError):
    code = "validation_error"
    status = 422
    default_message = _("Some fields are not valid.")


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403
    default_message = _("You are not allowed to do this.")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = _("The object was changed by someone else.")


class PreconditionFailed(DomainError):
    code = "precondition_failed"
    status = 412
    default_message = _("The object was changed since you loaded it.")


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    default_message = _("Too many requests. Please wait a moment and try again.")

    def __init__(self, message: Any = None, *, retry_after: int = 60, **extra: Any):
        super().__init__(message, **extra)
        self.retry_after = retry_after


def refuse_unknown_fields(changes: Iterable[str], allowed: Iterable[str]) -> None:
    """Update services take `**changes`: a field they do not offer is an error on that field."""
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValidationFailed(field_errors={name: [gettext("This field cannot be changed.")] for name in sorted(unknown)})


def refuse_unstorable_text(data: Any) -> None:
    """Raises ValidationFailed naming every field of `data` (nested: `custom_fields/x`,
    `tags/1`) whose text holds NUL or a lone surrogate (core/text.py)."""
    fields = ["/".join(path) for path in unstorable_paths(data)]
    if fields:
        raise ValidationFailed(field_errors={field: [str(UNSTORABLE_TEXT)] for field in fields})
