"""Errors of the deadline engine: each names the input field it is about, with a stable code
(the Django side turns them into 422 problems and form errors in the user's language)."""

from __future__ import annotations

from typing import Any


class EngineError(Exception):
    field: str = ""
    code: str = "invalid"

    def __init__(self, field: str, code: str, message: str, **params: Any):
        self.field = field
        self.code = code
        self.message = message
        self.params = params
        super().__init__(f"{field}: {message}")


class InputError(EngineError):
    """Bad input: a rule parameter, a time, a pause, a jurisdiction."""


class YearNotCovered(EngineError):
    """The holiday data does not cover the year; the engine refuses rather than guesses."""

    def __init__(self, year: int, first: int, last: int):
        super().__init__(
            "received_at",
            "year_not_covered",
            f"The holiday data covers {first}–{last}; {year} is outside it.",
            year=year,
            first=first,
            last=last,
        )
