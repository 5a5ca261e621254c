from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "leitplanke.accounts"
    label = "accounts"
    verbose_name = "Accounts"
