"""Every write to accounts and organisation data: one transaction, one audit event each."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import available_timezones

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leitplanke.accounts.actors import Actor, is_user, require_user
from leitplanke.core import branding, ratelimit, refcache
from leitplanke.core.audit import audit_record, audit_update, changed_fields, snapshot
from leitplanke.core.errors import Conflict, PermissionDenied, RateLimited, ValidationFailed, refuse_unknown_fields

from . import permissions
from .models import (
    Absence,
    AbsenceKind,
    ApiToken,
    Brand,
    Language,
    Organisation,
    Role,
    Skill,
    SkillKind,
    Team,
    TokenScope,
    User,
    UserSkill,
)

PUBLIC_FIELDS = [
    "public_name",
    "contact_email",
    "contact_phone",
    "contact_address",
    "imprint_url",
    "privacy_url",
    "form_frame_ancestors",
]
BRAND_FIELDS = [
    "name",
    "slug",
    "display_name",
    "from_address",
    "reply_to",
    "signature",
    "colour",
    "contact_email",
    "contact_phone",
    "is_active",
]
# Paths under /public/ that a brand's short name may not take.
RESERVED_SLUGS = {"static", "api", "admin", "settings", "embed", "logo", "thanks", "status", "privacy"}
USER_FIELDS = ["email", "full_name", "language", "is_active", "roles", "teams"]
TEAM_FIELDS = ["name", "description", "lead", "email", "is_active", "parent"]
ROLE_FIELDS = ["key", "name_de", "name_en", "description", "capabilities"]
ORG_FIELDS = ["name", "time_zone", "default_language", "customer_languages", "calendar_region", *PUBLIC_FIELDS]
CALENDAR_REGIONS = {
    "DE": "DE",
    **{f"DE-{s}": s for s in ["BB", "BE", "BW", "BY", "HB", "HE", "HH", "MV", "NI", "NW", "RP", "SH", "SL", "SN", "ST", "TH"]},
    "GB-ENG": "ENG",
    "GB-WLS": "WLS",
    "GB-SCT": "SCT",
    "GB-NIR": "NIR",
}

logger = logging.getLogger(__name__)


def require(actor: Actor, capability: str) -> User:
    """The acting user, who must hold `capability` (only a logged-in user holds any)."""
    if not permissions.has_capability(actor, capability):
        raise PermissionDenied()
    return require_user(actor)


def _require_admin(actor: Actor) -> User:
    return require(actor, permissions.MANAGE_ORGANISATION)


def _clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed(field_errors={"email": [_("Enter a valid e-mail address.")]}) from None
    return email


def _require_text(value: str, field: str, max_length: int = 200) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(field_errors={field: [_("This field is required.")]})
    if len(value) > max_length:
        raise ValidationFailed(field_errors={field: [_("At most %(n)s characters.") % {"n": max_length}]})
    return value


def _language(value: str) -> str:
    if value not in Language.values:
        raise ValidationFailed(field_errors={"language": [_("Choose German or English.")]})
    return value


# --- organisation -------------------------------------------------------------------------


def organisation_get() -> Organisation:
    organisation, _created = Organisation.objects.get_or_create(pk=1)
    return organisation


@transaction.atomic
def organisation_update(*, actor: Actor, **changes: Any) -> Organisation:
    """Changes the organisation's settings; `actor=None` is the system (installation, demo)."""
    if actor is not None:
        _require_admin(actor)
    organisation = Organisation.objects.select_for_update().get_or_create(pk=1)[0]
    before = snapshot(organisation, ORG_FIELDS)
    if "name" in changes:
        organisation.name = _require_text(changes["name"], "name")
    if "time_zone" in changes:
        if changes["time_zone"] not in available_timezones():
            raise ValidationFailed(field_errors={"time_zone": [_("Unknown time zone.")]})
        organisation.time_zone = changes["time_zone"]
    if "default_language" in changes:
        organisation.default_language = _language(changes["default_language"])
    if "customer_languages" in changes:
        organisation.customer_languages = [_language(code) for code in changes["customer_languages"]]
    if "calendar_region" in changes:
        if changes["calendar_region"] not in CALENDAR_REGIONS:
            raise ValidationFailed(field_errors={"calendar_region": [_("Unknown calendar region.")]})
        organisation.calendar_region = changes["calendar_region"]
    _apply_public_fields(organisation, changes)
    organisation.save()
    audit_update(actor=actor or "system", action="organisation.update", obj=organisation, before=before, fields=ORG_FIELDS)
    return organisation


