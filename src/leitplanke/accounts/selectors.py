"""Reads of accounts data, scoped to what the asking user may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from leitplanke.accounts.actors import Actor, is_user
from leitplanke.core.errors import NotFound, PermissionDenied
from leitplanke.core.models import AuditEvent

from . import permissions
from .models import Absence, ApiToken, Brand, Organisation, Role, Skill, Team, User, UserSkill


def _require_admin_or_auditor(actor: Actor) -> None:
    if not (
        permissions.has_capability(actor, permissions.MANAGE_ORGANISATION)
        or permissions.has_capability(actor, permissions.VIEW_AUDIT)
    ):
        raise PermissionDenied()


def user_list(*, actor: Actor, search: str = "", team_id: int | None = None, include_inactive: bool = True) -> QuerySet[User]:
    _require_admin_or_auditor(actor)
    qs = User.objects.prefetch_related("roles", "teams").order_by("full_name", "id")
    if search:
        qs = qs.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
    if team_id:
        # A subquery instead of a join keeps one row per user (no DISTINCT needed).
        qs = qs.filter(pk__in=User.objects.filter(teams__id=team_id).values("pk"))
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs


def user_get(*, actor: Actor, user_id: int) -> User:
    _require_admin_or_auditor(actor)
    user = (
        User.objects.prefetch_related("roles", "teams", Prefetch("skills", UserSkill.objects.select_related("skill")))
        .filter(pk=user_id)
        .first()
    )
    if user is None:
        raise NotFound()
    return user


def team_list(*, actor: Actor) -> QuerySet[Team]:
    """All teams with lead and members: for administrators and auditors."""
    _require_admin_or_auditor(actor)
    return Team.objects.select_related("lead").prefetch_related("members").order_by("name")


def team_get(*, actor: Actor, team_id: int) -> Team:
    team = team_list(actor=actor).filter(pk=team_id).first()
    if team is None:
        raise NotFound()
    return team


def role_list() -> QuerySet[Role]:
    return Role.objects.order_by("name_en")


def skill_list() -> QuerySet[Skill]:
    return Skill.objects.order_by("kind", "name_en")


def absence_list(*, actor: Actor, current_only: bool = False) -> QuerySet[Absence]:
    if not is_user(actor):
        return Absence.objects.none()
    qs = Absence.objects.select_related("user").order_by("-starts_on", "id")
    if not permissions.has_capability(actor, permissions.MANAGE_ORGANISATION):
        if permissions.has_capability(actor, permissions.LEAD_TEAM):
            qs = qs.filter(user__teams__lead=actor) | qs.filter(user=actor)
        else:
            qs = qs.filter(user=actor)
    if current_only:
        qs = qs.filter(ends_on__gte=timezone.localdate())
    return qs.distinct()


def api_token_list(*, actor: Actor) -> QuerySet[ApiToken]:
    if not is_user(actor):
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=actor).order_by("-created_at")


def api_token_get(*, actor: Actor, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user=actor).first() if is_user(actor) else None
    if token is None:
        raise NotFound()
    return token


# --- administration screens -----------------------------------------------------------------


def _require_admin(actor: Actor) -> None:
    if not permissions.has_capability(actor, permissions.MANAGE_ORGANISATION):
        raise PermissionDenied()


def role_list_with_counts(*, actor: Actor) -> QuerySet[Role]:
    _require_admin(actor)
    return Role.objects.annotate(user_count=Count("users", distinct=True)).order_by("name_en", "id")


def role_get(*, actor: Actor, role_id: int) -> Role:
    _require_admin(actor)
    role = Role.objects.filter(pk=role_id).first()
    if role is None:
        raise NotFound()
    return role


def team_list_for_admin(*, actor: Actor) -> QuerySet[Team]:
    _require_admin(actor)
    return (
        Team.objects.select_related("lead", "parent")
        .annotate(member_count=Count("members", distinct=True))
        .order_by("name", "id")
    )


def skill_get(*, actor: Actor, skill_id: int) -> Skill:
    _require_admin(actor)
    skill = Skill.objects.filter(pk=skill_id).first()
    if skill is None:
        raise NotFound()
    return skill


def skill_list_with_counts(*, actor: Actor) -> QuerySet[Skill]:
    _require_admin(actor)
    return Skill.objects.annotate(holder_count=Count("holders", distinct=True)).order_by("kind", "name_en", "id")


def user_absences(*, actor: Actor, user: User) -> QuerySet[Absence]:
    return absence_list(actor=actor).filter(user=user)


def absence_get(*, actor: Actor, absence_id: int) -> Absence:
    absence = absence_list(actor=actor).filter(pk=absence_id).first()
    if absence is None:
        raise NotFound()
    return absence


def task_failures(*, actor: Actor, limit: int = 100) -> list[dict[str, Any]]:
    """The most recent failed background tasks, newest first, with the last error summarised."""
    _require_admin(actor)
    rows = (
        DBTaskResult.objects.failed()
        .order_by("-finished_at", "-enqueued_at")
        .only("id", "task_path", "enqueued_at", "finished_at", "exception_class_path", "traceback", "worker_ids")[:limit]
    )
    failures = []
    for row in rows:
        lines = [line for line in (row.traceback or "").strip().splitlines() if line.strip()]
        last_line = lines[-1].strip() if lines else ""
        exception_class = row.exception_class_path.rsplit(".", 1)[-1] if row.exception_class_path else ""
        # The last traceback line reads "module.Class: message"; keep only the message.
        message = last_line.split(": ", 1)[1] if ": " in last_line else ("" if last_line.endswith(exception_class) else last_line)
        failures.append(
            {
                "id": row.pk,
                "task_path": row.task_path,
                "task_name": row.task_path.rsplit(".", 1)[-1],
                "enqueued_at": row.enqueued_at,
                "finished_at": row.finished_at,
                "attempts": len(row.worker_ids or []),
                "exception_class_path": row.exception_class_path,
                "exception_class": exception_class,
                "message": message,
                "traceback": row.traceback,
            }
        )
    return failures


def task_ready_count(*, actor: Actor) -> int:
    """Tasks due now and waiting for a worker."""
    _require_admin(actor)
    return DBTaskResult.objects.ready().count()


def audit_event_list(
    *,
    actor: Actor,
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    actor_email: str = "",
    occurred_from: dt.datetime | None = None,
    occurred_until: dt.datetime | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events, newest first; `action` matches as a prefix ("user." finds all user events).

    Every filter is written so that an index serves it (docs/audit-log.md; a test reads the
    query plan): the action prefix as a range on `audit_action_idx`, the object on
    `audit_object_idx`, the actor by user id on `audit_actor_idx` (or, for a label such as
    "system" or an address no user has any more, on `audit_actor_label_idx`), the time on
    `audit_time_idx`."""
    if not permissions.has_capability(actor, permissions.VIEW_AUDIT):
        raise PermissionDenied()
    qs = AuditEvent.objects.order_by("-id")
    if action := action.strip():
        qs = qs.filter(action__gte=action, action__lt=action[:-1] + chr(ord(action[-1]) + 1))
    if object_type:
        qs = qs.filter(object_type=object_type.strip().lower())
    if object_id:
        qs = qs.filter(object_id=object_id.strip())
    if actor_email := actor_email.strip().lower():
        user_ids = list(User.objects.filter(email__iexact=actor_email).values_list("pk", flat=True))
        qs = qs.filter(actor_id__in=user_ids) if user_ids else qs.filter(actor_label=actor_email)
    if occurred_from is not None or occurred_until is not None:
        # Ordered by time, so that the time index serves both the range and the order.
        qs = qs.order_by(*AUDIT_TIME_ORDERING)
        if occurred_from is not None:
            qs = qs.filter(occurred_at__gte=occurred_from)
        if occurred_until is not None:
            qs = qs.filter(occurred_at__lt=occurred_until)
    return qs


