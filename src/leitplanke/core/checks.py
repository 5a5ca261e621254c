"""System checks (`manage.py check`, run by `make gates`)."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from django import forms
from django.core.checks import Error, register

import leitplanke

from .forms import StorableTextMixin

# Modules that define forms: forms.py, *_forms.py, and views that keep a small form beside them.
FORM_MODULE_SUFFIXES = ("forms", "views")


def _form_modules() -> list[str]:
    names = [module.name for module in pkgutil.walk_packages(leitplanke.__path__, "leitplanke.")]
    return [name for name in names if name.rsplit(".", 1)[-1].endswith(FORM_MODULE_SUFFIXES)]


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    direct: list[type] = cls.__subclasses__()
    for sub in direct:
        found |= {sub, *_subclasses(sub)}
    return found


def project_forms_without_text_check() -> list[type]:
    for name in _form_modules():
        importlib.import_module(name)
    project = [cls for cls in _subclasses(forms.BaseForm) if cls.__module__.startswith("leitplanke.")]
    return sorted((cls for cls in project if not issubclass(cls, StorableTextMixin)), key=lambda cls: cls.__qualname__)


@register()
def forms_refuse_unstorable_text(app_configs: Any, **kwargs: Any) -> list[Error]:
    """Every form refuses NUL and lone surrogates (core/forms.py)."""
    return [
        Error(
            f"{cls.__module__}.{cls.__qualname__} does not refuse text the database cannot store",
            hint="Derive it from leitplanke.core.forms.Form or mix in StorableTextMixin.",
            obj=cls,
            id="leitplanke.E001",
        )
        for cls in project_forms_without_text_check()
    ]