def clean_public_contact(changes: dict[str, Any]) -> dict[str, str]:
    """The contact fields customers see (organisation or brand), checked."""
    cleaned: dict[str, str] = {}
    if "public_name" in changes:
        cleaned["public_name"] = (changes["public_name"] or "").strip()[:200]
    if "contact_email" in changes:
        value = (changes["contact_email"] or "").strip().lower()
        if value:
            try:
                validate_email(value)
            except DjangoValidationError:
                raise ValidationFailed(field_errors={"contact_email": [_("Enter a valid e-mail address.")]}) from None
        cleaned["contact_email"] = value
    if "contact_phone" in changes:
        phone = (changes["contact_phone"] or "").strip()
        if phone and (len(phone) > 40 or not all(ch.isdigit() or ch in " +-/()" for ch in phone)):
            raise ValidationFailed(field_errors={"contact_phone": [_("Enter a phone number of digits, spaces and + - / ( ).")]})
        cleaned["contact_phone"] = phone
    if "contact_address" in changes:
        address = "\n".join(line.strip() for line in (changes["contact_address"] or "").strip().splitlines())
        if len(address) > 500:
            raise ValidationFailed(field_errors={"contact_address": [_("At most %(n)s characters.") % {"n": 500}]})
        cleaned["contact_address"] = address
    for url_field in ("imprint_url", "privacy_url"):
        if url_field in changes:
            cleaned[url_field] = branding.clean_url(changes[url_field], field=url_field)
    return cleaned


def _apply_public_fields(organisation: Organisation, changes: dict[str, Any]) -> None:
    for name, value in clean_public_contact(changes).items():
        setattr(organisation, name, value)
    if "form_frame_ancestors" in changes:
        organisation.form_frame_ancestors = branding.clean_origins(changes["form_frame_ancestors"])


@transaction.atomic
def organisation_logo_set(*, actor: Actor, upload: Any | None) -> Organisation:
    """Replaces the logo (PNG or JPEG, size-limited, checked by decoding) or removes it
    (`upload=None`). Stored in the database, never under a web root; a view serves it."""
    if actor is not None:
        _require_admin(actor)
    organisation = Organisation.objects.select_for_update().get_or_create(pk=1)[0]
    before = {"logo_sha256": organisation.logo_sha256, "logo_content_type": organisation.logo_content_type}
    if upload is None:
        organisation.logo, organisation.logo_content_type, organisation.logo_sha256 = None, "", ""
    else:
        content, content_type, sha256 = branding.clean_logo(upload)
        organisation.logo, organisation.logo_content_type, organisation.logo_sha256 = content, content_type, sha256
    organisation.save(update_fields=["logo", "logo_content_type", "logo_sha256", "updated_at"])
    after = {"logo_sha256": organisation.logo_sha256, "logo_content_type": organisation.logo_content_type}
    if after != before:
        audit_record(
            actor=actor or "system",
            action="organisation.logo",
            obj=organisation,
            before=before,
            after={**after, "bytes": len(organisation.logo or b"")},
        )
    return organisation


# --- brands (sending identities) --------------------------------------------------------------


