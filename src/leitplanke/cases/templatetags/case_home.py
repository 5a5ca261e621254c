"""`{% case_home_cards %}`: the case cards on the start page.

A template tag, so the start page (core) shows case figures without core importing cases.
"""

from __future__ import annotations

from typing import Any

from django import template

from leitplanke.cases.home import home_cases

register = template.Library()


@register.inclusion_tag("cases/_home_cards.html", takes_context=True)
def case_home_cards(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return {"home": home_cases(actor=user)}
