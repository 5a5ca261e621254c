from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "leitplanke.cases"
    label = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from leitplanke.core import refcache

        from .models import CaseType, CustomFieldDefinition

        refcache.watch([CaseType, CustomFieldDefinition])