def _clean_brand(values: dict[str, Any], *, exclude: int | None = None) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}

    def check(field: str, func: Any) -> None:
        if field in values:
            try:
                cleaned[field] = func(values[field])
            except ValidationFailed as error:
                for name, messages in error.field_errors.items():
                    errors.setdefault(name, []).extend(messages)

    def email(field: str, required: bool) -> Any:
        def clean(value: str) -> str:
            value = (value or "").strip().lower()
            if not value and not required:
                return ""
            try:
                validate_email(value)
            except DjangoValidationError:
                raise ValidationFailed(field_errors={field: [_("Enter a valid e-mail address.")]}) from None
            return value

        return clean

    def slug(value: str) -> str:
        value = (value or "").strip().lower()
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,49}", value) or value in RESERVED_SLUGS:
            raise ValidationFailed(
                field_errors={"slug": [_("Use lower-case letters, digits and hyphens, e.g. stadtwerke-mobil.")]}
            )
        if Brand.objects.filter(slug=value).exclude(pk=exclude or 0).exists():
            raise ValidationFailed(field_errors={"slug": [_("Another brand already uses this short name.")]})
        return value

    def name(value: str) -> str:
        value = _require_text(value, "name")
        if Brand.objects.filter(name__iexact=value).exclude(pk=exclude or 0).exists():
            raise ValidationFailed(field_errors={"name": [_("Another brand already has this name.")]})
        return value

    def signature(value: str) -> str:
        value = (value or "").strip()
        if len(value) > 2000:
            raise ValidationFailed(field_errors={"signature": [_("At most %(n)s characters.") % {"n": 2000}]})
        return value

    check("name", name)
    check("slug", slug)
    check("display_name", lambda value: _require_text(value, "display_name"))
    check("from_address", email("from_address", True))
    check("reply_to", email("reply_to", False))
    check("contact_email", email("contact_email", False))
    check("signature", signature)
    check("colour", lambda value: branding.clean_colour(value, field="colour"))
    check("contact_phone", lambda value: clean_public_contact({"contact_phone": value})["contact_phone"])
    if "is_active" in values:
        cleaned["is_active"] = bool(values["is_active"])
    if errors:
        raise ValidationFailed(field_errors=errors)
    return cleaned


@transaction.atomic
def brand_create(*, actor: Actor, **values: Any) -> Brand:
    if actor is not None:
        _require_admin(actor)
    refuse_unknown_fields(values, BRAND_FIELDS)
    missing = [field for field in ("name", "slug", "display_name", "from_address") if field not in values]
    if missing:
        raise ValidationFailed(field_errors={field: [_("This field is required.")] for field in missing})
    brand = Brand.objects.create(**_clean_brand(values))
    audit_record(actor=actor or "system", action="brand.create", obj=brand, after=snapshot(brand, BRAND_FIELDS))
    return brand


@transaction.atomic
def brand_update(*, actor: Actor, brand: Brand, **changes: Any) -> Brand:
    if actor is not None:
        _require_admin(actor)
    refuse_unknown_fields(changes, BRAND_FIELDS)
    brand = Brand.objects.select_for_update().get(pk=brand.pk)
    before = snapshot(brand, BRAND_FIELDS)
    for field, value in _clean_brand(changes, exclude=brand.pk).items():
        setattr(brand, field, value)
    brand.save()
    audit_update(actor=actor or "system", action="brand.update", obj=brand, before=before, fields=BRAND_FIELDS)
    return brand


@transaction.atomic
def brand_logo_set(*, actor: Actor, brand: Brand, upload: Any | None) -> Brand:
    """The brand's logo for its public form: PNG or JPEG, checked like the organisation's."""
    if actor is not None:
        _require_admin(actor)
    brand = Brand.objects.select_for_update().get(pk=brand.pk)
    before = {"logo_sha256": brand.logo_sha256}
    if upload is None:
        brand.logo, brand.logo_content_type, brand.logo_sha256 = None, "", ""
    else:
        brand.logo, brand.logo_content_type, brand.logo_sha256 = branding.clean_logo(upload)
    brand.save(update_fields=["logo", "logo_content_type", "logo_sha256", "updated_at"])
    if brand.logo_sha256 != before["logo_sha256"]:
        audit_record(
            actor=actor or "system",
            action="brand.logo",
            obj=brand,
            before=before,
            after={"logo_sha256": brand.logo_sha256, "bytes": len(brand.logo or b"")},
        )
    return brand


# --- users --------------------------------------------------------------------------------


@transaction.atomic
def user_create(
    *,
    actor: Actor,
    email: str,
    full_name: str,
    password: str | None = None,
    language: str = Language.GERMAN,
    roles: Iterable[Role] = (),
    teams: Iterable[Team] = (),
) -> User:
    """Creates a user; without a password the account can only log in after a reset."""
    if actor is not None:
        _require_admin(actor)
    email = _clean_email(email)
    full_name = _require_text(full_name, "full_name")
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationFailed(field_errors={"email": [_("A user with this e-mail address exists already.")]})
    user = User(email=email, full_name=full_name, language=_language(language))
    if password:
        try:
            validate_password(password, user)
        except DjangoValidationError as error:
            raise ValidationFailed(field_errors={"password": list(error.messages)}) from None
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise ValidationFailed(field_errors={"email": [_("A user with this e-mail address exists already.")]}) from None
    user.roles.set(list(roles))
    user.teams.set(list(teams))
    audit_record(actor=actor or "system", action="user.create", obj=user, after=snapshot(user, USER_FIELDS))
    return user


