"""Health, the current user, and read-only users and teams for administrators."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from leitplanke import __version__
from leitplanke.accounts import selectors
from leitplanke.accounts.permissions import capabilities_of
from leitplanke.api.auth import require_scope
from leitplanke.api.schemas import IdParam, Problem
from leitplanke.core.pagination import keyset_page

router = Router(tags=["system"])
ERRORS = {401: Problem, 403: Problem, 404: Problem, 422: Problem}


class Health(Schema):
    status: str
    version: str


class RoleOut(Schema):
    key: str
    name_de: str
    name_en: str


class TeamRef(Schema):
    id: int
    name: str


class UserOut(Schema):
    id: int
    email: str
    full_name: str
    language: str
    is_active: bool
    roles: list[RoleOut]
    teams: list[TeamRef]  # ninja turns the related managers into lists (prefetched by the selectors)


class MeOut(UserOut):
    capabilities: list[str]
    scopes: list[str]


class UserPage(Schema):
    items: list[UserOut]
    next_cursor: str | None


class TeamOut(Schema):
    id: int
    name: str
    description: str
    email: str
    is_active: bool
    lead_id: int | None
    member_ids: list[int]

    @staticmethod
    def resolve_member_ids(obj) -> list[int]:  # type: ignore[no-untyped-def]
        return [member.pk for member in obj.members.all()]


@router.get("/health", auth=None, response=Health, summary="Service health")
def health(request: HttpRequest) -> dict:
    return {"status": "ok", "version": __version__}


@router.get("/me", response={200: MeOut, **ERRORS}, summary="The authenticated user")
def me(request: HttpRequest) -> dict:
    require_scope(request, "read")
    user = request.user
    return {
        **UserOut.from_orm(user).dict(),
        "capabilities": sorted(capabilities_of(user)),
        "scopes": sorted(getattr(request, "api_scopes", [])),
    }


@router.get("/users", response={200: UserPage, **ERRORS}, summary="Users (administrators and auditors)")
def users(request: HttpRequest, cursor: str | None = None, limit: int = 50, search: str = "") -> dict:
    require_scope(request, "read")
    limit = max(1, min(limit, 200))
    page = keyset_page(selectors.user_list(actor=request.user, search=search), ordering=["id"], cursor=cursor, limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/users/{user_id}", response={200: UserOut, **ERRORS}, summary="One user")
def user_detail(request: HttpRequest, user_id: IdParam):  # type: ignore[no-untyped-def]
    require_scope(request, "read")
    return selectors.user_get(actor=request.user, user_id=user_id)


@router.get("/teams", response={200: list[TeamOut], **ERRORS}, summary="Teams (administrators and auditors)")
def teams(request: HttpRequest):  # type: ignore[no-untyped-def]
    require_scope(request, "read")
    return list(selectors.team_list(actor=request.user))
