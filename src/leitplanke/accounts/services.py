"""Every write to accounts and organisation data: one transaction, one audit event each."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import logging
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

from leitplanke.core import ratelimit, refcache
from leitplanke.core.audit import audit_record, audit_update, changed_fields, snapshot
from leitplanke.core.errors import Conflict, PermissionDenied, RateLimited, ValidationFailed

from . import permissions
from .models import (
    Absence,
    AbsenceKind,
    ApiToken,
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

USER_FIELDS = ["email", "full_name", "language", "is_active", "roles", "teams"]
TEAM_FIELDS = ["name", "description", "lead", "email", "is_active"]
ROLE_FIELDS = ["key", "name_de", "name_en", "description", "capabilities"]
ORG_FIELDS = ["name", "time_zone", "default_language", "customer_languages", "calendar_region"]
CALENDAR_REGIONS = {
    "DE": "DE",
    **{f"DE-{s}": s for s in ["BB", "BE", "BW", "BY", "HB", "HE", "HH", "MV", "NI", "NW", "RP", "SH", "SL", "SN", "ST", "TH"]},
    "GB-ENG": "ENG",
    "GB-WLS": "WLS",
    "GB-SCT": "SCT",
    "GB-NIR": "NIR",
}

logger = logging.getLogger(__name__)


def require(actor: Any, capability: str) -> None:
    if not permissions.has_capability(actor, capability):
        raise PermissionDenied()


def _require_admin(actor: Any) -> None:
    require(actor, permissions.MANAGE_ORGANISATION)


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
def organisation_update(*, actor: Any, **changes: Any) -> Organisation:
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
    organisation.save()
    audit_update(actor=actor or "system", action="organisation.update", obj=organisation, before=before, fields=ORG_FIELDS)
    return organisation


# --- users --------------------------------------------------------------------------------


@transaction.atomic
def user_create(
    *,
    actor: Any,
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
def user_update(*, actor: Any, user: User, **changes: Any) -> User:
    _require_admin(actor)
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
        if user.pk == actor.pk and not changes["is_active"]:
            raise ValidationFailed(field_errors={"is_active": [_("You cannot deactivate yourself.")]})
        user.is_active = bool(changes["is_active"])
    user.save()
    if "roles" in changes:
        new_roles = list(changes["roles"])
        if user.pk == actor.pk and not any(permissions.MANAGE_ORGANISATION in r.capabilities for r in new_roles):
            raise ValidationFailed(field_errors={"roles": [_("You cannot remove your own administrator role.")]})
        user.roles.set(new_roles)
    if "teams" in changes:
        user.teams.set(list(changes["teams"]))
    audit_update(actor=actor, action="user.update", obj=user, before=before, fields=USER_FIELDS)
    return user


@transaction.atomic
def user_set_language(*, actor: Any, language: str) -> User:
    """Users choose their own interface language."""
    user = User.objects.select_for_update().get(pk=actor.pk)
    before = user.language
    user.language = _language(language)
    user.save(update_fields=["language"])
    if before != user.language:
        audit_record(
            actor=actor, action="user.set_language", obj=user, before={"language": before}, after={"language": user.language}
        )
    return user


@transaction.atomic
def user_set_password(*, actor: Any, user: User, password: str, via: str = "change") -> User:
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
def user_send_password_link(*, actor: Any, user: User, base_url: str) -> None:
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


@transaction.atomic
def team_create(
    *, actor: Any, name: str, description: str = "", lead: User | None = None, email: str = "", members: Iterable[User] = ()
) -> Team:
    if actor is not None:
        _require_admin(actor)
    name = _require_text(name, "name")
    if Team.objects.filter(name__iexact=name).exists():
        raise ValidationFailed(field_errors={"name": [_("A team with this name exists already.")]})
    team = Team.objects.create(name=name, description=description or "", lead=lead, email=_clean_email(email) if email else "")
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
def team_update(*, actor: Any, team: Team, **changes: Any) -> Team:
    _require_admin(actor)
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
def role_create(*, actor: Any, key: str, name_de: str, name_en: str, capabilities: Iterable[str], description: str = "") -> Role:
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
def role_update(*, actor: Any, role: Role, **changes: Any) -> Role:
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
def skill_create(*, actor: Any, key: str, name_de: str, name_en: str, kind: str) -> Skill:
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
def user_skill_set(*, actor: Any, user: User, skill: Skill, level: int, valid_until: dt.date | None = None) -> UserSkill:
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
def user_skill_remove(*, actor: Any, user: User, skill: Skill) -> None:
    _require_admin(actor)
    deleted, _info = UserSkill.objects.filter(user=user, skill=skill).delete()
    if deleted:
        audit_record(actor=actor, action="user.skill_remove", obj=user, before={"skill": skill.key})


def _can_manage_absence(actor: Any, user: User) -> bool:
    if permissions.has_capability(actor, permissions.MANAGE_ORGANISATION) or actor.pk == user.pk:
        return True
    return permissions.has_capability(actor, permissions.LEAD_TEAM) and user.teams.filter(lead=actor).exists()


@transaction.atomic
def absence_create(*, actor: Any, user: User, starts_on: dt.date, ends_on: dt.date, kind: str, note: str = "") -> Absence:
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
def absence_delete(*, actor: Any, absence: Absence) -> None:
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
    *, actor: Any, name: str, scopes: Iterable[str], expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Returns the token row and the plain token (shown to the user exactly once)."""
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
        user=actor,
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
def api_token_revoke(*, actor: Any, token: ApiToken) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.user_id != actor.pk and not permissions.has_capability(actor, permissions.MANAGE_ORGANISATION):
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
