from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from .models import User


class EmailBackend(ModelBackend):
    """Log in with e-mail address (case-insensitive) and password."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        email: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        address = (email or username or "").strip()
        if not address or password is None:
            return None
        user = User.objects.filter(email__iexact=address).first()
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle for unknown addresses
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
