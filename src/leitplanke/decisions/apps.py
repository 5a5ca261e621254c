from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    name = "leitplanke.decisions"
    label = "decisions"
    verbose_name = "Decisions"

    def ready(self) -> None:
        from . import approval_tasks  # noqa: F401  (registers the approval reminder job)
