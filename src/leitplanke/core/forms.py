"""Form helpers: the base of every form, and service errors shown on forms.

`Form` (or `StorableTextMixin`) refuses text the database cannot store (NUL, lone
surrogates), whatever the field, as an error on that field that keeps what was typed
(core/text.py). Every form in the project derives from one of them; the system check
`leitplanke.E001` (core/checks.py) fails for one that does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404

from .errors import UNSTORABLE_TEXT, DomainError, NotFound
from .text import unstorable_paths


class StorableTextMixin:
    """Checks each field's raw input (texts and lists of them) before the field
    cleans it, so that neither the field nor a `clean_<field>` method sees such text: a
    lookup with it would fail on PostgreSQL."""

    def _clean_fields(self: Any) -> None:
        # Django's BaseForm._clean_fields, with unstorable input refused first.
        for name, bound in self._bound_items():
            field = bound.field
            if not field.disabled and next(unstorable_paths(bound.data), None) is not None:
                self.add_error(name, ValidationError(UNSTORABLE_TEXT, code="unstorable"))
                continue
            try:
                self.cleaned_data[name] = field._clean_bound_field(bound)
                if hasattr(self, f"clean_{name}"):
                    self.cleaned_data[name] = getattr(self, f"clean_{name}")()
            except ValidationError as error:
                self.add_error(name, error)


class Form(StorableTextMixin, forms.Form):
    pass


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
