"""Capabilities that roles grant. Roles are data (editable by administrators); the
capability codes are the fixed vocabulary that code checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeGuard

from django.utils.translation import gettext_lazy as _

from leitplanke.accounts.actors import Actor, is_active_user
from leitplanke.core import refcache

if TYPE_CHECKING:
    from leitplanke.accounts.models import User

VIEW_TEAM_CASES = "cases.view_team"
VIEW_ALL_CASES = "cases.view_all"
EDIT_CASES = "cases.edit"
EXPORT_CASES = "cases.export"
VIEW_SENSITIVE = "customers.view_sensitive"
MANAGE_CUSTOMERS = "customers.manage"
MERGE_CUSTOMERS = "customers.merge"
MANAGE_PROCESSES = "processes.manage"
MANAGE_TEMPLATES = "templates.manage"
VIEW_QUALITY = "quality.view"
VIEW_AUDIT = "audit.view"
MANAGE_ORGANISATION = "org.manage"
LEAD_TEAM = "teams.lead"
VIEW_MATURITY = "maturity.view"
MANAGE_MATURITY = "maturity.manage"

CAPABILITIES: dict[str, Any] = {
    VIEW_TEAM_CASES: _("See the cases of own teams and own cases"),
    VIEW_ALL_CASES: _("See all cases"),
    EDIT_CASES: _("Create and edit cases"),
    EXPORT_CASES: _("Export case lists"),
    VIEW_SENSITIVE: _("See sensitive customer data (vulnerability)"),
    MANAGE_CUSTOMERS: _("Create and edit customers"),
    MERGE_CUSTOMERS: _("Merge duplicate customers (moves all their cases, also those of other teams)"),
    MANAGE_PROCESSES: _("Design processes and decision tables"),
    MANAGE_TEMPLATES: _("Manage reply templates"),
    VIEW_QUALITY: _("See quality figures and reports"),
    VIEW_AUDIT: _("Read the audit log"),
    MANAGE_ORGANISATION: _("Administer users, teams, roles and settings"),
    LEAD_TEAM: _("Lead teams: approvals, check-ins, team load"),
    VIEW_MATURITY: _("See maturity check campaigns, results and roadmaps"),
    MANAGE_MATURITY: _("Run maturity check campaigns, edit roadmaps and the recommendation library"),
}

# The roles every organisation starts with (key, English, German, capabilities).
DEFAULT_ROLES: list[tuple[str, str, str, list[str]]] = [
    ("agent", "Agent", "Sachbearbeitung", [VIEW_TEAM_CASES, EDIT_CASES, MANAGE_CUSTOMERS]),
    (
        "team_lead",
        "Team lead",
        "Teamleitung",
        [
            VIEW_TEAM_CASES,
            EDIT_CASES,
            EXPORT_CASES,
            VIEW_SENSITIVE,
            MANAGE_CUSTOMERS,
            VIEW_QUALITY,
            LEAD_TEAM,
            VIEW_MATURITY,
        ],
    ),
    (
        "process_owner",
        "Process owner",
        "Prozessverantwortung",
        [VIEW_ALL_CASES, EXPORT_CASES, MANAGE_PROCESSES, MANAGE_TEMPLATES, VIEW_QUALITY, VIEW_MATURITY],
    ),
    (
        "quality_manager",
        "Quality manager",
        "Qualitätsmanagement",
        [
            VIEW_ALL_CASES,
            EDIT_CASES,
            EXPORT_CASES,
            VIEW_SENSITIVE,
            MANAGE_CUSTOMERS,
            MERGE_CUSTOMERS,
            VIEW_QUALITY,
            VIEW_AUDIT,
            VIEW_MATURITY,
            MANAGE_MATURITY,
        ],
    ),
    (
        "administrator",
        "Administrator",
        "Administration",
        [
            VIEW_ALL_CASES,
            EDIT_CASES,
            EXPORT_CASES,
            VIEW_SENSITIVE,
            MANAGE_CUSTOMERS,
            MERGE_CUSTOMERS,
            MANAGE_PROCESSES,
            MANAGE_TEMPLATES,
            VIEW_QUALITY,
            VIEW_AUDIT,
            MANAGE_ORGANISATION,
            VIEW_MATURITY,
            MANAGE_MATURITY,
        ],
    ),
    (
        "auditor",
        "Auditor (read-only)",
        "Revision (nur lesend)",
        [VIEW_ALL_CASES, VIEW_QUALITY, VIEW_AUDIT, VIEW_SENSITIVE, VIEW_MATURITY],
    ),
]

# Capabilities that change data; a user whose roles are all read-only never gets these.
WRITE_CAPABILITIES = {
    EDIT_CASES,
    MANAGE_CUSTOMERS,
    MERGE_CUSTOMERS,
    MANAGE_PROCESSES,
    MANAGE_TEMPLATES,
    MANAGE_ORGANISATION,
    LEAD_TEAM,
    MANAGE_MATURITY,
}


def capabilities_of(user: Actor) -> frozenset[str]:
    """All capability codes of an active user: cached on the user object for the request, and
    per process until roles or role assignments change (`core.refcache`)."""
    if not is_active_user(user):
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_capabilities", None)
    if cached is None:
        active = user  # bound for the lambda (the checker does not carry narrowing into it)
        cached = refcache.cached(("capabilities", user.pk), lambda: _capabilities_from_roles(active))
        user._capabilities = cached
    return cached


def _capabilities_from_roles(user: User) -> frozenset[str]:
    codes: set[str] = set()
    for role in user.roles.all():
        codes.update(role.capabilities)
    return frozenset(codes)


def has_capability(user: Actor, code: str) -> TypeGuard[User]:
    """True when `user` is an active logged-in user whose roles grant `code`: after a check,
    the type checker knows that a `User` acts (the system and anonymous visitors hold none)."""
    return code in capabilities_of(user)


def is_read_only(user: Actor) -> bool:
    """A user none of whose roles grants a capability that changes data (e.g. the auditor)."""
    return not (capabilities_of(user) & WRITE_CAPABILITIES)


def token_scopes_allowed(user: Actor) -> frozenset[str]:
    """The API scopes a user's capabilities allow today: `read` for every active user, `write`
    only with a capability that changes data, `admin` only with `org.manage`.

    A token never exceeds its owner: the scopes are capped when the token is minted and again
    on every request (a role that loses a capability loses it on existing tokens too)."""
    capabilities = capabilities_of(user)
    if not is_active_user(user):
        return frozenset()
    allowed = {"read"}
    if capabilities & WRITE_CAPABILITIES:
        allowed.add("write")
    if MANAGE_ORGANISATION in capabilities:
        allowed.add("admin")
    return frozenset(allowed)


def can_save_views(user: Actor) -> bool:
    """Saved views are shared state (a view can be shared with a team): read-only users
    (no capability that changes data) look at lists but do not save views."""
    return bool(capabilities_of(user)) and not is_read_only(user)


# A scope implies the lesser ones: admin > write > read.
_IMPLIED_SCOPES = {"read": {"read"}, "write": {"read", "write"}, "admin": {"read", "write", "admin"}}


def effective_token_scopes(scopes: Any, user: Actor) -> frozenset[str]:
    """What a token may do on this request: its scopes (with the lesser ones they imply),
    capped by what its owner's roles allow now."""
    granted: set[str] = set()
    for scope in scopes:
        granted |= _IMPLIED_SCOPES.get(scope, set())
    return frozenset(granted) & token_scopes_allowed(user)


def leads_a_team(user: Actor) -> bool:
    """True for an active user who is the lead of a team: approvals are routed to the leads up
    the team hierarchy, whatever their roles. The leads are cached per process until a team
    changes (`core.refcache`), so asking costs no query."""
    if not is_active_user(user):
        return False
    return user.pk in refcache.cached("team_lead_ids", _team_lead_ids)


def _team_lead_ids() -> frozenset[int]:
    from leitplanke.accounts.models import Team

    return frozenset(Team.objects.filter(lead__isnull=False).values_list("lead_id", flat=True))


def may_approve(user: Actor) -> bool:
    """Who may be asked to approve a decision (and so sees the approvals inbox): holders of
    `teams.lead` or `org.manage`, and the leads of teams."""
    codes = capabilities_of(user)
    return LEAD_TEAM in codes or MANAGE_ORGANISATION in codes or leads_a_team(user)
