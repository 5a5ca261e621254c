"""Refuses text the database cannot store (NUL, lone surrogates) in every API input, with
a 422 problem that names the field, before anything is written (core/text.py says why).

Two hooks cover every way in:
- `TextCheckingParser`, the API's parser, checks a JSON body where it is parsed (after
  authentication): nested fields, list items and object keys included;
- `refuse_unstorable_input`, a decorator around every operation, checks what Django has
  already decoded: path parameters, the query string (all of it: some operations read
  parameters the schema does not name) and form fields (a client may declare a charset
  such as UTF-7 that decodes to lone surrogates). Django itself strips NUL from uploaded
  file names and decodes them with replacement.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.parser import Parser

from leitplanke.core.errors import ValidationFailed, refuse_unstorable_text
from leitplanke.core.text import json_may_hold_unstorable, multi_fields

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class TextCheckingParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        data = super().parse_body(request)
        if json_may_hold_unstorable(request.body):
            refuse_unstorable_text(data)
        return data


def refuse_unstorable_input(api: NinjaAPI) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    def decorate(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(run)
        def checked(request: HttpRequest, *args: Any, **path: Any) -> HttpResponse:
            try:
                refuse_unstorable_text(path)
                refuse_unstorable_text(multi_fields(request.GET))
                if (request.content_type or "").startswith(FORM_TYPES):
                    refuse_unstorable_text(multi_fields(request.POST))
            except ValidationFailed as error:
                return api.on_exception(request, error)
            return run(request, *args, **path)

        return checked

    return decorate


def unwrap_body_error(error: Exception) -> ValidationFailed | None:
    """Ninja reports any exception of the body parser as a 400 'Cannot parse request body';
    the refusal above is the 422 it was raised as."""
    cause = error.__cause__
    return cause if isinstance(cause, ValidationFailed) else None
