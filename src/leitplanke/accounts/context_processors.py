from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from . import permissions, selectors


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the navigation may show; the views check permissions again."""
    user = getattr(request, "user", None)
    codes = permissions.capabilities_of(user) if user is not None else frozenset()
    return {
        "can": {
            "administer": permissions.MANAGE_ORGANISATION in codes,
            "audit": permissions.VIEW_AUDIT in codes,
            "manage_templates": permissions.MANAGE_TEMPLATES in codes,
            "edit_cases": permissions.EDIT_CASES in codes,
            "see_cases": bool({permissions.VIEW_ALL_CASES, permissions.VIEW_TEAM_CASES} & codes),
            "manage_maturity": permissions.MANAGE_MATURITY in codes,
            "manage_processes": permissions.MANAGE_PROCESSES in codes,
            "see_consistency": bool({permissions.VIEW_QUALITY, permissions.LEAD_TEAM} & codes),
            "lead_team": permissions.LEAD_TEAM in codes,
            "approve": bool(codes) and permissions.may_approve(user),
        }
    }


def public_branding(request: HttpRequest) -> dict[str, Any]:
    """The organisation's name, logo and contact for public pages and for what anonymous
    visitors see; read only when a template uses it (a view may set its own, e.g. a brand)."""
    return {"branding": SimpleLazyObject(selectors.public_branding)}
