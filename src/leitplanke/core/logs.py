"""Log formatting that the settings' LOGGING refers to (no Django imports: logging is configured early)."""

from __future__ import annotations

import logging


class OneLineFormatter(logging.Formatter):
    """A record in one line, without its traceback: for expected client errors such as a request
    with a Host header that is not in ALLOWED_HOSTS (Django logs those with the exception
    attached, which printed a 20-line traceback per probe). Adds the client's address when the
    record carries the request."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{self.formatTime(record)} {record.levelname} {record.name} {record.getMessage()}"
        request = getattr(record, "request", None)
        remote = getattr(request, "META", {}).get("REMOTE_ADDR") if request is not None else None
        if remote:
            line += f" (from {remote})"
        # No exc_info, no stack: one line, whatever the message holds.
        return line.replace("\r", "\\r").replace("\n", "\\n")
