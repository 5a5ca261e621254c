from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "leitplanke.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from . import checks, storedfiles, tasks  # noqa: F401  (system checks, periodic jobs, settling staged files)
