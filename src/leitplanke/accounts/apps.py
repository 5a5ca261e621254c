from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "leitplanke.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from leitplanke.core import refcache

        from .models import Role, User

        refcache.watch([Role], m2m_through=[User.roles.through])
