from django.apps import AppConfig


class ProcessesConfig(AppConfig):
    name = "leitplanke.processes"
    label = "processes"
    verbose_name = "Processes"

    def ready(self) -> None:
        from leitplanke.core import refcache

        from .models import ProcessDefinition

        refcache.watch([ProcessDefinition])
