"""Checks for what an organisation or a brand shows on the public pages: the sites that may
frame the form, links, a colour and the logo. Each raises `ValidationFailed` on its field."""

from __future__ import annotations

import hashlib
import io
import re
from typing import Any

from django.utils.translation import gettext as _

from .errors import ValidationFailed

MAX_LOGO_BYTES = 512 * 1024
MAX_LOGO_PIXELS = 4000 * 4000
LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}
_ORIGIN = re.compile(r"^https?://(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_ORIGINS = 20


def clean_origins(text: str, *, field: str = "form_frame_ancestors") -> str:
    """Origins (scheme, host, optional port; `*.` for subdomains), one per line or separated
    by spaces or commas; anything else is refused, so nothing can reach the CSP header but
    origins. Returns them one per line."""
    origins: list[str] = []
    for raw in re.split(r"[\s,]+", text or ""):
        if not raw:
            continue
        origin = raw.lower().rstrip("/")
        if not _ORIGIN.match(origin):
            raise ValidationFailed(
                field_errors={field: [_("“%(value)s” is not an origin such as https://www.example.de.") % {"value": raw[:80]}]}
            )
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_ORIGINS:
        raise ValidationFailed(field_errors={field: [_("At most %(n)s sites.") % {"n": MAX_ORIGINS}]})
    return "\n".join(origins)


def clean_url(value: str, *, field: str) -> str:
    value = (value or "").strip()
    if value and not re.match(r"^https?://[^\s\"'<>]+$", value):
        raise ValidationFailed(field_errors={field: [_("Enter a web address starting with https://.")]})
    if len(value) > 200:
        raise ValidationFailed(field_errors={field: [_("At most %(n)s characters.") % {"n": 200}]})
    return value


def clean_colour(value: str, *, field: str = "colour") -> str:
    value = (value or "").strip()
    if value and not _COLOUR.match(value):
        raise ValidationFailed(field_errors={field: [_("Enter a colour such as #0f5c8c.")]})
    return value.lower()


def clean_logo(upload: Any, *, field: str = "logo") -> tuple[bytes, str, str]:
    """A PNG or JPEG of at most MAX_LOGO_BYTES, decoded once to prove it is one (not just
    named or labelled so). Returns its bytes, content type and SHA-256."""
    size = getattr(upload, "size", None) or 0
    if size > MAX_LOGO_BYTES:
        raise ValidationFailed(field_errors={field: [_("The logo may be at most %(kb)s KB.") % {"kb": MAX_LOGO_BYTES // 1024}]})
    content = upload.read(MAX_LOGO_BYTES + 1)
    if len(content) > MAX_LOGO_BYTES:
        raise ValidationFailed(field_errors={field: [_("The logo may be at most %(kb)s KB.") % {"kb": MAX_LOGO_BYTES // 1024}]})
    from PIL import Image

    refused = ValidationFailed(field_errors={field: [_("The logo must be a PNG or JPEG image.")]})
    if not (content.startswith(b"\x89PNG\r\n\x1a\n") or content.startswith(b"\xff\xd8\xff")):
        raise refused
    try:
        with Image.open(io.BytesIO(content)) as image:
            kind = image.format or ""
            if kind not in LOGO_TYPES or image.width * image.height > MAX_LOGO_PIXELS:
                raise refused
            image.verify()
    except ValidationFailed:
        raise
    except Exception:  # any decoder error: not a usable image
        raise refused from None
    return content, LOGO_TYPES[kind], hashlib.sha256(content).hexdigest()
