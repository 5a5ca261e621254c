"""Per-request context: request id and client IP for the audit log, and the reference
generation read once per request (`core.refcache`)."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None
    # A one-element list filled at the first use in a request; None outside requests
    # (workers, commands), which read the generation at every use.
    reference_generation: list[int | None] | None = None


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar("leitplanke_request", default=RequestContext())  # noqa: B039 - frozen dataclass


def current_request_context() -> RequestContext:
    return _current.get()


def set_request_context(context: RequestContext) -> contextvars.Token[RequestContext]:
    return _current.set(context)


def reset_request_context(token: contextvars.Token[RequestContext]) -> None:
    _current.reset(token)
