"""Problem details (RFC 9457) for every API error, with a stable `code`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from leitplanke.core.errors import DomainError, ValidationFailed

from .auth import NotAuthenticated
from .text_input import unwrap_body_error

PROBLEM_TYPE = "https://leitplanke.example/problems/"


@contextmanager
def input_names(api_name: Callable[[str], str]) -> Iterator[None]:
    """Renames the fields of a service's validation errors to the API's input names, so each
    error points at the JSON field the client sent (services say `product`, the API
    `product_id`)."""
    try:
        yield
    except ValidationFailed as error:
        error.field_errors = {api_name(field): messages for field, messages in error.field_errors.items()}
        raise


def problem(
    api: NinjaAPI,
    request: HttpRequest,
    *,
    status: int,
    code: str,
    title: str,
    detail: str = "",
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> HttpResponse:
    body: dict[str, Any] = {"type": PROBLEM_TYPE + code, "title": title, "status": status, "code": code}
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = "application/problem+json"
    for key, value in (headers or {}).items():
        response[key] = value
    return response


# Pydantic's messages are English only: the common ones in the client's language (the
# Accept-Language of the request, or the user's language for a browser session).
VALIDATION_MESSAGES: dict[str, Any] = {
    "missing": gettext_lazy("This field is required."),
    "string_type": gettext_lazy("Enter text."),
    "string_too_long": gettext_lazy("At most %(max_length)s characters."),
    "string_too_short": gettext_lazy("At least %(min_length)s characters."),
    "too_long": gettext_lazy("At most %(max_length)s entries."),
    "literal_error": gettext_lazy("Choose one of: %(expected)s."),
    "enum": gettext_lazy("Choose one of: %(expected)s."),
    "int_parsing": gettext_lazy("Enter a whole number."),
    "int_type": gettext_lazy("Enter a whole number."),
    "float_parsing": gettext_lazy("Enter a number."),
    "decimal_parsing": gettext_lazy("Enter a number."),
    "bool_parsing": gettext_lazy("Enter true or false."),
    "bool_type": gettext_lazy("Enter true or false."),
    "date_parsing": gettext_lazy("Enter a date as YYYY-MM-DD."),
    "date_from_datetime_parsing": gettext_lazy("Enter a date as YYYY-MM-DD."),
    "datetime_parsing": gettext_lazy("Enter a date and time as YYYY-MM-DDTHH:MM:SS with a time zone."),
    "datetime_from_date_parsing": gettext_lazy("Enter a date and time as YYYY-MM-DDTHH:MM:SS with a time zone."),
    "list_type": gettext_lazy("Send a list."),
    "dict_type": gettext_lazy("Send an object."),
    "model_type": gettext_lazy("Send an object."),
    "json_invalid": gettext_lazy("The request body is not valid JSON."),
    "greater_than_equal": gettext_lazy("At least %(ge)s."),
    "less_than_equal": gettext_lazy("At most %(le)s."),
    "greater_than": gettext_lazy("More than %(gt)s."),
    "less_than": gettext_lazy("Less than %(lt)s."),
    "extra_forbidden": gettext_lazy("This field is not known."),
}


def validation_message(error: dict[str, Any]) -> str:
    """One pydantic error in the active language; pydantic's English text where none is known."""
    template = VALIDATION_MESSAGES.get(str(error.get("type", "")))
    if template is None:
        return str(error.get("msg", ""))
    try:
        return str(template) % dict(error.get("ctx") or {})
    except (KeyError, TypeError, ValueError):
        return str(error.get("msg", ""))


HTTP_TITLES: dict[int, Any] = {
    400: gettext_lazy("The request could not be read."),
    405: gettext_lazy("This method is not allowed here."),
    415: gettext_lazy("Send the body as application/json."),
    428: gettext_lazy("Send If-Match with the version you changed."),
}


def _pointer(loc: list[Any]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "payload", "query", "path", "header")]
    return "/" + "/".join(parts)


def install(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        errors = [
            {"pointer": f"/{field}", "detail": str(message)}
            for field, messages in exc.field_errors.items()
            for message in messages
        ]
        retry_after = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        extra = {k: v for k, v in exc.extra.items() if isinstance(v, str | int | float | bool | None)}
        return problem(
            api,
            request,
            status=exc.status,
            code=exc.code,
            title=str(type(exc).default_message),
            detail=str(exc.message),
            errors=errors,
            headers=headers,
            **extra,
        )

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [{"pointer": _pointer(list(err.get("loc", []))), "detail": validation_message(err)} for err in exc.errors]
        return problem(api, request, status=422, code="validation_error", title=_("Some fields are not valid."), errors=errors)

    @api.exception_handler(NotAuthenticated)
    def not_authenticated(request: HttpRequest, exc: NotAuthenticated) -> HttpResponse:
        return problem(
            api,
            request,
            status=401,
            code="not_authenticated",
            title=_("Authentication required."),
            detail=str(exc),
            headers={"WWW-Authenticate": 'Bearer realm="leitplanke"'},
        )

    @api.exception_handler(AuthenticationError)
    def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem(
            api,
            request,
            status=401,
            code="not_authenticated",
            title=_("Authentication required."),
            detail=_("Send a personal API token as 'Authorization: Bearer <token>'."),
            headers={"WWW-Authenticate": 'Bearer realm="leitplanke"'},
        )

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        refused = unwrap_body_error(exc)
        if refused is not None:
            return domain_error(request, refused)
        codes = {
            400: "bad_request",
            401: "not_authenticated",
            403: "permission_denied",
            404: "not_found",
            405: "method_not_allowed",
            409: "conflict",
            412: "precondition_failed",
            415: "unsupported_media_type",
            422: "validation_error",
            428: "precondition_required",
            429: "rate_limited",
        }
        code = codes.get(exc.status_code, "error")
        title = HTTP_TITLES.get(exc.status_code)
        detail = str(exc.message or "") if title is not None else ""
        return problem(api, request, status=exc.status_code, code=code, title=str(title or exc.message or code), detail=detail)
