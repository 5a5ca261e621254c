from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation


class UserLanguageMiddleware:
    """Logged-in users see their chosen language; others get the browser's (LocaleMiddleware).

    A request with a bearer token is the token's, whatever cookies it carries: the browser
    session is not consulted (nor loaded: two queries), and the language is the client's
    Accept-Language like for any API client."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = None if request.headers.get("Authorization", "").lower().startswith("bearer ") else getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language  # type: ignore[attr-defined]
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language() or "de")
        return response
