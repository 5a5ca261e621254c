"""Text that a database cannot store: NUL and lone UTF-16 surrogates.

PostgreSQL refuses both in text and JSON (the request then ends in a 500), SQLite stores
NUL, and lone surrogates in JSON, and nothing downstream expects them. Input from people
and clients is refused where it enters (API: api/text_input.py; forms: core/forms.py;
query strings: core/middleware.py); input that cannot be refused — e-mail — is cleaned
(intake/mailparse.py). Pure Python, no Django.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# A Python str holds surrogates only as lone code points (a JSON "\ud83d\ude00" pair is joined
# when decoded), so every code point in this range is one that UTF-8 cannot encode.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"
# In raw JSON: a NUL byte, UTF-8 bytes of a surrogate (which json.loads passes through), or
# an escape of NUL or of a surrogate (also of a valid pair, such as an escaped emoji).
_JSON_MAY_HOLD_UNSTORABLE = re.compile(rb"\x00|\xed[\xa0-\xbf]|\\u0000|\\u[dD][89a-fA-F]")


def is_storable(text: str) -> bool:
    return _UNSTORABLE.search(text) is None


def json_may_hold_unstorable(raw: bytes) -> bool:
    """False when a JSON document certainly decodes to storable strings only: then its
    parsed data need not be walked (the check costs about a microsecond, the walk tens)."""
    return _JSON_MAY_HOLD_UNSTORABLE.search(raw) is not None


def storable(text: str) -> str:
    """The text with NUL and lone surrogates replaced by U+FFFD (everything else kept)."""
    return _UNSTORABLE.sub(REPLACEMENT, text) if _UNSTORABLE.search(text) else text


def multi_fields(data: Any) -> dict[str, Any]:
    """A Django QueryDict/MultiValueDict as plain data: each key's value, or its list of
    values when it came more than once (so that a refusal names `tags/1`)."""
    return {key: values[0] if len(values) == 1 else values for key, values in data.lists()}


def unstorable_paths(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The paths (keys and list positions) of every string in `value` — dicts, lists, tuples
    and strings; other values are not text — that cannot be stored. A dict key that cannot be
    stored is reported at its own path."""
    if isinstance(value, str):
        if not is_storable(value):
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            key_path = (*path, storable(str(key)))
            if isinstance(key, str) and not is_storable(key):
                yield key_path
            else:
                yield from unstorable_paths(item, key_path)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from unstorable_paths(item, (*path, str(index)))
