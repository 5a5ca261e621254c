from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "leitplanke.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from . import storedfiles, tasks  # noqa: F401  (periodic jobs; settling staged files after each request)