@transaction.atomic
def user_update(*, actor: Actor, user: User, **changes: Any) -> User:
    admin = _require_admin(actor)
    user = User.objects.select_for_update().get(pk=user.pk)
    before = snapshot(user, USER_FIELDS)
    if "email" in changes:
        email = _clean_email(changes["email"])
        if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
            raise ValidationFailed(field_errors={"email": [_("A user with this e-mail address exists already.")]})
        user.email = email
    if "full_name" in changes:
        user.full_name = _require_text(changes["full_name"], "full_name")
    if "language" in changes:
        user.language = _language(changes["language"])
    if "is_active" in changes:
        if user.pk == admin.pk and not changes["is_active"]:
            raise ValidationFailed(field_errors={"is_active": [_("You cannot deactivate yourself.")]})
        user.is_active = bool(changes["is_active"])
    user.save()
    if "roles" in changes:
        new_roles = list(changes["roles"])
        if user.pk == admin.pk and not any(permissions.MANAGE_ORGANISATION in r.capabilities for r in new_roles):
            raise ValidationFailed(field_errors={"roles": [_("You cannot remove your own administrator role.")]})
        user.roles.set(new_roles)
    if "teams" in changes:
        user.teams.set(list(changes["teams"]))
    audit_update(actor=actor, action="user.update", obj=user, before=before, fields=USER_FIELDS)
    return user


@transaction.atomic
def user_set_language(*, actor: Actor, language: str) -> User:
    """Users choose their own interface language."""
    user = User.objects.select_for_update().get(pk=require_user(actor).pk)
    before = user.language
    user.language = _language(language)
    user.save(update_fields=["language"])
    if before != user.language:
        audit_record(
            actor=actor, action="user.set_language", obj=user, before={"language": before}, after={"language": user.language}
        )
    return user


@transaction.atomic
def user_set_password(*, actor: Actor, user: User, password: str, via: str = "change") -> User:
    if actor is not None and actor.pk != user.pk:
        _require_admin(actor)
    try:
        validate_password(password, user)
    except DjangoValidationError as error:
        raise ValidationFailed(field_errors={"password": list(error.messages)}) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    if via == "reset":  # proof of owning the mailbox lifts a login lockout (the lockout message says so)
        ratelimit.reset(_login_email_key(user.email))
    audit_record(actor=actor or user, action=f"user.password_{via}", obj=user)
    return user


@transaction.atomic
def user_send_password_link(*, actor: Actor, user: User, base_url: str) -> None:
    """E-mails the user a one-time link to choose a password (new accounts without one).

    It uses Django's password-reset token, so the link expires after PASSWORD_RESET_TIMEOUT
    and stops working once the password was set. `base_url` is e.g. "https://cases.example".
    """
    from django.conf import settings
    from django.contrib.auth.tokens import default_token_generator
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.urls import reverse
    from django.utils import translation
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    _require_admin(actor)
    if not user.is_active:
        raise ValidationFailed(_("This user is inactive; activate the account first."))
    path = reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    context = {
        "user": user,
        "link": base_url.rstrip("/") + path,
        "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        "organisation": organisation_get().name,
    }
    with translation.override(user.language):
        subject = render_to_string("accounts/settings/password_link_subject.txt", context).strip()
        body = render_to_string("accounts/settings/password_link_email.txt", context)
    send_mail(subject, body, None, [user.email])
    audit_record(actor=actor, action="user.password_link_sent", obj=user)


# --- login --------------------------------------------------------------------------------


def _login_keys(email: str, ip: str | None) -> list[str]:
    return [_login_email_key(email), f"login:ip:{ip or '-'}"]


def _login_email_key(email: str) -> str:
    return f"login:email:{(email or '').strip().lower()}"


