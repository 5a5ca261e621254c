from django.core.mail import BadHeaderError
from django.core.mail.backends.base import BaseEmailBackend


class FailingBackend(BaseEmailBackend):
    """An SMTP server that is down."""

    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        raise ConnectionRefusedError("connection refused by smtp.example:25")


class BrokenMessageBackend(BaseEmailBackend):
    """A message that can never be sent (what a header with a line break used to cause)."""

    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        raise BadHeaderError("Header values can't contain newlines")