AUDIT_ORDERING = ["-id"]
AUDIT_TIME_ORDERING = ["-occurred_at", "-id"]


def api_tokens_in_use(*, since: Any) -> int:
    """How many unrevoked API tokens were used since the given time (a count only, for the
    maturity check's evidence that other systems are connected)."""
    return ApiToken.objects.filter(revoked_at__isnull=True, last_used_at__gte=since).count()


# --- what the public pages show ------------------------------------------------------------


@dataclass(frozen=True)
class PublicBranding:
    """The organisation as customers see it on the public pages (no login, nothing secret)."""

    name: str
    contact_email: str = ""
    contact_phone: str = ""
    contact_address: str = ""
    imprint_url: str = ""
    privacy_url: str = ""
    logo_version: str = ""
    frame_ancestors: tuple[str, ...] = ()
    slug: str = ""  # a brand's public pages (/complaint/b/<slug>/); empty for the organisation's
    colour: str = ""
    logo_path: str = "/complaint/logo/"

    @property
    def logo_url(self) -> str:
        return f"{self.logo_path}?v={self.logo_version}" if self.logo_version else ""

    @property
    def has_contact(self) -> bool:
        return bool(self.contact_email or self.contact_phone or self.contact_address)


def public_branding() -> PublicBranding:
    """One query, the logo's bytes left out."""
    organisation = Organisation.objects.defer("logo").filter(pk=1).first()
    if organisation is None:
        return PublicBranding(name=Organisation._meta.get_field("name").default)
    return PublicBranding(
        name=organisation.public_name or organisation.name,
        contact_email=organisation.contact_email,
        contact_phone=organisation.contact_phone,
        contact_address=organisation.contact_address,
        imprint_url=organisation.imprint_url,
        privacy_url=organisation.privacy_url,
        logo_version=organisation.logo_sha256[:16],
        frame_ancestors=tuple(organisation.form_frame_ancestors.split()),
    )


