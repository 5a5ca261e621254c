from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.http import Http404

from .errors import DomainError, NotFound


def apply_domain_error(form: forms.Form, error: DomainError) -> None:
    """Shows a service's error on the form, keeping everything the user typed."""
    if not error.field_errors:
        form.add_error(None, str(error.message))
        return
    for field, messages in error.field_errors.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, str(message))


def attempt(form: forms.Form, action: Callable[[], Any]) -> Any:
    """Runs a service call for a form view: NotFound becomes a 404; any other domain error
    is shown on the form (which keeps what was typed) and the call returns None."""
    try:
        return action()
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        apply_domain_error(form, error)
        return None
