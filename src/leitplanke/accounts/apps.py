from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "leitplanke.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from leitplanke.core import refcache

        from .models import ApiToken, Role, Team, User

        # Tokens with their users are cached for API authentication: a revoked token or a
        # deactivated user must fail on the next request (ADR 0004). A user's team ids are
        # cached for case visibility (cases.permissions.team_ids_of): teams and memberships too.
        # Team: who leads a team may approve decisions (`permissions.leads_a_team`).
        refcache.watch([Role, ApiToken, User, Team], m2m_through=[User.roles.through, User.teams.through])