def brand_branding(brand: Brand, organisation: PublicBranding | None = None) -> PublicBranding:
    """A brand's public look; what it leaves empty comes from the organisation."""
    base = organisation or public_branding()
    return PublicBranding(
        name=brand.display_name or base.name,
        contact_email=brand.contact_email or base.contact_email,
        contact_phone=brand.contact_phone or base.contact_phone,
        contact_address=base.contact_address,
        imprint_url=base.imprint_url,
        privacy_url=base.privacy_url,
        logo_version=brand.logo_sha256[:16],
        frame_ancestors=base.frame_ancestors,
        slug=brand.slug,
        colour=brand.colour,
        logo_path=f"/public/{brand.slug}/logo/",
    )


def brand_for_public(slug: str) -> Brand:
    """An active brand by its short name, the logo's bytes left out; NotFound otherwise."""
    brand = Brand.objects.defer("logo").filter(slug=slug, is_active=True).first()
    if brand is None:
        raise NotFound()
    return brand


def brand_active(brand_id: int) -> Brand | None:
    return Brand.objects.defer("logo").filter(pk=brand_id, is_active=True).first()


def brand_logo(slug: str) -> tuple[bytes, str, str] | None:
    row = Brand.objects.filter(slug=slug, is_active=True).values_list("logo", "logo_content_type", "logo_sha256").first()
    if row is None or not row[0]:
        return None
    return bytes(row[0]), row[1], row[2]


def brand_list(*, actor: Actor) -> QuerySet[Brand]:
    if not permissions.has_capability(actor, permissions.MANAGE_ORGANISATION):
        raise PermissionDenied()
    return Brand.objects.defer("logo").order_by("name", "id")


def brand_get(*, actor: Actor, brand_id: int) -> Brand:
    brand = brand_list(actor=actor).filter(pk=brand_id).first()
    if brand is None:
        raise NotFound()
    return brand


def brand_choices() -> QuerySet[Brand]:
    """For the mailbox and case type forms."""
    return Brand.objects.defer("logo").filter(is_active=True).order_by("name", "id")


def organisation_logo() -> tuple[bytes, str, str] | None:
    """The logo's bytes, content type and hash, or None."""
    row = Organisation.objects.filter(pk=1).values_list("logo", "logo_content_type", "logo_sha256").first()
    if row is None or not row[0]:
        return None
    return bytes(row[0]), row[1], row[2]
