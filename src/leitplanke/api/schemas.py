from __future__ import annotations

from ninja import Schema


class Problem(Schema):
    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str | None = None
    errors: list[dict] | None = None
