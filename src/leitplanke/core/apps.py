from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "leitplanke.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers periodic jobs)
