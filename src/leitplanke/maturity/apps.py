from django.apps import AppConfig


class MaturityConfig(AppConfig):
    name = "leitplanke.maturity"
    label = "maturity"
    verbose_name = "Maturity check"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the pruning of expired anonymous checks)
