from django.apps import AppConfig


class DeadlinesConfig(AppConfig):
    name = "leitplanke.deadlines"
    label = "deadlines"
    verbose_name = "Deadlines"

    def ready(self) -> None:
        from leitplanke.accounts.models import Organisation
        from leitplanke.core import refcache

        from .models import DeadlineRule, DeadlineSettings

        # the organisation's time zone and calendar region are the defaults of every clock
        refcache.watch([DeadlineRule, DeadlineSettings, Organisation])
