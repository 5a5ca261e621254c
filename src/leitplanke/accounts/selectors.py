"""Reads of accounts data, scoped to what the asking user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from leitplanke.core.errors import NotFound, PermissionDenied

from . import permissions
from .models import Absence, ApiToken, Role, Skill, Team, User, UserSkill


def _require_admin_or_auditor(actor: Any) -> None:
    if not (permissions.has_capability(actor, permissions.MANAGE_ORGANISATION)
            or permissions.has_capability(actor, permissions.VIEW_AUDIT)):
        raise PermissionDenied()


def user_list(*, actor: Any, search: str = "", team_id: int | None = None, include_inactive: bool = True) -> QuerySet[User]:
    _require_admin_or_auditor(actor)
    qs = User.objects.prefetch_related("roles", "teams").order_by("full_name", "id")
    if search:
        qs = qs.filter(full_name__icontains=search) | qs.filter(email__icontains=search)
    if team_id:
        qs = qs.filter(teams__id=team_id)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.distinct()


def user_get(*, actor: Any, user_id: int) -> User:
    _require_admin_or_auditor(actor)
    user = (User.objects.prefetch_related("roles", "teams", Prefetch("skills", UserSkill.objects.select_related("skill")))
            .filter(pk=user_id).first())
    if user is None:
        raise NotFound()
    return user


def team_list(*, actor: Any) -> QuerySet[Team]:
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied()
    return Team.objects.select_related("lead").prefetch_related("members").order_by("name")


def team_get(*, actor: Any, team_id: int) -> Team:
    team = team_list(actor=actor).filter(pk=team_id).first()
    if team is None:
        raise NotFound()
    return team


def role_list() -> QuerySet[Role]:
    return Role.objects.order_by("name_en")


def skill_list() -> QuerySet[Skill]:
    return Skill.objects.order_by("kind", "name_en")


def absence_list(*, actor: Any, current_only: bool = False) -> QuerySet[Absence]:
    qs = Absence.objects.select_related("user").order_by("-starts_on", "id")
    if not permissions.has_capability(actor, permissions.MANAGE_ORGANISATION):
        if permissions.has_capability(actor, permissions.LEAD_TEAM):
            qs = qs.filter(user__teams__lead=actor) | qs.filter(user=actor)
        else:
            qs = qs.filter(user=actor)
    if current_only:
        qs = qs.filter(ends_on__gte=timezone.localdate())
    return qs.distinct()


def api_token_list(*, actor: Any) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=actor).order_by("-created_at")


def api_token_get(*, actor: Any, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user=actor).first()
    if token is None:
        raise NotFound()
    return token
