from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    name = "leitplanke.decisions"
    label = "decisions"
    verbose_name = "Decisions"

    def ready(self) -> None:
        from leitplanke.core import refcache

        from .models import DecisionTable

        # The published version of a key is cached per reference generation (table_selectors).
        refcache.watch([DecisionTable])
        from . import approval_tasks  # noqa: F401  (registers the approval reminder job)
