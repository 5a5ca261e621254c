from __future__ import annotations

from django import forms

from .errors import DomainError


def apply_domain_error(form: forms.Form, error: DomainError) -> None:
    """Shows a service's error on the form, keeping everything the user typed."""
    if not error.field_errors:
        form.add_error(None, str(error.message))
        return
    for field, messages in error.field_errors.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, str(message))