def password_reset_request_counts(*, email: str, ip: str | None) -> bool:
    """Counts a password-reset request for the address and for the client IP address, then
    checks the limits (`PASSWORD_RESET_RATE_LIMIT`); True if a reset e-mail may be sent.

    Counting comes first, one atomic increment per counter, so concurrent requests cannot
    slip past the limit. Whether or not a user has the address, the count is the same and
    the page the requester sees is the same: the limit reveals nothing about accounts."""
    from django.conf import settings

    limit = settings.PASSWORD_RESET_RATE_LIMIT
    window = int(limit["window_seconds"])
    now = timezone.now()
    limits = {
        f"password_reset:email:{(email or '').strip().lower()}": int(limit["per_address"]),
        f"password_reset:ip:{ip or '-'}": int(limit["per_ip"]),
    }
    counts = {key: ratelimit.hit(key, window_seconds=window, now=now) for key in limits}
    over = [key for key, allowed in limits.items() if counts[key] > allowed]
    if over:
        logger.warning("password reset refused: over the limit for %s", ", ".join(k.split(":", 2)[1] for k in over))
        return False
    return True


@dataclass(frozen=True)
class LoginAttempt:
    """One login attempt, counted before its password is checked (`login_attempt_start`)."""

    email: str
    ip: str | None
    started_at: dt.datetime
    number: int  # this attempt's number for the address in the current window


def _login_limits(email: str, ip: str | None) -> dict[str, int]:
    from django.conf import settings

    limit = settings.LOGIN_RATE_LIMIT
    email_key, ip_key = _login_keys(email, ip)
    return {email_key: limit["attempts"], ip_key: limit.get("attempts_per_ip", limit["attempts"])}


def _login_window() -> int:
    from django.conf import settings

    return int(settings.LOGIN_RATE_LIMIT["window_seconds"])


