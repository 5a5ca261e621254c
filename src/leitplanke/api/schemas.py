"""Schemas and types every router shares.

Input is taken as the OpenAPI document describes it, never coerced: pydantic's lax mode
would read `true` as the id 1 (a fuzzer's `{"duplicate_id": true}` merged customer 1),
`1.0` as 1, `"yes"` or `0` as a boolean and a number as a date. So JSON bodies use these
types for every integer, boolean and date field, and every input schema derives from
`InputSchema`, which refuses unknown fields (a misspelt field is a 422, not ignored).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from ninja import Schema
from pydantic import AwareDatetime, BeforeValidator, ConfigDict, Field, Strict

# The largest id either database can hold (PostgreSQL bigint; SQLite's integer): a larger
# number would answer 500 (OverflowError) instead of 422.
MAX_ID = 2**63 - 1
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class InputSchema(Schema):
    """Every request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


def exact_int(value: Any) -> Any:
    """Refuses booleans and floats where an integer is expected (for Literal[1, 2, ...],
    which pydantic's `Strict` does not apply to)."""
    if type(value) is not int:
        raise ValueError("Input should be a valid integer")
    return value


def iso_text(value: Any) -> Any:
    """Dates and times arrive as ISO 8601 text only (pydantic would read a number as a
    Unix timestamp: `0` as 1 January 1970)."""
    if isinstance(value, dt.date):  # already parsed (a default, or a test calling the schema)
        return value
    if not isinstance(value, str):
        raise ValueError("Input should be a date or time in ISO 8601 text")
    return value


def iso_date(value: Any) -> Any:
    """A date as YYYY-MM-DD only (not a number, not another ISO form)."""
    value = iso_text(value)
    if isinstance(value, str):
        try:
            if not DATE_RE.fullmatch(value):
                raise ValueError
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError("Input should be a date in the form YYYY-MM-DD") from None
    return value


# An id in a JSON body: an integer (not a boolean, not a float) from 1 to MAX_ID.
Id = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
# An id in a path or query string (text by nature; pydantic reads only digits as a number).
IdParam = Annotated[int, Field(ge=1, le=MAX_ID)]
StrictBool = Annotated[bool, Strict()]
# A date as YYYY-MM-DD (body or query string); a time with its offset.
IsoDate = Annotated[dt.date, BeforeValidator(iso_date)]
IsoAwareDatetime = Annotated[AwareDatetime, BeforeValidator(iso_text)]


class Problem(Schema):
    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str | None = None
    errors: list[dict] | None = None
