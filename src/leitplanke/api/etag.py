"""ETags and If-Match for optimistic concurrency: a case's ETag is its `version`.

`GET` returns `ETag: W/"<version>"`; a `PATCH` must send it back in `If-Match`. A
missing header is a 428 problem (`precondition_required`), a stale one a 412
(`precondition_failed`) — the service re-checks the version under a row lock, so two
clients with the same ETag cannot both win.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from leitplanke.core.errors import DomainError, PreconditionFailed

_ENTITY_TAG = re.compile(r'\s*(?:W/)?"(\d+)"\s*')


class PreconditionRequired(DomainError):
    """A change without If-Match: the client must say which version it changes (RFC 6585)."""

    code = "precondition_required"
    status = 428
    default_message = _("Send the ETag of the version you changed in the If-Match header.")


def etag_for(obj: Any) -> str:
    """The weak entity tag of a versioned object: `W/"<version>"`."""
    return f'W/"{obj.version}"'


def parse_if_match(request: HttpRequest) -> list[int] | None:
    """The versions listed in If-Match; None when the header is absent, [] for `*`.

    Raises PreconditionFailed for a header that names no version we could ever have
    issued (garbage can never match, RFC 9110 §13.1.1).
    """
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    raw = raw.strip()
    if raw == "*":
        return []
    versions: list[int] = []
    for part in raw.split(","):
        match = _ENTITY_TAG.fullmatch(part)
        if match is None:
            raise PreconditionFailed(
                _("The If-Match header is not a valid entity tag."),
                field_errors={"If-Match": [str(_('Expected an ETag such as W/"3".'))]},
            )
        versions.append(int(match.group(1)))
    return versions


def expected_version(request: HttpRequest, obj: Any, *, required: bool) -> int | None:
    """The version the client expects `obj` to have, for the service's conflict check.

    `If-Match: *` means "any current version" (None); a list of tags matches when one of
    them is the current version. Without the header: 428 when `required`, else None.
    """
    versions = parse_if_match(request)
    if versions is None:
        if required:
            raise PreconditionRequired()
        return None
    if not versions:
        return None
    if obj.version in versions:
        return int(obj.version)
    raise PreconditionFailed(current_etag=etag_for(obj))