@transaction.atomic
def login_attempt_start(*, email: str, ip: str | None) -> LoginAttempt:
    """Counts the attempt for the address and for the IP address, then checks the limits.

    Counting comes first, with one atomic increment per counter: of 20 concurrent attempts
    exactly the first `attempts` get a number within the limit, so no more passwords are
    tried than the limit allows (reading the counters first and counting failures afterwards
    let all 20 through). An attempt over a limit gives its counts back — a refused attempt
    is not a failure — and raises RateLimited; the password is then not checked.
    """
    now = timezone.now()
    limits = _login_limits(email, ip)
    window = _login_window()
    counts = {key: ratelimit.hit(key, window_seconds=window, now=now) for key in limits}
    if any(counts[key] > allowed for key, allowed in limits.items()):
        for key in limits:
            ratelimit.release(key, window_seconds=window, now=now)
        raise RateLimited(
            _("Too many failed login attempts. Please wait %(minutes)s minutes or reset your password.")
            % {"minutes": max(1, ratelimit.seconds_until_reset(window) // 60)},
            retry_after=ratelimit.seconds_until_reset(window),
        )
    email_key = _login_email_key(email)
    return LoginAttempt(email=email, ip=ip, started_at=now, number=counts[email_key])


@transaction.atomic
def login_failed(*, attempt: LoginAttempt) -> None:
    """Records a wrong password; the attempt stays counted (`login_attempt_start`)."""
    audit_record(
        actor="anonymous",
        action="auth.login_failed",
        object_type="accounts.user",
        object_id="",
        after={"email": (attempt.email or "")[:254], "attempts": attempt.number},
    )


@transaction.atomic
def login_refused(*, email: str, ip: str | None) -> None:
    """Records an attempt refused because the address or IP is locked (the password is not checked)."""
    audit_record(
        actor="anonymous",
        action="auth.login_locked",
        object_type="accounts.user",
        object_id="",
        after={"email": (email or "")[:254]},
    )


@transaction.atomic
def login_succeeded(*, user: User, attempt: LoginAttempt) -> None:
    """A right password clears the address's failures and does not count against the IP address."""
    ratelimit.reset(_login_email_key(user.email))
    _email_key, ip_key = _login_keys(attempt.email, attempt.ip)
    ratelimit.release(ip_key, window_seconds=_login_window(), now=attempt.started_at)
    audit_record(actor=user, action="auth.login", obj=user)


@transaction.atomic
def logout_recorded(*, user: User) -> None:
    audit_record(actor=user, action="auth.logout", obj=user)


# --- teams --------------------------------------------------------------------------------


PARENT_DEPTH_MAX = 20  # a deeper hierarchy is a mistake, and the approval routing walks it


def _lock_hierarchy() -> None:
    """Hierarchy changes queue on the organisation row, taken before any team row: two edits
    that would together close a cycle (A under B, B under A) cannot both pass
    `_check_parent`, and they do not deadlock on each other's team rows."""
    Organisation.objects.select_for_update().get_or_create(pk=1)


def _check_parent(team: Team | None, parent: Team | None) -> None:
    """Refuses a parent that would make a cycle (the team itself or one of the teams under
    it) or a hierarchy deeper than `PARENT_DEPTH_MAX`."""
    if parent is None:
        return
    parents = dict(Team.objects.values_list("pk", "parent_id"))
    seen: set[int] = set()
    current: int | None = parent.pk
    depth = 0
    while current is not None and current not in seen:
        if team is not None and current == team.pk:
            raise ValidationFailed(field_errors={"parent": [_("A team cannot sit under itself or a team under it.")]})
        seen.add(current)
        current = parents.get(current)
        depth += 1
    if depth > PARENT_DEPTH_MAX:
        raise ValidationFailed(
            field_errors={"parent": [_("The team hierarchy may be at most %(n)s levels deep.") % {"n": PARENT_DEPTH_MAX}]}
        )


@transaction.atomic
def team_create(
    *,
    actor: Actor,
    name: str,
    description: str = "",
    lead: User | None = None,
    email: str = "",
    members: Iterable[User] = (),
    parent: Team | None = None,
) -> Team:
    """Creates a team; `parent`: the team above it (approvals are routed up this chain)."""
    if actor is not None:
        _require_admin(actor)
    name = _require_text(name, "name")
    if Team.objects.filter(name__iexact=name).exists():
        raise ValidationFailed(field_errors={"name": [_("A team with this name exists already.")]})
    if parent is not None:
        _lock_hierarchy()  # a new team cannot close a cycle, but its parent must not be moved under way
    _check_parent(None, parent)
    team = Team.objects.create(
        name=name, description=description or "", lead=lead, email=_clean_email(email) if email else "", parent=parent
    )
    team.members.set(list(members))
    if lead is not None:
        team.members.add(lead)
    audit_record(
        actor=actor or "system",
        action="team.create",
        obj=team,
        after={**snapshot(team, TEAM_FIELDS), "members": sorted(team.members.values_list("pk", flat=True))},
    )
    return team


@transaction.atomic
def team_update(*, actor: Actor, team: Team, **changes: Any) -> Team:
    _require_admin(actor)
    if changes.get("parent") is not None:
        _lock_hierarchy()
    team = Team.objects.select_for_update().get(pk=team.pk)
    before = {**snapshot(team, TEAM_FIELDS), "members": sorted(team.members.values_list("pk", flat=True))}
    if "name" in changes:
        name = _require_text(changes["name"], "name")
        if Team.objects.filter(name__iexact=name).exclude(pk=team.pk).exists():
            raise ValidationFailed(field_errors={"name": [_("A team with this name exists already.")]})
        team.name = name
    for field in ("description", "lead", "is_active"):
        if field in changes:
            setattr(team, field, changes[field])
    if "parent" in changes:
        _check_parent(team, changes["parent"])
        team.parent = changes["parent"]
    if "email" in changes:
        team.email = _clean_email(changes["email"]) if changes["email"] else ""
    team.save()
    if "members" in changes:
        team.members.set(list(changes["members"]))
    if team.lead_id:
        team.members.add(team.lead_id)
    after = {**snapshot(team, TEAM_FIELDS), "members": sorted(team.members.values_list("pk", flat=True))}
    old, new = changed_fields(before, after)
    if new:
        audit_record(actor=actor, action="team.update", obj=team, before=old, after=new)
    return team


# --- roles --------------------------------------------------------------------------------


def _capabilities(codes: Iterable[str]) -> list[str]:
    codes = sorted(set(codes))
    unknown = [code for code in codes if code not in permissions.CAPABILITIES]
    if unknown:
        raise ValidationFailed(field_errors={"capabilities": [_("Unknown capability: %(c)s") % {"c": ", ".join(unknown)}]})
    return codes


@transaction.atomic
def role_create(
    *, actor: Actor, key: str, name_de: str, name_en: str, capabilities: Iterable[str], description: str = ""
) -> Role:
    _require_admin(actor)
    key = _require_text(key, "key", 50).lower()
    if Role.objects.filter(key=key).exists():
        raise ValidationFailed(field_errors={"key": [_("A role with this key exists already.")]})
    role = Role.objects.create(
        key=key,
        name_de=_require_text(name_de, "name_de"),
        name_en=_require_text(name_en, "name_en"),
        description=description or "",
        capabilities=_capabilities(capabilities),
    )
    audit_record(actor=actor, action="role.create", obj=role, after=snapshot(role, ROLE_FIELDS))
    return role


@transaction.atomic
def role_update(*, actor: Actor, role: Role, **changes: Any) -> Role:
    _require_admin(actor)
    role = Role.objects.select_for_update().get(pk=role.pk)
    before = snapshot(role, ROLE_FIELDS)
    for field in ("name_de", "name_en"):
        if field in changes:
            setattr(role, field, _require_text(changes[field], field))
    if "description" in changes:
        role.description = changes["description"] or ""
    if "capabilities" in changes:
        codes = _capabilities(changes["capabilities"])
        if permissions.MANAGE_ORGANISATION not in codes and role.key == "administrator":
            raise ValidationFailed(field_errors={"capabilities": [_("The administrator role must keep administration.")]})
        role.capabilities = codes
    role.save()
    audit_update(actor=actor, action="role.update", obj=role, before=before, fields=ROLE_FIELDS)
    return role


# --- skills, qualifications, absences -----------------------------------------------------


@transaction.atomic
def skill_create(*, actor: Actor, key: str, name_de: str, name_en: str, kind: str) -> Skill:
    if actor is not None:
        _require_admin(actor)
    key = _require_text(key, "key", 50).lower()
    if kind not in SkillKind.values:
        raise ValidationFailed(field_errors={"kind": [_("Choose a kind.")]})
    if Skill.objects.filter(key=key).exists():
        raise ValidationFailed(field_errors={"key": [_("A skill with this key exists already.")]})
    skill = Skill.objects.create(
        key=key, name_de=_require_text(name_de, "name_de"), name_en=_require_text(name_en, "name_en"), kind=kind
    )
    audit_record(
        actor=actor or "system", action="skill.create", obj=skill, after=snapshot(skill, ["key", "name_de", "name_en", "kind"])
    )
    return skill


@transaction.atomic
def user_skill_set(*, actor: Actor, user: User, skill: Skill, level: int, valid_until: dt.date | None = None) -> UserSkill:
    _require_admin(actor)
    if level not in (1, 2, 3):
        raise ValidationFailed(field_errors={"level": [_("Level must be 1, 2 or 3.")]})
    existing = UserSkill.objects.filter(user=user, skill=skill).first()
    before = snapshot(existing, ["level", "valid_until"]) if existing else None
    user_skill, _created = UserSkill.objects.update_or_create(
        user=user, skill=skill, defaults={"level": level, "valid_until": valid_until}
    )
    audit_record(
        actor=actor,
        action="user.skill_set",
        obj=user,
        before=before,
        after={"skill": skill.key, **snapshot(user_skill, ["level", "valid_until"])},
    )
    return user_skill


@transaction.atomic
def user_skill_remove(*, actor: Actor, user: User, skill: Skill) -> None:
    _require_admin(actor)
    deleted, _info = UserSkill.objects.filter(user=user, skill=skill).delete()
    if deleted:
        audit_record(actor=actor, action="user.skill_remove", obj=user, before={"skill": skill.key})


def _can_manage_absence(actor: Actor, user: User) -> bool:
    if not is_user(actor):
        return False
    if permissions.has_capability(actor, permissions.MANAGE_ORGANISATION) or actor.pk == user.pk:
        return True
    return permissions.has_capability(actor, permissions.LEAD_TEAM) and user.teams.filter(lead=actor).exists()


@transaction.atomic
def absence_create(*, actor: Actor, user: User, starts_on: dt.date, ends_on: dt.date, kind: str, note: str = "") -> Absence:
    if not _can_manage_absence(actor, user):
        raise PermissionDenied()
    if ends_on < starts_on:
        raise ValidationFailed(field_errors={"ends_on": [_("The end must not be before the start.")]})
    if kind not in AbsenceKind.values:
        raise ValidationFailed(field_errors={"kind": [_("Choose a kind.")]})
    absence = Absence.objects.create(user=user, starts_on=starts_on, ends_on=ends_on, kind=kind, note=(note or "")[:200])
    audit_record(
        actor=actor,
        action="absence.create",
        obj=absence,
        after={"user": user.pk, **snapshot(absence, ["starts_on", "ends_on", "kind", "note"])},
    )
    return absence


@transaction.atomic
def absence_delete(*, actor: Actor, absence: Absence) -> None:
    if not _can_manage_absence(actor, absence.user):
        raise PermissionDenied()
    before = {"user": absence.user_id, **snapshot(absence, ["starts_on", "ends_on", "kind", "note"])}
    absence_id = absence.pk
    absence.delete()
    audit_record(actor=actor, action="absence.delete", object_type="accounts.absence", object_id=absence_id, before=before)


# --- API tokens ---------------------------------------------------------------------------

TOKEN_PREFIX = "lpk_"  # noqa: S105 - a visible marker, not a secret


def hash_token_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *, actor: Actor, name: str, scopes: Iterable[str], expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Returns the token row and the plain token (shown to the user exactly once)."""
    owner = require_user(actor)  # a token belongs to a person
    scopes = sorted(set(scopes))
    if not scopes or any(scope not in TokenScope.values for scope in scopes):
        raise ValidationFailed(field_errors={"scopes": [_("Choose at least one of read, write, admin.")]})
    if TokenScope.ADMIN in scopes and not permissions.has_capability(actor, permissions.MANAGE_ORGANISATION):
        raise ValidationFailed(field_errors={"scopes": [_("Only administrators can create admin tokens.")]})
    if TokenScope.WRITE in scopes and "write" not in permissions.token_scopes_allowed(actor):
        raise ValidationFailed(field_errors={"scopes": [_("Your roles only allow reading: a token cannot do more than you.")]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed(field_errors={"expires_at": [_("The expiry must be in the future.")]})
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=owner,
        name=_require_text(name, "name", 100),
        prefix=prefix,
        token_hash=hash_token_secret(secret),
        scopes=scopes,
        expires_at=expires_at,
    )
    audit_record(
        actor=actor, action="api_token.create", obj=token, after={"name": token.name, "prefix": prefix, "scopes": scopes}
    )
    return token, f"{TOKEN_PREFIX}{prefix}_{secret}"


@transaction.atomic
def api_token_revoke(*, actor: Actor, token: ApiToken) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    own = is_user(actor) and token.user_id == actor.pk
    if not own and not permissions.has_capability(actor, permissions.MANAGE_ORGANISATION):
        raise PermissionDenied()
    if token.revoked_at is not None:
        raise Conflict(_("This token was revoked already."))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(actor=actor, action="api_token.revoke", obj=token, after={"prefix": token.prefix})
    return token


def api_token_authenticate(raw: str) -> ApiToken | None:
    """Finds the usable token for a bearer value, or None. Constant-time comparison.

    Tokens with their users are reference data (core.refcache, ADR 0004): every change to
    a token or a user (revocation, deactivation, a new password) saves the row and so
    changes the generation in the same transaction, and the next request anywhere reads
    them anew. The request gets its own copies: code may set attributes on request.user.
    """
    import hmac

    if not raw.startswith(TOKEN_PREFIX) or raw.count("_") < 2:
        return None
    prefix, _sep, secret = raw[len(TOKEN_PREFIX) :].partition("_")
    shared = refcache.cached(("api_token", prefix), lambda: _token_with_user(prefix))
    if shared is None or not hmac.compare_digest(shared.token_hash, hash_token_secret(secret)):
        return None
    if not shared.is_usable or not shared.user.is_active:
        return None
    now = timezone.now()
    # Touch at most once a minute: API reads should not each cause a write. The update
    # sends no signal, so the cached token stays valid; its copy here is brought along.
    if shared.last_used_at is None or now - shared.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=shared.pk).update(last_used_at=now)
        shared.last_used_at = now
    token = copy.copy(shared)
    token.user = copy.copy(shared.user)
    return token


def _token_with_user(prefix: str) -> ApiToken | None:
    # The prefix is unique: get() needs no ORDER BY, unlike first().
    try:
        return ApiToken.objects.select_related("user").get(prefix=prefix)
    except ApiToken.DoesNotExist:
        return None
